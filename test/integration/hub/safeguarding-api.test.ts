/**
 * Incident workflow, role boundaries, sign-in with TOTP and lockout, accounts and audit over the real HTTP API of a
 * real hub (aedes, LevelDB, private influxd). Reports arrive from a device over MQTT.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportAck } from '../../../schemas/messages.js';
import { topics } from '../../../schemas/topics.js';
import { connectClient, type HubFixture, startTestHub, waitFor } from '../../support/hub-fixture.js';
import { data, StaffClient } from '../../support/staff-client.js';

const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const PASSWORD = 'tulip lantern orbit 42';

interface Listing {
  items: { id: string; ref: string; status: string; ageMs: number }[];
  unacknowledged: number;
  oldestUnacknowledgedAgeMs: number | null;
}

describe('safeguarding API (R2–R6, S1–S3, S5, S6)', () => {
  let fixture: HubFixture;
  let device: MqttClient;
  const acks: ReportAck[] = [];
  let seq = 0;
  const staff: Record<string, StaffClient> = {};

  async function report(): Promise<string> {
    seq += 1;
    const id = `${address.device}:${seq}`;
    const payload = { v: 1, id, seq, ts: Date.now(), urgency: 'urgent', pressMs: 150, queuedMs: 0 };
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(payload), { qos: 1 });
    return (await waitFor(() => acks.find((a) => a.id === id), 'report ack')).ref;
  }

  beforeAll(async () => {
    fixture = await startTestHub();
    const { hub } = fixture;
    await hub.registry.provision({
      id: address.device,
      address,
      secret: 'device-secret-123456',
      lockerMode: 'lesson',
      now: Date.now(),
    });
    device = await connectClient(hub.mqttPort, {
      clientId: address.device,
      username: address.device,
      password: 'device-secret-123456',
    });
    device.on('message', (topic, payload) => {
      if (topic === topics.reportAck(address)) acks.push(JSON.parse(payload.toString()) as ReportAck);
    });
    await device.subscribeAsync(topics.deviceInbox(address), { qos: 1 });
    const roles = {
      coord: ['coordinator'],
      dsl1: ['dsl'],
      head1: ['head'],
      gov1: ['governor'],
      office1: ['office'],
      teacher1: ['teacher'],
      itadmin: ['admin'],
    } as const;
    for (const [name, r] of Object.entries(roles)) {
      await hub.users.add(name, PASSWORD, [...r], Date.now());
      staff[name] = new StaffClient(hub.httpUrl, name, PASSWORD);
      expect((await staff[name].signIn()).status).toBe(200);
    }
    const admin = hub.firstRunAdmin;
    if (!admin) throw new Error('no first-run admin');
    staff.admin = new StaffClient(hub.httpUrl, admin.username, admin.password);
  });

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
  });

  it('S3: the first-run admin must enrol TOTP before any session exists', async () => {
    const admin = staff.admin as StaffClient;
    const first = await admin.post<Record<string, unknown>>('/api/login', {
      username: 'admin',
      password: admin.password,
    });
    expect(data(first)).toMatchObject({
      needsTotpEnrolment: true,
      otpauthUri: expect.stringMatching(/^otpauth:\/\/totp\//),
    });
    expect(admin.cookie).toBe('');
    expect((await admin.get('/api/session')).status).toBe(401);
    admin.totpSecret = (data(first) as { secret: string }).secret;
    // Enrol through the client's own flow (a fresh password step, then the code).
    const signed = await admin.signIn();
    expect(signed.status).toBe(200);
    expect(data(await admin.get<{ username: string }>('/api/session')).username).toBe('admin');
    const again = await new StaffClient(fixture.hub.httpUrl, 'admin', admin.password).post<
      Record<string, unknown>
    >('/api/login', { username: 'admin', password: admin.password });
    expect(data(again)).toEqual({ needsTotp: true, loginToken: expect.any(String) });
  });

  it('R3, R4: the coordinator sees a new report in the inbox with the unacknowledged count and age', async () => {
    const ref = await report();
    const listing = data(await (staff.coord as StaffClient).get<Listing>('/api/incidents'));
    expect(listing.unacknowledged).toBeGreaterThanOrEqual(1);
    expect(listing.oldestUnacknowledgedAgeMs).toBeGreaterThanOrEqual(0);
    expect(listing.items.find((i) => i.ref === ref)).toMatchObject({
      status: 'reported',
      ageMs: expect.any(Number),
    });
  });

  it('S5, R4: office, teacher and admin (unless also head or DSL) cannot open incidents (403)', async () => {
    const ref = await report();
    for (const name of ['office1', 'teacher1', 'itadmin']) {
      const client = staff[name] as StaffClient;
      expect((await client.get('/api/incidents')).status, name).toBe(403);
      expect((await client.get(`/api/incidents/${ref}`)).status, name).toBe(403);
      expect((await client.post(`/api/incidents/${ref}/acknowledge`)).status, name).toBe(403);
      expect((await client.get(`/api/incidents/${ref}/export`)).status, name).toBe(403);
    }
  });

  it('R3, R6: acknowledge → note with referral → close, attributed, with chronology and hand-off export', async () => {
    const coord = staff.coord as StaffClient;
    const ref = await report();
    expect((await coord.post(`/api/incidents/${ref}/acknowledge`, {}, { csrf: false })).body).toMatchObject({
      error: { code: 'E_CSRF' },
    });
    expect((await coord.post(`/api/incidents/${ref}/note`, { text: 'too early' })).status).toBe(409);
    expect(data(await coord.post(`/api/incidents/${ref}/acknowledge`))).toMatchObject({
      status: 'acknowledged',
    });
    expect((await coord.post(`/api/incidents/${ref}/acknowledge`)).status).toBe(409);

    const bad = await coord.post(`/api/incidents/${ref}/note`, { text: 'x'.repeat(4001), extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'E_VALIDATION' } });

    const markup = '<img src=x onerror=alert(1)> spoke to the class teacher';
    await coord.post(`/api/incidents/${ref}/note`, {
      text: markup,
      referral: { agency: 'ceop', date: '2026-06-10' },
    });
    const dsl = staff.dsl1 as StaffClient;
    expect(
      (await dsl.post(`/api/incidents/${ref}/close`, { outcome: 'Handled.', category: 'gossip' })).status,
    ).toBe(400);
    expect(
      data(
        await dsl.post(`/api/incidents/${ref}/close`, {
          outcome: 'Referred and handled.',
          category: 'contact',
        }),
      ),
    ).toMatchObject({ status: 'closed', category: 'contact' });
    expect((await dsl.post(`/api/incidents/${ref}/note`, { text: 'after close' })).status).toBe(409);

    const incident = data(
      await coord.get<{ steps: { action: string; by: string; note?: string }[] }>(`/api/incidents/${ref}`),
    );
    expect(incident.steps.map((s) => [s.action, s.by])).toEqual([
      ['reported', 'device:room-1-locker'],
      ['acknowledged', 'user:coord'],
      ['action-noted', 'user:coord'],
      ['closed', 'user:dsl1'],
    ]);
    expect(incident.steps[2]?.note).toBe(markup); // stored as text, verbatim; the dashboard renders it inert

    const json = data(await coord.get<Record<string, unknown>>(`/api/incidents/${ref}/export`));
    expect(json).toMatchObject({
      reference: ref,
      recordedBy: 'coord',
      category: 'contact',
      outcome: 'Referred and handled.',
    });
    const csv = await coord.get(`/api/incidents/${ref}/export?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text.split('\r\n')[0]).toContain('reference,date,time,recorded_by,category');
    const text = await coord.get(`/api/incidents/${ref}/export?format=text`);
    expect(text.text).toContain(`Safeguarding incident ${ref}`);
    expect(text.text).toContain('referred to CEOP on 2026-06-10');
  });

  it('R6: a concern about the head is routed to the chair of governors and hidden from the head', async () => {
    const ref = await report();
    const head = staff.head1 as StaffClient;
    expect((await head.post(`/api/incidents/${ref}/route`, { to: 'governor' })).status).toBe(403);
    expect(
      (await (staff.coord as StaffClient).post(`/api/incidents/${ref}/route`, { to: 'governor' })).status,
    ).toBe(200);
    expect((await head.get(`/api/incidents/${ref}`)).status).toBe(404);
    expect(data(await head.get<Listing>('/api/incidents')).items.some((i) => i.ref === ref)).toBe(false);
    const gov = staff.gov1 as StaffClient;
    expect(data(await gov.get<Listing>('/api/incidents')).items.map((i) => i.ref)).toEqual([ref]);
    expect(data(await gov.post(`/api/incidents/${ref}/acknowledge`))).toMatchObject({
      status: 'acknowledged',
    });
  });

  it('S6: every step and account change is in the hash-chained audit log, without incident text', async () => {
    const admin = staff.admin as StaffClient;
    const head = staff.head1 as StaffClient;
    expect((await (staff.coord as StaffClient).get('/api/audit')).status).toBe(403);
    const entries = data(await admin.get<{ action: string; target: string }[]>('/api/audit?limit=500'));
    const actions = entries.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.add', 'user.enrol-totp']));
    // R4: the administrator reads no incident, so no row about one either; the head reads those it may see.
    expect(entries.filter((e) => e.target.startsWith('incident:'))).toEqual([]);
    const headRows = data(await head.get<{ action: string; target: string }[]>('/api/audit?limit=500'));
    expect(headRows.map((e) => e.action)).toEqual(
      expect.arrayContaining(['incident.acknowledged', 'incident.closed']),
    );
    expect(JSON.stringify(entries)).not.toContain('onerror');
    expect(JSON.stringify(headRows)).not.toContain('onerror');
    expect(data(await admin.get('/api/audit/verify'))).toMatchObject({ ok: true, checked: entries.length });
    const exported = await admin.get('/api/audit/export');
    const lines = exported.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(entries.length);
    // No sequence numbers or hashes: gaps would give hidden rows away.
    for (const line of lines)
      for (const field of ['seq', 'prev', 'hash']) expect(line).not.toHaveProperty(field);
    // Paging by cursor reaches every row once, newest first.
    const first = data(await admin.get<{ cursor: string; at: number }[]>('/api/audit?limit=3'));
    const next = data(
      await admin.get<{ cursor: string }[]>(
        `/api/audit?limit=500&before=${encodeURIComponent(first[2]?.cursor ?? '')}`,
      ),
    );
    expect(first.length + next.length).toBe(entries.length);
    expect((await admin.get('/api/audit?before=12')).status).toBe(400);
  });

  it('S1, S5: admins manage accounts; weak passwords refused; a disabled account loses its session', async () => {
    const admin = staff.admin as StaffClient;
    expect((await (staff.office1 as StaffClient).get('/api/users')).status).toBe(403);
    expect(
      (
        await (staff.head1 as StaffClient).post('/api/users', {
          username: 'x1',
          password: PASSWORD,
          roles: ['office'],
        })
      ).status,
    ).toBe(403);
    const weak = await admin.post('/api/users', {
      username: 'newbie',
      password: 'password1234',
      roles: ['teacher'],
    });
    expect(weak.status).toBe(400);
    expect(weak.body).toMatchObject({ error: { fields: ['password: too common'] } });
    expect(
      (await admin.post('/api/users', { username: 'newbie', password: PASSWORD, roles: ['teacher'] })).status,
    ).toBe(201);
    const users = data(await admin.get<{ username: string; totpEnrolled: boolean }[]>('/api/users'));
    expect(users.find((u) => u.username === 'coord')).toMatchObject({ totpEnrolled: true });
    expect(JSON.stringify(users)).not.toMatch(/passwordHash|totpSecret|scrypt/);

    const teacher = staff.teacher1 as StaffClient;
    expect((await teacher.get('/api/session')).status).toBe(200);
    expect((await admin.post('/api/users/teacher1/disable', { disabled: true })).status).toBe(200);
    expect((await teacher.get('/api/session')).status).toBe(401);
    expect((await teacher.signIn()).status).toBe(401);
    expect((await admin.post('/api/users/itadmin/disable', { disabled: true })).status).toBe(200);
    // S5: no account disables itself (nor, with it, the last administrator).
    expect((await admin.post('/api/users/admin/disable', { disabled: true })).body).toMatchObject({
      error: { code: 'E_SELF' },
    });
  });

  it('S3, S5: resetting the second factor of a report reader waits for the head, then forces re-enrolment', async () => {
    const admin = staff.admin as StaffClient;
    const requested = await admin.post<{ pending: { id: string } }>('/api/users/dsl1/reset-totp');
    expect(requested.status).toBe(202);
    const dsl = new StaffClient(fixture.hub.httpUrl, 'dsl1', PASSWORD);
    expect(data(await dsl.post('/api/login', { username: 'dsl1', password: PASSWORD }))).toMatchObject({
      needsTotp: true,
    });
    const { id } = data(requested).pending;
    expect(data(await (staff.head1 as StaffClient).post(`/api/approvals/${id}/approve`))).toMatchObject({
      totpEnrolled: false,
      mustChangePassword: true,
    });
    const login = data(
      await dsl.post<Record<string, unknown>>('/api/login', { username: 'dsl1', password: PASSWORD }),
    );
    expect(login.needsTotp).toBeUndefined();
    expect(login.csrf).toBeUndefined();
  });

  it('S1: five wrong passwords hold the account back (429 with Retry-After), the right one then too', async () => {
    await fixture.hub.users.add('locked1', PASSWORD, ['office'], Date.now());
    const client = new StaffClient(fixture.hub.httpUrl, 'locked1', PASSWORD);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1)
      statuses.push(
        (await client.post('/api/login', { username: 'locked1', password: 'not the password' })).status,
      );
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const locked = await client.post('/api/login', { username: 'locked1', password: PASSWORD });
    expect(locked.status).toBe(429);
    // A growing wait, not a fixed lock: 30 s after the fifth failure (login-limits.test.ts attacks it further).
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(30);
  });
});
