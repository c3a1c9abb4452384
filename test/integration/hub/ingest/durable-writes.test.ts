/**
 * The durable-write queue's bounds on a real LevelDB (hub/ingest/durable-writes.ts). A device may have at most 16
 * writes queued for the next group commit, so one device flooding cannot put more than that ahead of another room's
 * report (R1: every room's report is acknowledged during a flood); the writes already taken into the write being
 * committed no longer count, so a busy device fills the next group while its previous one is on its way to disk.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BatchOp, HubDb } from '../../../../hub/db/hub-db.js';
import { DurableWrites } from '../../../../hub/ingest/durable-writes.js';

let dir: string;
let db: HubDb;
/** Per device: submitted writes not yet taken into a LevelDB write, now and at most; and how many each write took. */
let queued: Map<string, number>;
let maxQueued: Map<string, number>;
let taken: Map<string, number>[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'durable-writes-'));
  db = await HubDb.open(dir);
  queued = new Map();
  maxQueued = new Map();
  taken = [];
  // Watches HubDb's queue from outside: which device each batch is from (its dedupe key), and when a write takes it.
  const batch = db.batch.bind(db);
  let group: Map<string, number> | undefined;
  db.batch = (ops: BatchOp[], options = {}) => {
    const device = ops[0]?.key.split(':')[0] as string;
    queued.set(device, (queued.get(device) ?? 0) + 1);
    maxQueued.set(device, Math.max(maxQueued.get(device) ?? 0, queued.get(device) as number));
    return batch(ops, {
      ...options,
      taken: () => {
        queued.set(device, (queued.get(device) ?? 0) - 1);
        if (!group) {
          group = new Map();
          taken.push(group);
          queueMicrotask(() => {
            group = undefined;
          });
        }
        group.set(device, (group.get(device) ?? 0) + 1);
        options.taken?.();
      },
    });
  };
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const op = (device: string, seq: number): BatchOp[] => [
  { type: 'put', sublevel: 'dedupe', key: `${device}:${seq}`, value: 'locker-event' },
];

/** A device sending `count` events as ingest does: one at a time in its own queue, each after room() allows it. */
async function device(writes: DurableWrites, name: string, count: number): Promise<number[]> {
  const stored: number[] = [];
  const all: Promise<unknown>[] = [];
  for (let seq = 1; seq <= count; seq++) {
    await writes.room(name);
    all.push(writes.submit(name, `${name}:${seq}`, op(name, seq), seq).then((s) => stored.push(s)));
  }
  await Promise.all(all);
  return stored;
}

describe('durable writes: what one device may queue', () => {
  it('R1: a flooding device never has more than 16 queued, yet fills groups while its last one is written', async () => {
    const writes = new DurableWrites(db);
    const flood = device(writes, 'flooder', 2_000);
    // Calm rooms start during the flood, each with a few events.
    await new Promise((r) => setTimeout(r, 5));
    const calm = await Promise.all(['room-a', 'room-b', 'room-c'].map((name) => device(writes, name, 20)));
    const flooded = await flood;
    expect(flooded).toEqual(Array.from({ length: 2_000 }, (_, i) => i + 1)); // all stored, in order
    for (const events of calm) expect(events).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(maxQueued.get('flooder')).toBe(16);
    for (const name of ['room-a', 'room-b', 'room-c']) expect(maxQueued.get(name)).toBeLessThanOrEqual(16);
    // The writes a device has on their way to disk do not hold up its next ones: groups take all 16 it queued, not
    // half of them (counting until on disk, its 16 were split between the write in flight and the next).
    const flooderPerGroup = taken.map((g) => g.get('flooder') ?? 0);
    expect(Math.max(...flooderPerGroup)).toBe(16);
    expect(flooderPerGroup.filter((n) => n === 16).length).toBeGreaterThan(flooderPerGroup.length / 2);
    expect(await db.get('dedupe', 'flooder:2000')).toBe('locker-event');
  });
});

describe('durable writes: a write that fails', () => {
  it('R7: names its device (whose cached chain state is then ahead of the disk) and not its neighbours in the group', async () => {
    const failed: string[] = [];
    const writes = new DurableWrites(db, (device) => failed.push(device));
    // One group: room-b's write holds an op HubDb refuses, so only room-b's ops are left out (nothing of them stored).
    const poison: BatchOp = { type: 'put', sublevel: 'dedupe', key: 'room-b:bad', value: undefined };
    const results = await Promise.allSettled([
      writes.submit('room-a', 'room-a:1', op('room-a', 1), 'a'),
      writes.submit('room-b', 'room-b:1', [...op('room-b', 1), poison], 'b'),
      writes.write('room-c', [...op('room-c', 1), { ...poison, key: 'room-c:bad' }]),
      writes.submit('room-d', 'room-d:1', op('room-d', 1), 'd'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(failed).toEqual(['room-b', 'room-c']);
    expect(await db.get('dedupe', 'room-a:1')).toBe('locker-event');
    expect(await db.get('dedupe', 'room-b:1')).toBeUndefined();
    // Released: the event id is no longer claimed, so the device's resend is stored afresh.
    expect(writes.inFlight('room-b:1')).toBeUndefined();
  });
});
