/**
 * S6, one audit path: a change and its audit entry are one LevelDB batch, so a batch that fails leaves neither. The hub
 * DB lives on a small tmpfs that a filler file then fills to the last byte; school edits and device changes made
 * meanwhile must fail whole, and once space returns the next change is committed and the chain still verifies. Real
 * LevelDB, real full disk. Needs root for `mount -t tmpfs` (this CI runs as root); elsewhere it is skipped and says so.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../hub/audit/audit-log.js';
import { HubDb } from '../../hub/db/hub-db.js';
import { DeviceAdmin } from '../../hub/devices/device-admin.js';
import { DeviceRegistry } from '../../hub/devices/device-registry.js';
import { silentLogger } from '../../hub/log.js';
import { dbSchoolPersistence, SCHOOL_META_KEY } from '../../hub/school/school-persistence.js';
import { SchoolSettings } from '../../hub/school/school-settings.js';
import { fillDisk, mountTmpfs, unmount } from '../support/full-disk.js';
import { demoSchool, waitFor } from '../support/hub-fixture.js';

describe('faults: a failed batch leaves neither the change nor its audit entry (S6)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'phones-away-audit-atomic-'));
  const dbDir = join(dataDir, 'hub-db');
  let mountError: string | null = 'not tried';
  let db: HubDb | undefined;

  beforeAll(async () => {
    mkdirSync(dbDir, { recursive: true });
    mountError = mountTmpfs(dbDir, '8m');
    if (!mountError) db = await HubDb.open(join(dbDir, 'db'));
  });

  afterAll(async () => {
    await db?.close();
    if (!mountError) unmount(dbDir);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('S6: with the disk full, a timetable edit and a device change fail whole; after space returns both commit with their entries', async (ctx) => {
    if (!db) return ctx.skip(`cannot mount a tmpfs here (${mountError})`);
    const hubDb = db;
    let clock = Date.UTC(2026, 8, 2, 8);
    const audit = new AuditLog(hubDb, () => clock, silentLogger);
    const registry = new DeviceRegistry(hubDb);
    const school = demoSchool();
    const settings = new SchoolSettings({
      school,
      persistence: dbSchoolPersistence(),
      registry,
      audit,
      log: silentLogger,
      changed: async () => {},
    });
    const devices = new DeviceAdmin({
      db: hubDb,
      registry,
      site: school.site,
      rooms: new Set(school.rooms.map((r) => r.id)),
      now: () => clock,
      audit,
    });
    const room = school.rooms[0]?.id as string;
    const editArrival = (arrival: string) =>
      settings.update('ada', 'timetable', { timetable: { ...school.timetable, arrival } });

    await devices.add({ id: 'locker-before', room, lockerMode: 'lesson' }, 'ada');
    const before = await audit.currentHead();
    const filler = fillDisk(dbDir);

    clock += 1000;
    await expect(editArrival('08:11')).rejects.toThrow(/space/i);
    await expect(devices.add({ id: 'locker-during', room, lockerMode: 'lesson' }, 'ada')).rejects.toThrow(
      /space/i,
    );
    await expect(devices.revoke('locker-before', 'ada')).rejects.toThrow(/space/i);
    // Neither change nor entry: the stored model, the devices and the chain's head are as they were.
    expect(await hubDb.get('meta', SCHOOL_META_KEY)).toBeUndefined();
    expect(school.timetable.arrival).not.toBe('08:11');
    expect(await registry.get('locker-during')).toBeUndefined();
    expect((await registry.get('locker-before'))?.status).toBe('approved');
    expect(await audit.currentHead()).toEqual(before);
    expect(await audit.list()).toHaveLength(1);

    // The failed write may have left part of itself in LevelDB's log: the database refuses writes until it has
    // reopened, which it does once the disk has room (hub/db/log-fault.ts).
    expect(hubDb.logFault.refusing).toBe(true);
    unlinkSync(filler);
    await waitFor(() => !hubDb.logFault.refusing, 'the database reopened', 15_000);
    clock += 1000;
    await editArrival('08:12');
    await devices.add({ id: 'locker-after', room, lockerMode: 'lesson' }, 'ada');
    expect((await hubDb.get<typeof school>('meta', SCHOOL_META_KEY))?.timetable.arrival).toBe('08:12');
    expect((await audit.list()).map((e) => [e.seq, e.action, e.target])).toEqual([
      [3, 'device.added', 'locker-after'],
      [2, 'school.timetable.updated', 'school:timetable'],
      [1, 'device.added', 'locker-before'],
    ]);
    expect(await audit.verify()).toMatchObject({ ok: true, checked: 3 });

    // And so after a restart: what was committed once space returned is read back from LevelDB's log.
    await hubDb.close();
    db = await HubDb.open(join(dbDir, 'db'));
    const reopened = new AuditLog(db, () => clock, silentLogger);
    expect((await reopened.list()).map((e) => e.seq)).toEqual([3, 2, 1]);
    expect(await reopened.verify()).toMatchObject({ ok: true, checked: 3 });
  });
});
