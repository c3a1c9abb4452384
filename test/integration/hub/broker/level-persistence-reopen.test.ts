/**
 * What our Aedes persistence (hub/broker/level-persistence.ts) keeps in memory to make a reconnect cheap (each
 * client's subscriptions; which clients may have a queue) is rebuilt from the disk when a hub starts again on the same
 * LevelDB, as after a kill -9: a reopened persistence answers exactly as the disk says, a queued packet is delivered,
 * and a client whose queue was emptied is answered without a read until something is queued for it again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LevelPersistence, type StoredPacket } from '../../../../hub/broker/level-persistence.js';
import { type NativeWrites, watchNativeWrites } from '../../../support/native-writes.js';

let dir: string;
let level: Level<string, Buffer>;
let persistence: LevelPersistence;
/** Writes through classic-level's native batch (coalesced-writes.ts uses it), watched from the moment of opening. */
let nativeWrites: NativeWrites;

async function open(): Promise<LevelPersistence> {
  level = new Level(join(dir, 'broker'));
  await level.open();
  nativeWrites = watchNativeWrites(level);
  persistence = new LevelPersistence(level);
  await persistence.setup({ id: 'broker-1', counter: 0 });
  return persistence;
}

/** A kill -9 loses nothing LevelDB acknowledged: closing and reopening the same directory stands in for it. */
async function reopen(): Promise<LevelPersistence> {
  await persistence.destroy();
  return open();
}

async function all<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

