/**
 * D3: backups of a running hub. The restore drill: devices (real MQTT.js clients speaking the device protocol) keep
 * reporting while the backup is taken; the archive is restored into a fresh data directory; a hub starts on it; every
 * event acknowledged before the backup began is there exactly once (hub database and InfluxDB). Then the daily
 * schedule with rotation, on a clock the test moves, and an administrator's "back up now".
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restore } from '../../../../hub/backup/backup.js';
import { parseClock, zonedTime } from '../../../../hub/policy/calendar.js';
import { type HubFixture, startTestHub, waitFor } from '../../../support/hub-fixture.js';
import { SimDevice } from '../../../support/sim-device.js';
import { data, StaffClient } from '../../../support/staff-client.js';

const SITE = 'demo-school';
/** Entries put in the hub's database before the backup, so that copying it takes a while (see beforeAll). */
const FILLER_ENTRIES = 100_000;
const SECRET = 'correct-horse-battery-staple-7';

describe('backup while devices keep reporting, and the restore drill (D3)', () => {
  const work = mkdtempSync(join(tmpdir(), 'phones-away-drill-'));
  const archive = join(work, 'drill.tar.gz');
  let first: HubFixture;
  let second: HubFixture | undefined;
  const devices: SimDevice[] = [];
  const progress: string[] = [];
  let ackedBefore: { reports: string[]; lockers: string[] };
  let ackedDuring = 0;
  let backupMs = 0;
  /** The longest wait between two acknowledgements before the backup began. */
  let ackGapMs = 0;

  /** Report ids acknowledged by the hub (ReportAck), and locker events acknowledged by the broker (PUBACK). */
  const acknowledged = () => ({
    reports: devices.flatMap((d) => [...d.acks.keys()]),
    lockers: devices.flatMap((d) => d.sent.lockers.filter((id) => !d.pending.has(id))),
  });

  beforeAll(async () => {
    first = await startTestHub({
      // Reports here are load, not a flood to collapse: each one its own incident.
      config: { limits: { reports: { perDevicePerMinute: 1_000_000, burst: 1_000_000 } } },
    });
    for (const [i, room] of ['room-1', 'room-2', 'room-3'].entries()) {
      const address = { site: SITE, room, device: `drill-${i + 1}` };
      await first.hub.registry.provision({
        id: address.device,
        address,
        secret: SECRET,
        lockerMode: 'lesson',
        now: Date.now(),
      });
      devices.push(
        new SimDevice({ port: first.hub.mqttPort, address, secret: SECRET, resendAfterMs: 1_000 }),
      );
    }
    await Promise.all(devices.map((d) => d.start()));
    // A hub with some history: without it the copy took 50–70 ms, shorter than the gap between two of these devices'
    // acknowledgements (they come about every 47 ms), so "acknowledgements during the backup" was left to chance.
    // 100,000 entries make the copy last a second or more, and every acknowledgement gap is then well inside it.
    for (let n = 0; n < FILLER_ENTRIES; n += 1_000) {
      await first.hub.db.batch(
        Array.from({ length: 1_000 }, (_, k) => ({
          type: 'put' as const,
          sublevel: 'meta' as const,
          key: `drill-filler/${String(n + k).padStart(6, '0')}`,
          value: { n: n + k, note: 'history the backup must copy while devices keep reporting' },
        })),
      );
    }

    // Device load: one event every 5 ms round the devices (a report every third), until told to stop.
    let loading = true;
    const load = (async () => {
      for (let i = 0; loading; i++) {
        const device = devices[i % devices.length] as SimDevice;
        if (i % 3 === 0) device.report();
        else device.lockerEvent('phones-changed', i % 12);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await waitFor(() => acknowledged().reports.length >= 30 || undefined, '30 acknowledged reports');

    ackedBefore = acknowledged();
    const startedAt = performance.now();
    await first.hub.backups.take(archive, (m) => progress.push(m));
    const endedAt = performance.now();
    ackedDuring = devices
      .flatMap((d) => [...d.ackedAt.values()])
      .filter((t) => t > startedAt && t < endedAt).length;
    backupMs = endedAt - startedAt;
    const before = devices
      .flatMap((d) => [...d.ackedAt.values()])
      .filter((t) => t <= startedAt)
      .sort((a, b) => a - b);
    ackGapMs = Math.max(...before.slice(1).map((t, i) => t - (before[i] as number)));
    // The devices keep going after the backup too (what they send now is not in it).
    const after = acknowledged().reports.length;
    await waitFor(() => acknowledged().reports.length >= after + 10 || undefined, 'reports after the backup');
    loading = false;
    await load;
    await Promise.all(devices.map((d) => d.stop()));
    await first.stop();

    const fresh = join(work, 'restored');
    await restore({ dataDir: fresh, from: archive });
    second = await startTestHub({ dataDir: fresh });
    await second.hub.outbox.drain();
  });

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.stop()));
    await first?.dispose();
    await second?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('D3: the backup is taken while devices report: their acknowledgements keep coming during it', () => {
    // Long enough to tell: the backup outlasts several of the longest gaps between acknowledgements seen before it
    // (here about 800 ms against gaps of about 50 ms), so none arriving during it would mean it held them up.
    expect(backupMs).toBeGreaterThan(4 * ackGapMs);
    expect(ackedDuring).toBeGreaterThan(0);
    expect(progress[0]).toMatch(/^hub-db: copying from a snapshot/);
    expect(progress).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^hub-db: 1\d\d,\d{3} entries/),
        expect.stringMatching(/^broker: [\d,]+ entries/),
        expect.stringMatching(/^InfluxDB: backed up/),
        expect.stringMatching(/^done: /),
      ]),
    );
  });

  it('D3, R1: after a restore into a fresh data directory, every report acknowledged before the backup is there exactly once', async () => {
    const hub = (second as HubFixture).hub;
    const count = new Map<string, number>();
    for await (const incident of hub.incidents.all())
      count.set(incident.eventId, (count.get(incident.eventId) ?? 0) + 1);
    expect(ackedBefore.reports.length).toBeGreaterThanOrEqual(30);
    for (const id of ackedBefore.reports) expect(count.get(id), id).toBe(1);
    expect([...count.values()].every((n) => n === 1)).toBe(true);
  });

  it('D3: every locker event acknowledged before the backup is stored once in the hub and once in InfluxDB', async () => {
    const hub = (second as HubFixture).hub;
    for (const id of ackedBefore.lockers) expect(await hub.db.get('dedupe', id), id).toBeDefined();
    for (const device of devices) {
      const rows = await hub.store.query(`SELECT "seq" FROM "locker_event" WHERE "device" = '${device.id}'`);
      const seqs = (rows[0]?.values ?? []).map((v) => Number(v[1]));
      expect(new Set(seqs).size, `${device.id}: no point twice`).toBe(seqs.length);
      const mine = ackedBefore.lockers.filter((id) => id.startsWith(`${device.id}:`));
      for (const id of mine) expect(seqs, id).toContain(Number(id.split(':')[1]));
    }
  });
});

