/**
 * The policy driver, exemptions, emergency release and the compliance record against the real hub: real aedes,
 * a real MQTT.js client as a provisioned device, fastify with real sign-in, LevelDB and a private influxd. Time is a
 * fake clock the test moves; the driver and recorder are driven with tick(now).
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClock, zonedTime } from '../../../../hub/policy/calendar.js';
import { totpCode } from '../../../../hub/users/totp.js';
import type { Command, LockerState } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import { connectClient, type HubFixture, startTestHub, waitFor } from '../../../support/hub-fixture.js';

const WED = '2026-09-02'; // first day of the autumn term in the demo school
const at = (hhmm: string) => zonedTime(WED, parseClock(hhmm), 'Europe/London');
const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const secret = 'correct-horse-battery-staple-7';

interface Api {
  call<T = { status: string; data: never; error?: { code: string } }>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  text(path: string): Promise<{ status: number; type: string; body: string }>;
}

/** TOTP secrets enrolled at first sign-in, by username. */
const totpSecrets = new Map<string, string>();

async function signIn(baseUrl: string, username: string, password: string, now: number): Promise<Api> {
  const post = (path: string, body: unknown) =>
    fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  let response = await post('/api/login', { username, password });
  let data = ((await response.json()) as { data: { csrf?: string; loginToken?: string; secret?: string } })
    .data;
  if (data.secret) totpSecrets.set(username, data.secret);
  const totp = totpSecrets.get(username);
  if (data.loginToken && totp) {
    // S3: the head enrols a TOTP second factor at first sign-in, and gives a code at every later one (codes on the
    // hub's fake clock).
    response = await post('/api/login/totp', {
      loginToken: data.loginToken,
      code: totpCode(totp, now),
    });
    data = ((await response.json()) as { data: typeof data }).data;
  }
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return {
    async call(method, path, body) {
      const r = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          cookie,
          'x-csrf-token': data.csrf as string,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: r.status, body: (await r.json()) as never };
    },
    async text(path) {
      const r = await fetch(`${baseUrl}${path}`, { headers: { cookie } });
      return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
    },
  };
}

