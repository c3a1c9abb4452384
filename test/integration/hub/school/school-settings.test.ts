/**
 * School model editing against the real hub (real aedes with a real MQTT.js client as a provisioned device, fastify
 * with real sign-in, LevelDB, private influxd): admin-only writes (S5), whole-model validation with field errors,
 * the audit trail (S6), the policy driver re-sending every device's schedule at once (P1), and the edit surviving a
 * restart. Time is a fake clock on a school day.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../../hub/audit/audit-log.js';
import { HubDb } from '../../../../hub/db/hub-db.js';
import { DeviceRegistry } from '../../../../hub/devices/device-registry.js';
import { silentLogger } from '../../../../hub/log.js';
import { parseClock, zonedTime } from '../../../../hub/policy/calendar.js';
import { dfe2026Policy } from '../../../../hub/policy/presets.js';
import { fileSchoolPersistence } from '../../../../hub/school/school-persistence.js';
import { SchoolSettings } from '../../../../hub/school/school-settings.js';
import type { Policy, SchoolModel, Timetable } from '../../../../schemas/config.js';
import type { Command } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import {
  connectClient,
  demoSchool,
  type HubFixture,
  startTestHub,
  waitFor,
} from '../../../support/hub-fixture.js';
import { data, StaffClient } from '../../../support/staff-client.js';

const WED = '2026-09-02'; // first day of the autumn term in the demo school
const clock = zonedTime(WED, parseClock('08:30'), 'Europe/London');
const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const secret = 'school-settings-secret-0123456';
const PASSWORD = 'Harbour-lantern-orbit-42';

describe('school settings API (P1–P4, P8, S5, S6)', () => {
  let fixture: HubFixture;
  let device: MqttClient;
  let admin: StaffClient;
  let office: StaffClient;
  let head: StaffClient;
  const commands: Command[] = [];

  const current = async () =>
    data(
      await admin.get<{
        timetable: Timetable;
        zones: SchoolModel['zones'];
        rooms: SchoolModel['rooms'];
        policy: Policy;
      }>('/api/policy'),
    );

  beforeAll(async () => {
    fixture = await startTestHub({ now: () => clock });
    const { hub } = fixture;
    await hub.registry.provision({ id: address.device, address, secret, lockerMode: 'lesson', now: clock });
    await hub.users.add('ada', PASSWORD, ['admin'], clock);
    await hub.users.add('olly', PASSWORD, ['office'], clock);
    await hub.users.add('hattie', PASSWORD, ['head'], clock);
    admin = new StaffClient(hub.httpUrl, 'ada', PASSWORD);
    office = new StaffClient(hub.httpUrl, 'olly', PASSWORD);
    head = new StaffClient(hub.httpUrl, 'hattie', PASSWORD);
    for (const user of [admin, office, head]) expect((await user.signIn(clock)).status).toBe(200);
    device = await connectClient(hub.mqttPort, {
      clientId: address.device,
      username: address.device,
      password: secret,
    });
    device.on('message', (_topic, payload) => commands.push(JSON.parse(payload.toString()) as Command));
    await device.subscribeAsync(topics.deviceInbox(address), { qos: 1 });
    await waitFor(() => commands.find((c) => c.kind === 'schedule' && c.date === WED), 'first schedule');
  });

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
  });

  it('S5: office user gets 403, and so does the head (the admin enters policy; least privilege)', async () => {
    const { timetable: t, policy } = await current();
    const byOffice = await office.request('PUT', '/api/school/timetable', t);
    expect(byOffice.status).toBe(403);
    expect(byOffice.body).toMatchObject({ status: 'error', error: { code: 'E_FORBIDDEN' } });
    expect((await head.request('PUT', '/api/school/policy', policy)).status).toBe(403);
    expect((await head.post('/api/school/policy/preset', { preset: 'dfe-2026' })).status).toBe(403);
    // S1: the CSRF guard stands in front of the permission check too.
    expect((await admin.request('PUT', '/api/school/timetable', t, { csrf: false })).status).toBe(403);
  });

  it('refuses an invalid timetable with a field error per problem, and changes nothing', async () => {
    const before = await current();
    const t = structuredClone(before.timetable);
    t.periods[0]!.start = '9:75';
    t.periods[1]!.end = t.periods[1]!.start; // not after its start
    t.periods[3]!.start = '10:30'; // overlaps Period 2 (10:00–11:00)
    t.terms[0]!.end = '2026-08-01'; // before the start
    t.insetDays.push('2026-02-30');
    const reply = await admin.request('PUT', '/api/school/timetable', t);
    expect(reply.status).toBe(400);
    if (reply.body.status !== 'error') throw new Error('expected an error');
    expect(reply.body.error.fields).toEqual(['/periods/0/start: must be a 24-hour time such as 09:05']);
    // Past the schema, every cross-check at once.
    t.periods[0]!.start = before.timetable.periods[0]!.start;
    const second = await admin.request('PUT', '/api/school/timetable', t);
    if (second.body.status !== 'error') throw new Error('expected an error');
    const fields = second.body.error.fields ?? [];
    expect(fields).toContain(`/periods/1/end: must be after the start (${t.periods[1]!.start})`);
    expect(fields).toContain('/periods/3/start: overlaps Period 2 (10:00–11:00)');
    expect(fields).toContain('/terms/0/end: must not be before the start');
    expect(fields).toContain(`/insetDays/${t.insetDays.length - 1}: no such date`);
    expect((await current()).timetable).toEqual(before.timetable);
  });

  it('P1, S6: an admin moves Period 1 to 09:05; saved, audited, and the driver republished schedules', async () => {
    const { timetable: t } = await current();
    const p1 = t.periods.find((p) => p.name === 'Period 1');
    expect(p1?.start).toBe('09:00');
    p1!.start = '09:05';
    const published = fixture.hub.policy.driver.published;
    const saved = data(await admin.request<Timetable>('PUT', '/api/school/timetable', t));
    expect(saved.periods.find((p) => p.name === 'Period 1')?.start).toBe('09:05');
    // Republished at once (not at the next boundary): today's schedule now locks at 09:05, not 09:00.
    const schedule = await waitFor(
      () =>
        commands.findLast(
          (c) =>
            c.kind === 'schedule' && c.date === WED && c.entries.some((e) => e.locked && e.start === '09:05'),
        ),
      'republished schedule',
    );
    if (schedule.kind !== 'schedule') throw new Error('not a schedule');
    // Registration (08:40–09:00) is formal school time and stays locked (P1, P5); Period 1 now locks at 09:05.
    expect(
      schedule.entries
        .filter((e) => e.locked)
        .map((e) => [e.start, e.end])
        .slice(0, 2),
    ).toEqual([
      ['08:40', '09:00'],
      ['09:05', '10:00'],
    ]);
    expect(fixture.hub.policy.driver.published).toBeGreaterThan(published);
    const entry = await waitFor(
      async () => (await fixture.hub.audit.list()).find((e) => e.action === 'school.timetable.updated'),
      'audit entry',
    );
    expect(entry).toMatchObject({ actor: 'ada', target: 'school:timetable' });
    expect((entry.before as Timetable).periods.find((p) => p.id === p1!.id)?.start).toBe('09:00');
    expect((entry.after as Timetable).periods.find((p) => p.id === p1!.id)?.start).toBe('09:05');
    // Durable: stored in the hub DB (this hub was given its model in code, not from a file).
    const stored = await fixture.hub.db.get<SchoolModel>('meta', 'school-model');
    expect(stored?.timetable.periods.find((p) => p.id === p1!.id)?.start).toBe('09:05');
  });

  it('P3, D4: a zone a room uses, or a room a device uses, cannot be removed; a new room can be added', async () => {
    const { zones, rooms } = await current();
    const withoutRoom1 = await admin.request('PUT', '/api/school/zones-rooms', {
      zones,
      rooms: rooms.filter((r) => r.id !== 'room-1'),
    });
    expect(withoutRoom1.status).toBe(400);
    if (withoutRoom1.body.status !== 'error') throw new Error('expected an error');
    expect(withoutRoom1.body.error.fields).toEqual([
      "/rooms: cannot remove room 'Room 1 (Maths)': device room-1-locker is in it; move or revoke it first",
    ]);
    const withoutTeaching = await admin.request('PUT', '/api/school/zones-rooms', {
      zones: zones.filter((z) => z.id !== 'teaching'),
      rooms,
    });
    if (withoutTeaching.body.status !== 'error') throw new Error('expected an error');
    expect(withoutTeaching.body.error.fields?.[0]).toMatch(/^\/rooms\/0\/zone: no zone 'teaching'/);
    expect(withoutTeaching.body.error.fields).toContainEqual(
      expect.stringMatching(/^\/zones: cannot remove zone 'Teaching block': room Room 1 \(Maths\)/),
    );
    const duplicate = await admin.request('PUT', '/api/school/zones-rooms', {
      zones,
      rooms: [...rooms, { id: 'room-1', name: 'Again', zone: 'teaching' }],
    });
    if (duplicate.body.status !== 'error') throw new Error('expected an error');
    expect(duplicate.body.error.fields).toEqual([`/rooms/${rooms.length}/id: 'room-1' is used twice`]);

    const added = data(
      await admin.request<{ rooms: SchoolModel['rooms'] }>('PUT', '/api/school/zones-rooms', {
        zones,
        rooms: [...rooms, { id: 'room-4', name: 'Room 4 (Art)', zone: 'teaching' }],
      }),
    );
    expect(added.rooms.map((r) => r.id)).toContain('room-4');
    // The device admin accepts the new room at once (approval into it would otherwise be refused).
    expect((await current()).rooms.some((r) => r.id === 'room-4')).toBe(true);
  });

  it('P8: applying the DfE 2026 preset fills the matrix; editing a cell makes the preset custom', async () => {
    const applied = data(await admin.post<Policy>('/api/school/policy/preset', { preset: 'dfe-2026' }));
    expect(applied.preset).toBe('dfe-2026');
    expect(applied.matrix).toEqual(dfe2026Policy().matrix);
    const edited = structuredClone(applied);
    const cell = edited.matrix.find(
      (r) => r.role === 'staff' && r.time === 'lunch' && r.zone === 'designated-phone-area',
    );
    cell!.phones = 'yes';
    const saved = data(await admin.request<Policy>('PUT', '/api/school/policy', edited));
    expect(saved.preset).toBe('custom');
    const bad = await admin.request('PUT', '/api/school/policy', { ...edited, graceMinutes: 99 });
    if (bad.body.status !== 'error') throw new Error('expected an error');
    expect(bad.body.error.fields).toEqual(['/graceMinutes: must be <= 30']);
    const actions = (await fixture.hub.audit.list()).map((e) => e.action);
    expect(actions.filter((a) => a === 'school.policy.updated')).toHaveLength(2);
  });

  it('P1, S6: a save made on an older version of a section is refused (409) and changes nothing; the current version saves', async () => {
    const seen = data(
      await admin.get<{ timetable: Timetable; versions: Record<string, string> }>('/api/policy'),
    );
    const version = seen.versions.timetable as string;
    expect(version).toMatch(/^[0-9a-f]{16}$/);
    // Another admin (here the same account from elsewhere) saves first: Period 1 moves on.
    const theirs = structuredClone(seen.timetable);
    const p1 = theirs.periods.find((p) => p.name === 'Period 1');
    if (!p1) throw new Error('no Period 1');
    p1.end = p1.end === '10:00' ? '09:55' : '10:00';
    expect(
      (
        await admin.request('PUT', '/api/school/timetable', theirs, {
          headers: { 'if-match': `"${version}"` },
        })
      ).status,
    ).toBe(200);
    // This editor still holds the old version: its save would silently undo theirs.
    const mine = structuredClone(seen.timetable);
    mine.arrival = '08:07';
    const refused = await admin.request('PUT', '/api/school/timetable', mine, {
      headers: { 'if-match': `"${version}"` },
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ status: 'error', error: { code: 'E_CONFLICT' } });
    const after = await current();
    expect(after.timetable).toEqual(theirs);
    const trail = JSON.stringify(await fixture.hub.audit.list({ limit: 1000 }));
    expect(trail).not.toContain('"arrival":"08:07"'); // nothing of the refused save reached the audit log either
    // Reloaded, the editor gets the new version and may save over it; other sections' versions did not move.
    const reloaded = data(await admin.get<{ versions: Record<string, string> }>('/api/policy')).versions;
    expect(reloaded.timetable).not.toBe(version);
    expect(reloaded.policy).toBe(seen.versions.policy);
    const ok = await admin.request(
      'PUT',
      '/api/school/timetable',
      { ...after.timetable, arrival: '08:07' },
      {
        headers: { 'if-match': `W/"${reloaded.timetable}"` },
      },
    );
    expect(ok.status).toBe(200);
    expect((await current()).timetable.arrival).toBe('08:07');
  });

  it('D3: the edited model survives a restart (the stored model wins over the one passed in)', async () => {
    device.end(true);
    await fixture.stop();
    const restarted = await startTestHub({
      dataDir: fixture.dataDir,
      now: () => clock,
      school: demoSchool(),
    });
    try {
      const model = await restarted.hub.db.get<SchoolModel>('meta', 'school-model');
      expect(model?.policy.preset).toBe('custom');
      const client = new StaffClient(restarted.hub.httpUrl, 'ada', PASSWORD);
      client.totpSecret = admin.totpSecret;
      expect((await client.signIn(clock + 30_000)).status).toBe(200);
      const view = data(
        await client.get<{ rooms: SchoolModel['rooms']; timetable: Timetable }>('/api/policy'),
      );
      expect(view.rooms.some((r) => r.id === 'room-4')).toBe(true);
      expect(view.timetable.periods.find((p) => p.name === 'Period 1')?.start).toBe('09:05');
    } finally {
      await restarted.stop();
    }
  });

  it('S6: a hub run from a school file gets each edit written back whole; one whose file write is cut off is audited and written at the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'phones-away-school-'));
    const path = join(dataDir, 'school.json');
    const fileModel = () => JSON.parse(readFileSync(path, 'utf8')) as SchoolModel;
    writeFileSync(path, JSON.stringify(demoSchool()));
    const db = await HubDb.open(join(dataDir, 'hub-db'));
    let restarted: HubFixture | undefined;
    try {
      const audit = new AuditLog(db, () => clock, silentLogger);
      const settings = new SchoolSettings({
        school: fileModel(),
        persistence: fileSchoolPersistence(path, db),
        registry: new DeviceRegistry(db),
        audit,
        log: silentLogger,
        changed: async () => {},
      });
      const edit = (arrival: string) =>
        settings.update('ada', 'timetable', { timetable: { ...settings.school.timetable, arrival } });
      await edit('08:10');
      expect(fileModel()).toEqual(settings.school);
      // The next write's temporary file cannot be created (a directory is in its place): the edit is committed and
      // audited, but the file is not written, as if the hub had crashed between the two.
      const trap = join(dataDir, `.school.json.${process.pid}.tmp`);
      mkdirSync(trap);
      await edit('08:20');
      expect(fileModel().timetable.arrival).toBe('08:10');
      expect(await audit.list()).toMatchObject([
        { action: 'school.timetable.updated', after: { arrival: '08:20' } },
        { action: 'school.timetable.updated', after: { arrival: '08:10' } },
      ]);
      rmdirSync(trap);
      await db.close();
      // The operator restarts the hub from the file, which still holds the older edit: the audited one is rolled forward.
      restarted = await startTestHub({ dataDir, now: () => clock, school: fileModel(), schoolFile: path });
      expect(fileModel().timetable.arrival).toBe('08:20');
      expect(fileModel()).toEqual({
        ...demoSchool(),
        timetable: { ...demoSchool().timetable, arrival: '08:20' },
      });
      expect(restarted.hub.school.timetable.arrival).toBe('08:20');
      expect(await restarted.hub.db.get('meta', 'school-file-pending')).toBeUndefined();
    } finally {
      if (restarted) await restarted.stop();
      else await db.close().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