describe('the daily backup schedule with rotation (D3, D2)', () => {
  const DAY = '2026-09-02';
  const at = (date: string, hhmm: string) => zonedTime(date, parseClock(hhmm), 'Europe/London');
  const dir = mkdtempSync(join(tmpdir(), 'phones-away-backups-'));
  let clock = at(DAY, '01:00');
  let fixture: HubFixture;

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'not a backup: rotation never touches it\n');
    fixture = await startTestHub({ now: () => clock, config: { backup: { dir, keep: 2, runAt: '02:00' } } });
  });
  afterAll(async () => {
    await fixture?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('D3: one backup a day at the set time, the newest two kept, each run and rotation audited', async () => {
    const schedule = fixture.hub.backups.schedule;
    if (!schedule) throw new Error('backup is configured');
    expect(await schedule.tick(clock)).toBeNull(); // 01:00: not yet
    clock = at(DAY, '02:00');
    const firstRun = await schedule.tick(clock);
    expect(firstRun?.file).toMatch(/^phones-away-\d{8}T\d{6}Z\.tar\.gz$/);
    clock = at(DAY, '14:00');
    expect(await schedule.tick(clock)).toBeNull(); // done for today
    for (const date of ['2026-09-03', '2026-09-04']) {
      clock = at(date, '02:05');
      expect(await schedule.tick(clock)).not.toBeNull();
    }
    const status = await schedule.status();
    expect(status.archives.map((a) => a.at)).toEqual([at('2026-09-04', '02:05'), at('2026-09-03', '02:05')]);
    expect(readdirSync(dir).sort()).toEqual([...status.archives.map((a) => a.file), 'notes.txt'].sort());
    expect(status.running).toBeNull();
    expect(status.lastRunAt).toBe(at('2026-09-04', '02:05'));

    const actions = (await fixture.hub.audit.list({ limit: 50 })).map((e) => e.action);
    expect(actions.filter((a) => a === 'backup.created')).toHaveLength(3);
    expect(actions.filter((a) => a === 'backup.rotated')).toHaveLength(1);
  });

  it('D3, S5, S6: an administrator backs up now: started at once, audited with their name; a second while it runs is refused; office staff may not', async () => {
    const { hub } = fixture;
    const schedule = hub.backups.schedule;
    if (!schedule) throw new Error('backup is configured');
    clock = at('2026-09-04', '15:00');
    const password = 'Backup-admin-lantern-2026';
    await hub.users.add('ada', password, ['admin'], clock);
    await hub.users.add('olly', password, ['office'], clock);
    const admin = new StaffClient(hub.httpUrl, 'ada', password);
    const office = new StaffClient(hub.httpUrl, 'olly', password);
    for (const user of [admin, office]) expect((await user.signIn(clock)).status).toBe(200);

    expect((await office.post('/api/backups/run')).status).toBe(403);
    expect((await admin.post('/api/backups/run')).status).toBe(200);
    // A backup spawns influxd's backup and tar: it is still running when the second request arrives.
    const again = await admin.post<never>('/api/backups/run');
    expect(again.status).toBe(409);
    expect(again.text).toContain('E_BACKUP_RUNNING');
    await waitFor(async () => (await schedule.status()).running === null, 'the backup finished');

    const status = data(
      await admin.get<{ lastError: string | null; archives: { at: number }[] }>('/api/backups'),
    );
    expect(status.lastError).toBeNull();
    expect(status.archives.map((a) => a.at)).toEqual([clock, at('2026-09-04', '02:05')]);
    const created = (await hub.audit.list({ limit: 50 })).filter((e) => e.action === 'backup.created');
    // Newest first: the administrator's, then the schedule's three daily runs.
    expect(created.map((e) => e.actor)).toEqual(['ada', 'system:backup', 'system:backup', 'system:backup']);
  });
});