describe('policy driver, exemptions, emergency release, compliance (real hub)', () => {
  let fixture: HubFixture;
  let device: MqttClient;
  let clock = at('08:35');
  let head: Api;
  const commands: Command[] = [];
  const last = (kind: Command['kind']) => commands.filter((c) => c.kind === kind).at(-1);

  const publishState = (ts: number, locked: boolean, doorOpen: boolean) => {
    const state: LockerState = {
      v: 1,
      ts,
      locked,
      doorOpen,
      phones: 3,
      slots: 12,
      keyOn: false,
      mode: 'lesson',
    };
    return device.publishAsync(topics.state(address, 'locker'), JSON.stringify(state), {
      qos: 1,
      retain: true,
    });
  };

  beforeAll(async () => {
    fixture = await startTestHub({ now: () => clock });
    await fixture.hub.registry.provision({
      id: address.device,
      address,
      secret,
      lockerMode: 'lesson',
      now: clock,
    });
    await fixture.hub.users.add('head', 'Lantern-orchard-91-quay', ['head'], clock);
    await fixture.hub.users.add('teacher', 'Copper-meadow-57-ridge', ['teacher'], clock);
    device = await connectClient(fixture.hub.mqttPort, {
      clientId: address.device,
      username: address.device,
      password: secret,
    });
    device.on('message', (topic, payload) => {
      if (topic.startsWith(topics.set(address, 'lock').replace(/lock$/, '')))
        commands.push(JSON.parse(payload.toString()) as Command);
    });
    await device.subscribeAsync(topics.deviceInbox(address), { qos: 1 });
  });

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
  });

  it("a device (re)connecting finds the current decision and today's schedule retained", async () => {
    const schedule = await waitFor(
      () => commands.find((c) => c.kind === 'schedule' && c.date === WED),
      'retained schedule',
    );
    expect(schedule).toMatchObject({ kind: 'schedule', timezone: 'Europe/London', otherwise: 'phones-away' });
    if (schedule.kind !== 'schedule') throw new Error('not a schedule');
    expect(schedule.entries.filter((e) => e.locked).map((e) => e.start)).toEqual([
      '08:40',
      '09:00',
      '10:00',
      '11:20',
      '13:10',
      '14:10',
    ]);
    expect(await waitFor(() => last('lock'), 'retained lock')).toMatchObject({
      locked: false,
      reason: 'timetable',
    });
    // Retained commands arrive in the broker's order, not the order they were sent: wait for this one too.
    expect(await waitFor(() => last('signage'), 'retained signage')).toMatchObject({ mode: 'phones-away' });
  });

  it('P1, P5: at registration (08:40) the locker is commanded locked, and stays locked into the 09:00 lesson', async () => {
    clock = at('08:40');
    await fixture.hub.policy.driver.tick(clock);
    const lock = await waitFor(
      () => commands.find((c) => c.kind === 'lock' && c.ts === at('08:40')),
      'lock at 08:40',
    );
    expect(lock).toMatchObject({ locked: true, reason: 'timetable' });
    // A teacher's key left it open before the bell (reported by the device); the hub never unlocks it.
    await publishState(at('08:56'), false, false);
    clock = at('09:00');
    await fixture.hub.policy.driver.tick(clock);
    await fixture.hub.policy.driver.idle();
    expect(
      commands
        .filter((c) => c.kind === 'lock' && c.ts >= at('08:40'))
        .every((c) => c.kind === 'lock' && c.locked),
    ).toBe(true);
    // The device locks and shuts the door two minutes in (within the 5-minute grace).
    await publishState(at('09:02'), true, false);
  });

  it('D5, P1, P5: at the end of the lesson its compliance lands in InfluxDB, registration with it, and the day roll-up counts both', async () => {
    clock = at('10:00');
    await fixture.hub.policy.compliance.tick(clock);
    await fixture.hub.outbox.drain();
    const series = await fixture.hub.store.query(
      `SELECT * FROM "compliance_lesson" WHERE "room" = 'room-1' AND "period" = 'p1'`,
    );
    const row = Object.fromEntries(series[0]?.columns.map((c, i) => [c, series[0]?.values[0]?.[i]]) ?? []);
    expect(row).toMatchObject({
      time: at('09:00'),
      scheduled_min: 60,
      locked_closed_min: 58,
      breach_min: 2,
      offline_min: 0,
      grace: 'met',
      device: 'room-1-locker',
    });
    // P1, P5: registration (08:40–09:00) is formal school time, so it is a slot of its own in the record: nothing
    // known until 08:56 (offline, 16 min), then unlocked (breach, 4 min).
    const reg = await fixture.hub.store.query(
      `SELECT "scheduled_min", "offline_min", "breach_min", "locked_closed_min" FROM "compliance_lesson" WHERE "room" = 'room-1' AND "period" = 'reg'`,
    );
    expect(reg[0]?.values[0]).toEqual([at('08:40'), 20, 16, 4, 0]);
    // The day roll-up counts both slots: 20 + 60 due minutes, 58 of them locked.
    const day = await fixture.hub.store.query(
      `SELECT "lessons", "due_min", "locked_closed_min" FROM "compliance_day" WHERE "room" = 'room-1'`,
    );
    expect(day[0]?.values[0]).toEqual([zonedTime(WED, 0, 'Europe/London'), 2, 80, 58]);
    // A room whose locker never reported is unknown, not compliant.
    const room2 = await fixture.hub.store.query(
      `SELECT "offline_min", "ratio" FROM "compliance_lesson" WHERE "room" = 'room-2' AND "period" = 'p1'`,
    );
    expect(room2[0]?.values[0]?.slice(1)).toEqual([60, 0]);
  });

  it('D5: a late event re-rolls the lesson and overwrites the same point', async () => {
    // The device replays a journal entry: the door was open 09:30–09:40.
    await publishState(at('09:30'), true, true);
    await publishState(at('09:40'), true, false);
    await fixture.hub.policy.compliance.idle();
    await fixture.hub.outbox.drain();
    const series = await fixture.hub.store.query(
      `SELECT "locked_closed_min", "breach_min" FROM "compliance_lesson" WHERE "room" = 'room-1' AND "period" = 'p1'`,
    );
    expect(series[0]?.values).toEqual([[at('09:00'), 48, 12]]);
  });

  it('P6: a teacher may only request; the head grants, the sign shows authorised use, revocation restores it', async () => {
    clock = at('10:05');
    await fixture.hub.policy.driver.tick(clock);
    const teacher = await signIn(fixture.hub.httpUrl, 'teacher', 'Copper-meadow-57-ridge', clock);
    const requested = await teacher.call<{ data: { id: string; status: string } }>(
      'POST',
      '/api/exemptions',
      {
        room: 'room-1',
        period: 'p2',
        date: WED,
        reason: 'Year 9 data logging with phones',
      },
    );
    expect(requested).toMatchObject({ status: 201, body: { data: { status: 'requested' } } });
    expect(last('signage')).toMatchObject({ mode: 'phones-away' });
    expect((await teacher.call('POST', '/api/emergency-release', { confirm: true })).status).toBe(403);

    head = await signIn(fixture.hub.httpUrl, 'head', 'Lantern-orchard-91-quay', clock);
    const bad = await head.call<{ error: { fields: string[] } }>('POST', '/api/exemptions', {
      room: 'room-9',
      period: 'p2',
      date: WED,
      reason: 'x',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.join()).toMatch(/reason/);
    const granted = await head.call<{ data: { status: string } }>(
      'POST',
      `/api/exemptions/${requested.body.data.id}/grant`,
    );
    expect(granted).toMatchObject({ status: 200, body: { data: { status: 'granted' } } });
    await waitFor(
      () => (last('signage') as { mode?: string }).mode === 'authorised-use',
      'authorised-use signage',
    );
    expect(last('lock')).toMatchObject({ locked: false, reason: 'exemption' });
    const sched = commands.filter((c) => c.kind === 'schedule').at(-1);
    expect(sched?.kind === 'schedule' && sched.entries.find((e) => e.start === '10:00')).toMatchObject({
      signage: 'authorised-use',
    });

    clock = at('10:10');
    const revoked = await head.call<{ data: { status: string } }>(
      'POST',
      `/api/exemptions/${requested.body.data.id}/revoke`,
      { note: 'lesson plan changed' },
    );
    expect(revoked).toMatchObject({ status: 200, body: { data: { status: 'revoked' } } });
    await waitFor(() => (last('signage') as { mode?: string }).mode === 'phones-away', 'signage back');
    expect(last('lock')).toMatchObject({ locked: true, reason: 'timetable' });
    const list = await head.call<{ data: { status: string; steps: { action: string; by: string }[] }[] }>(
      'GET',
      `/api/exemptions?from=${WED}`,
    );
    expect(list.body.data[0]?.steps.map((s) => `${s.action}:${s.by}`)).toEqual([
      'requested:teacher',
      'granted:head',
      'revoked:head',
    ]);
    // S6: each step is in the audit log, attributed, with what was exempted and why; the chain verifies.
    const id = requested.body.data.id;
    const entries = (await fixture.hub.audit.list({ reverse: false })).filter(
      (e) => e.target === `exemption:${id}`,
    );
    expect(entries.map((e) => ({ actor: e.actor, action: e.action, after: e.after }))).toEqual([
      {
        actor: 'teacher',
        action: 'exemption.requested',
        after: {
          room: 'room-1',
          period: 'p2',
          date: WED,
          reason: 'Year 9 data logging with phones',
          status: 'requested',
        },
      },
      {
        actor: 'head',
        action: 'exemption.granted',
        after: {
          room: 'room-1',
          period: 'p2',
          date: WED,
          reason: 'Year 9 data logging with phones',
          status: 'granted',
        },
      },
      {
        actor: 'head',
        action: 'exemption.revoked',
        after: {
          room: 'room-1',
          period: 'p2',
          date: WED,
          reason: 'Year 9 data logging with phones',
          status: 'revoked',
          note: 'lesson plan changed',
        },
      },
    ]);
    expect((await fixture.hub.audit.verify()).ok).toBe(true);
  });

  it('emergency release: one action by the head unlocks every locker at once, recorded; ending it restores the timetable', async () => {
    clock = at('10:12');
    const api = head; // signed in (with TOTP) in the previous test, active within the 10-minute idle limit
    expect((await api.call('POST', '/api/emergency-release', {})).status).toBe(400); // confirm required
    const released = await api.call<{ data: { emergency: { startedBy: string } } }>(
      'POST',
      '/api/emergency-release',
      { confirm: true },
    );
    expect(released).toMatchObject({ status: 200, body: { data: { emergency: { startedBy: 'head' } } } });
    await waitFor(() => (last('lock') as { reason?: string }).reason === 'emergency-release', 'release');
    expect(last('lock')).toMatchObject({ locked: false });
    // Every locker in the school is released, not only the connected one.
    const policy = await api.call<{
      data: { now: { emergency: unknown }; devices: { directive: { reason: string } }[] };
    }>('GET', '/api/policy');
    expect(policy.body.data.now.emergency).toMatchObject({ startedBy: 'head' });
    expect(policy.body.data.devices.every((d) => d.directive.reason === 'emergency-release')).toBe(true);

    clock = at('10:20');
    expect((await api.call('POST', '/api/emergency-release/end')).status).toBe(200);
    await waitFor(() => (last('lock') as { reason?: string }).reason === 'timetable', 'end of emergency');
    expect(last('lock')).toMatchObject({ locked: true });
    const history = fixture.hub.policy.exemptions.emergencyHistory();
    expect(history).toMatchObject([{ startedBy: 'head', endedBy: 'head' }]);
    // S6, P6: the release and its end are each one audit entry, by the head, naming the same emergency.
    const entries = (await fixture.hub.audit.list({ reverse: false })).filter(
      (e) => e.target === 'lockers:all',
    );
    expect(entries.map((e) => [e.actor, e.action, e.at])).toEqual([
      ['head', 'emergency.release', at('10:12')],
      ['head', 'emergency.end', at('10:20')],
    ]);
    expect(entries[0]?.after).toMatchObject({ id: history[0]?.id, startedBy: 'head' });
    expect(entries[1]?.before).toMatchObject({ id: history[0]?.id });
  });

  it('P2: an exemption for the office never unlocks the day-storage locker; only the head releases stored phones, audited', async () => {
    clock = at('10:25');
    const officeLocker = fixture.hub.policy.driver;
    const officeNow = async () =>
      (await officeLocker.directives(clock)).find((d) => d.id === 'office-locker')?.directive;
    expect(await officeNow()).toMatchObject({ locked: true, reason: 'timetable' });
    // The head grants an exemption for the office's Period 3: authorised use, but the stored phones stay locked.
    const ex = await head.call<{ data: { status: string } }>('POST', '/api/exemptions', {
      room: 'office',
      period: 'p3',
      date: WED,
      reason: 'Office staff calls during the trip',
    });
    expect(ex).toMatchObject({ status: 201, body: { data: { status: 'granted' } } });
    clock = at('11:30');
    await fixture.hub.policy.driver.tick(clock);
    expect(await officeNow()).toMatchObject({ signage: 'authorised-use', locked: true, reason: 'exemption' });
    // One device's directive (asked on every drop, R7) is the same decision as the whole list's entry for it.
    expect(await officeLocker.directive('office-locker', clock)).toEqual(await officeNow());
    expect(await officeLocker.directive('no-such-device', clock)).toBeUndefined();
    expect(
      (await officeLocker.directives(clock)).find((d) => d.id === 'room-1-locker')?.directive.locked,
    ).toBe(true); // P3 in room 1: no exemption there
    // Stored phones: a teacher or the office cannot release them; the head can, with a reason, and it is audited.
    const teacher = await signIn(fixture.hub.httpUrl, 'teacher', 'Copper-meadow-57-ridge', clock);
    head = await signIn(fixture.hub.httpUrl, 'head', 'Lantern-orchard-91-quay', clock); // idle-locked since 10:20
    const body = { room: 'office', reason: 'Pupil collected early by a parent', confirm: true };
    expect((await teacher.call('POST', '/api/stored-phones/release', body)).status).toBe(403);
    expect(
      (await head.call('POST', '/api/stored-phones/release', { room: 'office', confirm: true })).status,
    ).toBe(400);
    const released = await head.call<{ data: { release: { id: string; releasedBy: string } } }>(
      'POST',
      '/api/stored-phones/release',
      body,
    );
    expect(released).toMatchObject({ status: 200, body: { data: { release: { releasedBy: 'head' } } } });
    expect(await officeNow()).toMatchObject({ locked: false, reason: 'staff' });
    expect(
      (await officeLocker.directives(clock)).find((d) => d.id === 'room-1-locker')?.directive.locked,
    ).toBe(true); // only the office's stored phones
    clock = at('11:40');
    expect((await head.call('POST', '/api/stored-phones/relock', { room: 'office' })).status).toBe(200);
    expect(await officeNow()).toMatchObject({ locked: true });
    expect((await head.call('POST', '/api/stored-phones/relock', { room: 'office' })).status).toBe(409);
    const audit = (await fixture.hub.audit.list({ reverse: false })).filter(
      (e) => e.target === 'room:office',
    );
    expect(audit.map((e) => [e.actor, e.action, e.at])).toEqual([
      ['head', 'storage.release', at('11:30')],
      ['head', 'storage.relock', at('11:40')],
    ]);
    expect(audit[0]?.after).toMatchObject({ id: released.body.data.release.id, reason: body.reason });
    expect((await fixture.hub.audit.verify()).ok).toBe(true);
  });

  it('D5, R5: the compliance API and CSV read the lesson and roll-up points back from InfluxDB', async () => {
    const lessons = await head.call<{ data: { rows: Record<string, unknown>[] } }>(
      'GET',
      `/api/compliance?from=${WED}&to=${WED}&room=room-1`,
    );
    expect(lessons.status).toBe(200);
    expect(lessons.body.data.rows).toMatchObject([
      { period: 'reg', locked_closed_min: 0, room: 'room-1' },
      { period: 'p1', locked_closed_min: 48, room: 'room-1' },
    ]);
    const week = await head.call<{ data: { rows: Record<string, unknown>[] } }>(
      'GET',
      `/api/compliance?from=${WED}&to=${WED}&level=week`,
    );
    expect(week.body.data.rows.map((r) => r.room).sort()).toEqual(['room-1', 'room-2', 'room-3']);
    expect((await head.call('GET', '/api/compliance?room=Room%201')).status).toBe(400);
    const csv = await head.text(`/api/compliance.csv?from=${WED}&to=${WED}&room=room-1`);
    expect(csv.type).toMatch(/^text\/csv/);
    const [header, reg, row, ...rest] = csv.body.trim().split('\r\n');
    expect(rest).toEqual([]);
    expect(reg).toContain(',reg,');
    const cells = Object.fromEntries(header?.split(',').map((h, i) => [h, row?.split(',')[i]]) ?? []);
    expect(cells).toMatchObject({
      time: new Date(at('09:00')).toISOString(),
      period: 'p1',
      locked_closed_min: '48',
      grace: 'met',
    });
    const teacher = await signIn(fixture.hub.httpUrl, 'teacher', 'Copper-meadow-57-ridge', clock);
    expect((await teacher.call('GET', '/api/compliance')).status).toBe(403); // S5
  });
});

