/**
 * S6, one audit path: every device and school change goes through AuditLog.commit with its own ops, so when the write
 * that carries the audit entry fails (the disk filling at that moment), the change is not stored either. Real LevelDB;
 * only the audit log's handle on it is made to refuse batches holding audit entries, which is what tells a change
 * committed with its entry apart from a change written first and audited after (the real full disk, where every
 * write fails, is test/faults/audit-atomic.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../../hub/audit/audit-log.js';
import { type BatchOp, HubDb, SUBLEVELS } from '../../../../hub/db/hub-db.js';
import { DeviceAdmin } from '../../../../hub/devices/device-admin.js';
import { DeviceRegistry } from '../../../../hub/devices/device-registry.js';
import { silentLogger } from '../../../../hub/log.js';
import {
  dbSchoolPersistence,
  fileSchoolPersistence,
  type SchoolPersistence,
} from '../../../../hub/school/school-persistence.js';
import { SchoolSettings } from '../../../../hub/school/school-settings.js';
import type { SchoolModel } from '../../../../schemas/config.js';

const SECRET = 'device-secret-0123456789abcdef';
const demoSchool = (): SchoolModel =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../../../config/school.example.json'), 'utf8'));

describe('one audit path: a failed batch leaves neither the change nor its entry (S6)', () => {
  let dir: string;
  let db: HubDb;
  let failAudit = false;
  let audit: AuditLog;
  let registry: DeviceRegistry;
  let devices: DeviceAdmin;
  const clock = Date.UTC(2026, 8, 2, 8);

  /** Everything the hub DB holds, to compare before and after a failed change. */
  async function snapshot(): Promise<string> {
    const all: Record<string, unknown> = {};
    for (const sublevel of SUBLEVELS) all[sublevel] = await db.values(sublevel);
    return JSON.stringify(all);
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pa-one-audit-'));
    db = await HubDb.open(join(dir, 'db'));
    failAudit = false;
    // The audit log's own handle: its batch fails, like a full disk, whenever it carries an audit entry.
    const auditDb = new Proxy(db, {
      get(target, property, receiver) {
        if (property === 'batch')
          return (ops: BatchOp[], options?: { sync?: boolean }) =>
            failAudit && ops.some((op) => op.sublevel === 'audit')
              ? Promise.reject(
                  Object.assign(new Error('IO error: No space left on device'), { code: 'ENOSPC' }),
                )
              : target.batch(ops, options);
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    audit = new AuditLog(auditDb, () => clock, silentLogger);
    registry = new DeviceRegistry(db);
    const school = demoSchool();
    devices = new DeviceAdmin({
      db,
      registry,
      site: school.site,
      rooms: new Set(school.rooms.map((r) => r.id)),
      now: () => clock,
      audit,
    });
  });

  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `change` with the audit write failing: it must reject and leave the DB exactly as it was. */
  async function failsWhole(change: () => Promise<unknown>): Promise<void> {
    const before = await snapshot();
    failAudit = true;
    await expect(change()).rejects.toThrow(/No space left/);
    failAudit = false;
    expect(await snapshot()).toBe(before);
  }

  it('S4, S6: every device change (token issue and revoke, enrolment, approval, revocation, re-keying, adding)', async () => {
    const room = demoSchool().rooms[0]?.id as string;
    const { token, record } = await devices.issueToken({ maxUses: 5, ttlMinutes: 60, who: 'ada' });
    await devices.add({ id: 'locker-a', room, lockerMode: 'lesson', secret: SECRET }, 'ada');
    await devices.enrol('locker-p', token, SECRET);

    await failsWhole(() => devices.issueToken({ maxUses: 1, ttlMinutes: 60, who: 'ada' }));
    await failsWhole(() => devices.revokeToken(record.id, 'ada'));
    await failsWhole(() => devices.enrol('locker-q', token, SECRET));
    await failsWhole(() => devices.approve('locker-p', { room }, 'ada'));
    await failsWhole(() => devices.revoke('locker-a', 'ada'));
    await failsWhole(() => devices.rotate('locker-a', 'ada'));
    await failsWhole(() => devices.add({ id: 'locker-b', room, lockerMode: 'lesson' }, 'ada'));
    // The old secret still works (nothing was re-keyed), and each change that did commit has its entry.
    expect(await registry.authenticate('locker-a', SECRET)).toMatchObject({ ok: true });
    expect((await audit.list()).map((e) => e.action)).toEqual([
      'device.enrolled',
      'device.added',
      'device.enrolment-token.issued',
    ]);
  });

  async function schoolEdits(persistence: (db: HubDb) => SchoolPersistence, school: SchoolModel) {
    const settings = new SchoolSettings({
      school,
      persistence: persistence(db),
      registry,
      audit,
      log: silentLogger,
      changed: async () => {},
    });
    const edit = (arrival: string) =>
      settings.update('ada', 'timetable', { timetable: { ...school.timetable, arrival } });
    await edit('08:10');
    await failsWhole(() => edit('08:20'));
    expect(school.timetable.arrival).toBe('08:10');
    expect((await audit.list()).map((e) => [e.action, (e.after as { arrival: string }).arrival])).toEqual([
      ['school.timetable.updated', '08:10'],
    ]);
  }

  it('S6: a timetable edit stored in the hub DB', async () => {
    await schoolEdits(() => dbSchoolPersistence(), demoSchool());
  });

  it('S6: a timetable edit written back to the school file: the file is not touched either', async () => {
    const path = join(dir, 'school.json');
    writeFileSync(path, JSON.stringify(demoSchool()));
    await schoolEdits((hubDb) => fileSchoolPersistence(path, hubDb), demoSchool());
    expect((JSON.parse(readFileSync(path, 'utf8')) as SchoolModel).timetable.arrival).toBe('08:10');
  });
});
