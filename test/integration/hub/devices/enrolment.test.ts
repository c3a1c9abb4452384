/**
 * S4 enrolment against the real hub: token → pending → nothing accepted → approve → accepted; revoke → disconnected
 * at once and refused; wrong, used-up and expired tokens refused; re-keying. Real aedes, MQTT.js, fastify, influxd.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolPassword } from '../../../../hub/devices/enrolment.js';
import type { HubEvents } from '../../../../hub/event-bus.js';
import { packageVersion } from '../../../../hub/main.js';
import { totpCode } from '../../../../hub/users/totp.js';
import type { Report, ReportAck } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import { connectClient, type HubFixture, startTestHub, waitFor } from '../../../support/hub-fixture.js';

const id = 'room-2-locker-b';
const secret = 'my-own-device-secret-0123456789';

interface Api {
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

async function signIn(baseUrl: string, username: string, password: string): Promise<Api> {
  const login = await fetch(`${baseUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  let response = login;
  const first = (await login.json()) as { data: { csrf?: string; loginToken?: string; secret?: string } };
  let data = first.data;
  if (data.loginToken && data.secret) {
    // S3: admins enrol a TOTP second factor at first sign-in.
    response = await fetch(`${baseUrl}/api/login/totp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ loginToken: data.loginToken, code: totpCode(data.secret, Date.now()) }),
    });
    data = ((await response.json()) as { data: typeof data }).data;
  }
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return {
    async call(method, path, body) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          cookie,
          'x-csrf-token': data.csrf as string,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as never };
    },
  };
}

function report(seq: number): Report {
  return { v: 1, id: `${id}:${seq}`, seq, ts: Date.now(), urgency: 'normal', pressMs: 120, queuedMs: 0 };
}

describe('device enrolment (S4)', () => {
  let fixture: HubFixture;
  let admin: Api;
  let token: string;
  const changes: HubEvents['device.changed'][] = [];
  const clients: MqttClient[] = [];

  const connect = (password: string, clientId = id) =>
    connectClient(fixture.hub.mqttPort, { clientId, username: clientId, password }).then((c) => {
      clients.push(c);
      return c;
    });

  beforeAll(async () => {
    fixture = await startTestHub();
    fixture.hub.bus.on('device.changed', (e) => {
      changes.push(e);
    });
    const first = fixture.hub.firstRunAdmin as { username: string; password: string };
    admin = await signIn(fixture.hub.httpUrl, first.username, first.password);
    const issued = await admin.call<{ data: { token: string; record: { maxUses: number } } }>(
      'POST',
      '/api/enrolment-tokens',
      { maxUses: 1, ttlMinutes: 60 },
    );
    expect(issued.status).toBe(200);
    token = issued.body.data.token;
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await fixture?.dispose();
  });

  it('S4: an unknown device with a valid token becomes pending and is not let in', async () => {
    await expect(connect(enrolPassword(token, secret))).rejects.toThrow(/Not authorized/i);
    const list = await admin.call<{ data: { id: string; status: string; room: string }[] }>(
      'GET',
      '/api/devices',
    );
    expect(list.body.data.find((d) => d.id === id)).toMatchObject({ status: 'pending', room: 'unassigned' });
    expect(changes).toContainEqual(
      expect.objectContaining({ who: `device:${id}`, what: 'enrolled', device: id }),
    );
    // S6: audited in the enrolment's own batch, whether or not any listener had started.
    expect(await fixture.hub.audit.list()).toContainEqual(
      expect.objectContaining({ actor: `device:${id}`, action: 'device.enrolled', target: id }),
    );
    // Hashed at rest: neither the token nor the secret is stored in clear.
    const raw = JSON.stringify([
      await fixture.hub.db.values('devices'),
      await fixture.hub.db.values('enrolment'),
    ]);
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain(token);
  });

  it('S4: a pending device stays refused with its own secret, and nothing from it reaches ingest', async () => {
    const before = { ...fixture.hub.ingest.stats };
    await expect(connect(secret)).rejects.toThrow(/Not authorized/i);
    await expect(connect(enrolPassword(token, secret))).rejects.toThrow(/Not authorized/i); // retry: no new use
    expect(fixture.hub.ingest.stats).toEqual(before);
    expect(fixture.hub.rejects.snapshot()['auth: awaiting approval']).toBeGreaterThanOrEqual(3);
  });

  it('S4: a used-up, unknown, malformed or expired token is refused and creates nothing', async () => {
    await expect(connect(enrolPassword(token, secret), 'another-device')).rejects.toThrow(/Bad username/i);
    await expect(connect(enrolPassword('x'.repeat(43), secret), 'another-device')).rejects.toThrow(
      /Bad username/i,
    );
    await expect(connect(enrolPassword('short', secret), 'another-device')).rejects.toThrow(/Bad username/i);
    const expired = await fixture.hub.devices.tokens.issue({
      maxUses: 5,
      ttlMs: 60_000,
      createdBy: 'test',
      now: Date.now() - 120_000,
    });
    await expect(connect(enrolPassword(expired.token, secret), 'another-device')).rejects.toThrow(
      /Bad username/i,
    );
    expect(await fixture.hub.registry.get('another-device')).toBeUndefined();
    const counts = fixture.hub.rejects.snapshot();
    expect(counts['auth: enrolment token used up']).toBe(1);
    expect(counts['auth: unknown enrolment token']).toBe(1);
    expect(counts['auth: malformed enrolment token']).toBe(1);
    expect(counts['auth: enrolment token expired']).toBe(1);
  });

  it('S5: approval needs the devices:approve permission, a CSRF token and a real room', async () => {
    const noCsrf = await fetch(`${fixture.hub.httpUrl}/api/devices/${id}/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ room: 'room-2' }),
    });
    expect(noCsrf.status).toBe(401);
    const badRoom = await admin.call('POST', `/api/devices/${id}/approve`, { room: 'no-such-room' });
    expect(badRoom.status).toBe(400);
    expect((await fixture.hub.registry.get(id))?.status).toBe('pending');
  });

  it('D4: the approver enters serial and installed date; a bad date is refused and changes nothing', async () => {
    const bad = await admin.call('POST', `/api/devices/${id}/approve`, {
      room: 'room-2',
      serial: 'PA-0042',
      installed: '1 September',
    });
    expect(bad.status).toBe(400);
    expect((await fixture.hub.registry.get(id))?.status).toBe('pending');
  });

  it('S4, D4: once an admin approves it (with serial and installed date), the device connects and its report is stored and acknowledged', async () => {
    const approved = await admin.call<{ data: { status: string; room: string } }>(
      'POST',
      `/api/devices/${id}/approve`,
      { room: 'room-2', lockerMode: 'lesson', serial: 'PA-0042', installed: '2026-09-01' },
    );
    expect(approved.status).toBe(200);
    expect(approved.body.data).toMatchObject({ status: 'approved', room: 'room-2' });
    // D4: the inventory row is complete: room, locker mode, serial, installed date, status.
    const inventory = await admin.call<{ data: Record<string, unknown>[] }>('GET', '/api/devices');
    expect(inventory.body.data.find((d) => d.id === id)).toMatchObject({
      id,
      site: 'demo-school',
      room: 'room-2',
      lockerMode: 'lesson',
      serial: 'PA-0042',
      installed: '2026-09-01',
      status: 'approved',
    });
    const device = await connect(secret);
    const address = { site: 'demo-school', room: 'room-2', device: id };
    const acks: ReportAck[] = [];
    device.on('message', (_t, payload) => acks.push(JSON.parse(payload.toString()) as ReportAck));
    await device.subscribeAsync(topics.deviceInbox(address), { qos: 1 });
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(report(1)), { qos: 1 });
    await waitFor(() => acks.find((a) => a.id === `${id}:1`), 'report ack');
    expect(await fixture.hub.incidents.findByEvent(`${id}:1`)).toMatchObject({ room: 'room-2' });
    expect(await fixture.hub.audit.list()).toContainEqual(
      expect.objectContaining({ actor: 'admin', action: 'device.approved', target: id }),
    );
  });

  it('S8: a fleet that is all on old software is flagged against the hub version, not the newest in the fleet', async () => {
    const device = clients.at(-1) as MqttClient;
    const address = { site: 'demo-school', room: 'room-2', device: id };
    const beat = {
      v: 1,
      id: `${id}:2`,
      seq: 2,
      ts: Date.now(),
      uptimeS: 9,
      software: '0.0.9',
      queued: 0,
      board: 'emulated-uno',
    };
    await device.publishAsync(topics.event(address, 'heartbeat'), JSON.stringify(beat), { qos: 1 });
    await waitFor(
      async () => (await fixture.hub.registry.list()).find((d) => d.id === id)?.software === '0.0.9',
      'software recorded',
    );
    // Every device that reports a version runs 0.0.9: the newest in the fleet is 0.0.9, yet all are out of date.
    const reported = (await fixture.hub.registry.list()).filter((d) => d.software);
    expect(reported.map((d) => d.software)).toEqual(['0.0.9']);
    const status = await admin.call<{ data: { expected: string; source: string; outOfDate: string[] } }>(
      'GET',
      '/api/software',
    );
    expect(status.body.data).toEqual({ expected: packageVersion(), source: 'hub', outOfDate: [id] });
  });

  it('S4: revocation disconnects the device at once and refuses it afterwards', async () => {
    const device = clients.at(-1) as MqttClient;
    expect(device.connected).toBe(true);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    const revoked = await admin.call('POST', `/api/devices/${id}/revoke`);
    expect(revoked.status).toBe(200);
    await closed;
    await expect(connect(secret)).rejects.toThrow(/Bad username or password/i);
    await expect(connect(enrolPassword(token, secret))).rejects.toThrow(/Bad username or password/i);
    expect(changes.filter((c) => c.device === id).map((c) => c.what)).toEqual([
      'enrolled',
      'approved',
      'revoked',
    ]);
  });

  it('S1: rotating a secret returns the new one once; the old one stops working and the device is dropped', async () => {
    const added = await admin.call<{ data: { secret: string } }>('POST', '/api/devices', {
      id: 'room-3-spare',
      room: 'room-3',
      lockerMode: 'lesson',
    });
    expect(added.status).toBe(200);
    const oldSecret = added.body.data.secret;
    const device = await connect(oldSecret, 'room-3-spare');
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    const rotated = await admin.call<{ data: { secret: string } }>(
      'POST',
      '/api/devices/room-3-spare/rotate',
    );
    expect(rotated.status).toBe(200);
    await closed;
    await expect(connect(oldSecret, 'room-3-spare')).rejects.toThrow(/Bad username or password/i);
    const again = await connect(rotated.body.data.secret, 'room-3-spare');
    expect(again.connected).toBe(true);
    const list = await admin.call<{ data: unknown[] }>('GET', '/api/devices');
    expect(JSON.stringify(list.body)).not.toContain(rotated.body.data.secret);
  });
});