describe('compliance across a hub restart (real hub, same data directory)', () => {
  it('D5: a lesson in progress when the hub restarts is recorded from its whole timeline', async () => {
    let clock = at('13:05');
    const first = await startTestHub({ now: () => clock });
    const device = await (async () => {
      await first.hub.registry.provision({
        id: address.device,
        address,
        secret,
        lockerMode: 'lesson',
        now: clock,
      });
      return connectClient(first.hub.mqttPort, {
        clientId: address.device,
        username: address.device,
        password: secret,
      });
    })();
    const state = (ts: number, locked: boolean): LockerState => ({
      v: 1,
      ts,
      locked,
      doorOpen: false,
      phones: 2,
      slots: 12,
      keyOn: false,
      mode: 'lesson',
    });
    await device.publishAsync(topics.state(address, 'locker'), JSON.stringify(state(at('13:05'), false)), {
      qos: 1,
    });
    clock = at('13:14');
    await device.publishAsync(topics.state(address, 'locker'), JSON.stringify(state(at('13:14'), true)), {
      qos: 1,
    });
    await first.hub.policy.compliance.idle();
    device.end(true);
    await first.stop();

    clock = at('14:10'); // Period 4 (13:10–14:10) ended while the hub was down
    const second = await startTestHub({ dataDir: first.dataDir, now: () => clock });
    try {
      await second.hub.policy.compliance.idle();
      await second.hub.outbox.drain();
      const series = await second.hub.store.query(
        `SELECT "locked_closed_min", "breach_min", "grace" FROM "compliance_lesson" WHERE "room" = 'room-1' AND "period" = 'p4'`,
      );
      expect(series[0]?.values).toEqual([[at('13:10'), 56, 4, 'met']]);
    } finally {
      await second.dispose();
    }
  });
});