const command = (n: number): StoredPacket => ({
  cmd: 'publish',
  topic: 'site/room-1/dev-1/set/lock',
  payload: Buffer.from(`lock ${n}`),
  qos: 1,
  retain: false,
  brokerId: 'broker-1',
  brokerCounter: n,
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pa-persistence-reopen-'));
  await open();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await persistence.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('LevelPersistence after a restart', () => {
  it('restores every client’s subscriptions in key order, the offline counts and the client list by filter', async () => {
    await persistence.addSubscriptions({ id: 'dev-1' }, [
      { topic: 'site/room-1/dev-1/set/#', qos: 1 },
      { topic: 'site/room-1/dev-1/ack/report', qos: 1 },
    ]);
    await persistence.addSubscriptions({ id: 'dev-2' }, [{ topic: 'site/room-1/dev-1/set/#', qos: 0 }]);
    await persistence.addSubscriptions({ id: 'gone' }, [{ topic: 'x/#', qos: 1 }]);
    await persistence.removeSubscriptions({ id: 'gone' }, ['x/#']);
    const before = await persistence.subscriptionsByClient({ id: 'dev-1' });
    expect(before.map((s) => s.topic)).toEqual(['site/room-1/dev-1/ack/report', 'site/room-1/dev-1/set/#']);

    await reopen();
    expect(await persistence.subscriptionsByClient({ id: 'dev-1' })).toEqual(before);
    expect(await persistence.subscriptionsByClient({ id: 'dev-2' })).toEqual([
      { topic: 'site/room-1/dev-1/set/#', qos: 0 },
    ]);
    expect(await persistence.subscriptionsByClient({ id: 'gone' })).toEqual([]);
    expect(await persistence.countOffline()).toEqual({ subsCount: 2, clientsCount: 2 });
    expect(await all(persistence.getClientList('site/room-1/dev-1/set/#'))).toEqual(['dev-1', 'dev-2']);
  });

  it('delivers what was queued before the restart, and reads an emptied queue again once something is queued', async () => {
    await persistence.outgoingEnqueue({ clientId: 'dev-1' }, command(1));
    await reopen();
    const queued = await all<StoredPacket>(persistence.outgoingStream({ id: 'dev-1' }));
    expect(queued.map((p) => Buffer.from(p.payload).toString())).toEqual(['lock 1']);

    const stored = queued[0] as StoredPacket;
    await persistence.outgoingUpdate({ id: 'dev-1' }, { ...stored, messageId: 7 });
    expect(
      await persistence.outgoingClearMessageId({ id: 'dev-1' }, { ...stored, messageId: 7 }),
    ).toBeDefined();
    expect(await all(persistence.outgoingStream({ id: 'dev-1' }))).toEqual([]);

    // Found empty once: later reconnects skip the read (a client never queued to never had one).
    const reads = vi.spyOn(level, 'values');
    expect(await all(persistence.outgoingStream({ id: 'dev-1' }))).toEqual([]);
    expect(await all(persistence.outgoingStream({ id: 'dev-9' }))).toEqual([]);
    expect(reads).not.toHaveBeenCalled();

    await persistence.outgoingEnqueue({ clientId: 'dev-1' }, command(2));
    const again = await all<StoredPacket>(persistence.outgoingStream({ id: 'dev-1' }));
    expect(again.map((p) => Buffer.from(p.payload).toString())).toEqual(['lock 2']);
  });

  it('a packet queued while an empty queue is being read is not forgotten', async () => {
    await persistence.outgoingEnqueue({ clientId: 'dev-1' }, command(1));
    await persistence.outgoingUpdate({ id: 'dev-1' }, { ...command(1), messageId: 3 });
    await persistence.outgoingClearMessageId({ id: 'dev-1' }, { ...command(1), messageId: 3 });

    // The stream's read has begun (empty) when the enqueue arrives.
    const stream = persistence.outgoingStream({ id: 'dev-1' });
    const reading = all<StoredPacket>(stream);
    const enqueued = persistence.outgoingEnqueue({ clientId: 'dev-1' }, command(2));
    await Promise.all([reading, enqueued]);
    const next = await all<StoredPacket>(persistence.outgoingStream({ id: 'dev-1' }));
    expect(next.map((p) => Buffer.from(p.payload).toString())).toEqual(['lock 2']);
  });
  it('a PUBACK clears its packet whether the hub restarted since it was sent (read from disk) or not (from memory)', async () => {
    for (const n of [1, 2]) {
      await persistence.outgoingEnqueue({ clientId: 'dev-1' }, command(n));
      await persistence.outgoingUpdate({ id: 'dev-1' }, { ...command(n), messageId: n + 10 });
    }
    // A resend under a new message id: the old id no longer clears anything.
    await persistence.outgoingUpdate({ id: 'dev-1' }, { ...command(2), messageId: 22 });
    expect(await persistence.outgoingClearMessageId({ id: 'dev-1' }, { ...command(2), messageId: 12 })).toBe(
      undefined,
    );
    await reopen();
    // Sent before the restart: found on disk.
    const first = await persistence.outgoingClearMessageId({ id: 'dev-1' }, { ...command(1), messageId: 11 });
    expect(Buffer.from(first?.payload ?? '').toString()).toBe('lock 1');
    // Sent again after it (the device reconnected): cleared from memory, and again from disk after a second restart.
    await persistence.outgoingUpdate({ id: 'dev-1' }, { ...command(2), messageId: 5 });
    const second = await persistence.outgoingClearMessageId({ id: 'dev-1' }, { ...command(2), messageId: 5 });
    expect(Buffer.from(second?.payload ?? '').toString()).toBe('lock 2');
    expect(await persistence.outgoingClearMessageId({ id: 'dev-1' }, { ...command(2), messageId: 22 })).toBe(
      undefined,
    );
    await reopen();
    expect(await all(persistence.outgoingStream({ id: 'dev-1' }))).toEqual([]);
    expect(await persistence.outgoingClearMessageId({ id: 'dev-1' }, { ...command(2), messageId: 5 })).toBe(
      undefined,
    );
  });
  it('a PUBACK from a client with no queue (a clean session, e.g. a flooding device) is answered without a read', async () => {
    await persistence.outgoingEnqueue({ clientId: 'dev-1' }, command(1));
    await persistence.outgoingUpdate({ id: 'dev-1' }, { ...command(1), messageId: 11 });
    await reopen();
    const reads = vi.spyOn(level, 'get');
    for (let id = 1; id <= 100; id++)
      expect(
        await persistence.outgoingClearMessageId({ id: 'flood-1' }, { ...command(id), messageId: id }),
      ).toBe(undefined);
    expect(reads).not.toHaveBeenCalled();
    // A client whose queue is on disk from before the restart is still read, and its packet cleared.
    const cleared = await persistence.outgoingClearMessageId(
      { id: 'dev-1' },
      { ...command(1), messageId: 11 },
    );
    expect(Buffer.from(cleared?.payload ?? '').toString()).toBe('lock 1');
    expect(reads).toHaveBeenCalled();
  });
  it('a device re-subscribing as before writes nothing; a changed subscription is written and read back after a restart', async () => {
    const subs = [
      { topic: 'site/room-1/dev-1/set/#', qos: 1 as const },
      { topic: 'site/room-1/dev-1/ack/report', qos: 1 as const },
    ];
    await persistence.addSubscriptions({ id: 'dev-1' }, subs);
    await reopen();
    const writes = vi.spyOn(level, 'batch');
    await persistence.addSubscriptions({ id: 'dev-1' }, subs); // every reconnect, after a restart too
    expect(writes).not.toHaveBeenCalled();
    await persistence.addSubscriptions({ id: 'dev-1' }, [{ topic: 'site/room-1/dev-1/set/#', qos: 0 }]);
    expect(writes).toHaveBeenCalledTimes(1);
    await reopen();
    expect(await persistence.subscriptionsByClient({ id: 'dev-1' })).toEqual([
      { topic: 'site/room-1/dev-1/ack/report', qos: 1 },
      { topic: 'site/room-1/dev-1/set/#', qos: 0 },
    ]);
  });
  it('a reconnect storing the same will again writes nothing; a changed will is written; a deleted one is gone after a restart', async () => {
    const will = (payload: string): StoredPacket => ({
      ...command(1),
      topic: 'site/room-1/dev-1/status',
      payload: Buffer.from(payload),
      retain: true,
    });
    await persistence.putWill({ id: 'dev-1' }, will('offline'));
    await persistence.putWill({ id: 'dev-2' }, will('offline'));
    // Every way a write can reach LevelDB, classic-level's native batch included (coalesced-writes.ts uses it).
    const writes = [vi.spyOn(level, 'put'), vi.spyOn(level, 'del'), vi.spyOn(level, 'batch')];
    const nativeBefore = nativeWrites.sizes.length;
    const written = () =>
      writes.reduce((n, spy) => n + spy.mock.calls.length, nativeWrites.sizes.length - nativeBefore);
    // What aedes does on every CONNECT: delete the client's will, then store the one the CONNECT carries.
    await persistence.delWill({ id: 'dev-1' });
    await persistence.putWill({ id: 'dev-1' }, will('offline'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(written()).toBe(0);
    await persistence.delWill({ id: 'dev-1' });
    await persistence.putWill({ id: 'dev-1' }, will('gone'));
    expect(written()).toBe(1);
    // A clean disconnect deletes dev-2's will: on disk by the end of the loop turn.
    await persistence.delWill({ id: 'dev-2' });
    expect(await persistence.getWill({ id: 'dev-2' })).toBe(undefined);
    expect((await all<StoredPacket>(persistence.streamWill())).map((w) => w.clientId)).toEqual(['dev-1']);
    await reopen();
    const wills = await all<StoredPacket>(persistence.streamWill());
    expect(wills.map((w) => [w.clientId, Buffer.from(w.payload).toString()])).toEqual([['dev-1', 'gone']]);
  });
  it('wills are read once at start: a CONNECT deletes and stores them without a read, and a restart sees the same', async () => {
    const will = (n: number): StoredPacket => ({
      ...command(n),
      topic: `site/room-1/dev-${n}/status`,
      retain: true,
    });
    await persistence.putWill({ id: 'dev-1' }, will(1));
    await persistence.putWill({ id: 'dev-2' }, will(2));
    await reopen();
    const reads = vi.spyOn(level, 'get');
    expect((await persistence.getWill({ id: 'dev-1' }))?.topic).toBe('site/room-1/dev-1/status');
    expect((await persistence.delWill({ id: 'dev-1' }))?.topic).toBe('site/room-1/dev-1/status');
    expect(await persistence.delWill({ id: 'dev-1' })).toBe(undefined);
    expect(await persistence.delWill({ id: 'dev-9' })).toBe(undefined);
    await persistence.putWill({ id: 'dev-3' }, will(3));
    expect(reads).not.toHaveBeenCalled();
    await reopen();
    expect(await persistence.getWill({ id: 'dev-1' })).toBe(undefined);
    expect((await all<StoredPacket>(persistence.streamWill())).map((w) => w.clientId).sort()).toEqual([
      'dev-2',
      'dev-3',
    ]);
  });
});
