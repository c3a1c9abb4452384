/**
 * The device registry's memory (hub/devices/device-registry.ts) against the disk it stands in for, on a real LevelDB
 * with the real DeviceAdmin and audit path. Records are answered from memory after the first read (a reconnect storm
 * reads every device), so these attack what that could break: a revocation or a new secret must hold the moment it is
 * committed (S1, S4), and the last-seen flush that rewrites device records every 30 s must never write a record read
 * before a revocation back over it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../../hub/audit/audit-log.js';
import { HubDb } from '../../../../hub/db/hub-db.js';
import { DeviceAdmin } from '../../../../hub/devices/device-admin.js';
import { type DeviceRecord, DeviceRegistry } from '../../../../hub/devices/device-registry.js';
import { silentLogger } from '../../../../hub/log.js';
import type { SchoolModel } from '../../../../schemas/config.js';

const SECRET = 'device-secret-0123456789abcdef';
const school = (): SchoolModel =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../../../config/school.example.json'), 'utf8'));

describe('device registry: records remembered, changes never lost (S1, S4)', () => {
  let dir: string;
  let db: HubDb;
  let registry: DeviceRegistry;
  let devices: DeviceAdmin;
  let clock = Date.UTC(2026, 8, 2, 8);
  const room = () => school().rooms[0]?.id as string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pa-registry-'));
    db = await HubDb.open(join(dir, 'db'));
    registry = new DeviceRegistry(db);
    const model = school();
    devices = new DeviceAdmin({
      db,
      registry,
      site: model.site,
      rooms: new Set(model.rooms.map((r) => r.id)),
      now: () => clock,
      audit: new AuditLog(db, () => clock, silentLogger),
    });
  });

  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const onDisk = (id: string) => db.get<DeviceRecord>('devices', id);

  /** Counts the device-record reads that reach LevelDB from here on (each still goes to it). */
  function countDeviceReads(): { count: number } {
    const reads = { count: 0 };
    const get = db.get.bind(db);
    db.get = (async (sublevel, key) => {
      if (sublevel === 'devices') reads.count += 1;
      return get(sublevel, key);
    }) as typeof db.get;
    return reads;
  }

  it('answers a known device from memory after its first read, and an unknown one always from the disk', async () => {
    await devices.add({ id: 'locker-a', room: room(), lockerMode: 'lesson', secret: SECRET }, 'ada');
    const reads = countDeviceReads();
    for (let i = 0; i < 20; i++) expect((await registry.authenticate('locker-a', SECRET)).ok).toBe(true);
    expect(reads.count).toBe(1);
    expect((await registry.authenticate('locker-x', SECRET)).ok).toBe(false);
    expect((await registry.authenticate('locker-x', SECRET)).ok).toBe(false);
    expect(reads.count).toBe(3);
    // A caller changing what it was given does not change what the registry holds.
    const record = (await registry.get('locker-a')) as DeviceRecord;
    record.status = 'revoked';
    expect((await registry.get('locker-a'))?.status).toBe('approved');
  });

  it('preloaded at start, as after a restart: the reconnect storm reads nothing, and a revocation still holds', async () => {
    for (let i = 0; i < 30; i++)
      await devices.add({ id: `locker-${i}`, room: room(), lockerMode: 'lesson', secret: SECRET }, 'ada');
    const restarted = new DeviceRegistry(db);
    await restarted.preload();
    const reads = countDeviceReads();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => restarted.authenticate(`locker-${i}`, SECRET)),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(reads.count).toBe(0);
    const { op } = await restarted.updateOp('locker-3', { status: 'revoked' });
    await db.batch([op]);
    restarted.forget('locker-3');
    expect(await restarted.authenticate('locker-3', SECRET)).toEqual({ ok: false, reason: 'device revoked' });
  });

  it('S4: a revocation and a new secret hold the moment they are committed, after the record was remembered', async () => {
    await devices.add({ id: 'locker-a', room: room(), lockerMode: 'lesson', secret: SECRET }, 'ada');
    expect((await registry.authenticate('locker-a', SECRET)).ok).toBe(true);
    const { secret } = await devices.rotate('locker-a', 'ada');
    expect(await registry.authenticate('locker-a', SECRET)).toEqual({ ok: false, reason: 'wrong secret' });
    expect((await registry.authenticate('locker-a', secret)).ok).toBe(true);
    await devices.revoke('locker-a', 'ada');
    expect(await registry.authenticate('locker-a', secret)).toEqual({ ok: false, reason: 'device revoked' });
  });

  it('S1, S4: the last-seen flush racing 200 revocations and re-keyings never writes the old record back', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `locker-${i}`);
    for (const id of ids)
      await devices.add({ id, room: room(), lockerMode: 'lesson', secret: SECRET }, 'ada');
    for (let round = 0; round < 10; round++) {
      // Every device remembered, every device seen, and then the flush and the changes run together, each change
      // starting a different number of loop turns into the flush.
      for (const id of ids) {
        await registry.authenticate(id, SECRET);
        clock += 1000;
        registry.touch(id, { lastSeen: clock, software: `1.0.${round}` });
      }
      const revoked = ids.filter((_, i) => (i + round) % 2 === 0);
      const rekeyed = ids.filter((_, i) => (i + round) % 2 === 1);
      const turns = async (n: number) => {
        for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
      };
      const secrets = new Map<string, string>();
      await Promise.all([
        registry.flushSeen(),
        ...revoked.map(async (id, i) => {
          await turns(i % 7);
          await devices.revoke(id, 'ada');
        }),
        ...rekeyed.map(async (id, i) => {
          await turns(i % 5);
          secrets.set(id, (await devices.rotate(id, 'ada')).secret);
        }),
      ]);
      await registry.flushSeen(); // what was held back goes now
      for (const id of revoked) {
        expect((await onDisk(id))?.status, id).toBe('revoked');
        expect((await registry.authenticate(id, SECRET)).ok, id).toBe(false);
      }
      for (const id of rekeyed) {
        expect((await registry.authenticate(id, SECRET)).ok, id).toBe(false);
        expect((await registry.authenticate(id, secrets.get(id) as string)).ok, id).toBe(true);
      }
      // Nothing seen is lost either: every device's last-seen reached the disk.
      for (const id of ids) expect((await onDisk(id))?.software, id).toBe(`1.0.${round}`);
      // Put everything back for the next round.
      for (const id of ids) {
        await devices
          .add({ id, room: room(), lockerMode: 'lesson', secret: SECRET }, 'ada')
          .catch(async () => {
            const { op } = await registry.provisionOp({
              id,
              address: { site: school().site, room: room(), device: id },
              secret: SECRET,
              lockerMode: 'lesson',
              now: clock,
            });
            await db.batch([op]);
            registry.forget(id);
          });
      }
    }
  });
});
