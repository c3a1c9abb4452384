/**
 * The broker persistence's coalesced writes (hub/broker/coalesced-writes.ts) on a real LevelDB: the wills and
 * retained messages of a reconnect storm go to disk in a few batches instead of one put each, without giving up what
 * one put each guaranteed (R1: a device's 'online'/'offline' state and its will survive a hub crash): each write's
 * promise settles only once its batch is written, a key's later write always wins, and a failed batch fails its
 * writers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoalescedWrites } from '../../../../hub/broker/coalesced-writes.js';
import { type NativeWrites, watchNativeWrites } from '../../../support/native-writes.js';

let dir: string;
let level: Level<string, Buffer>;
/** Every write LevelDB was given (its op count) and the most ever in flight at once. */
let native: NativeWrites;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coalesced-'));
  level = new Level(join(dir, 'db'));
  await level.open();
  native = watchNativeWrites(level);
});

afterEach(async () => {
  if (level.status === 'open') await level.close();
  await rm(dir, { recursive: true, force: true });
});

const value = (s: string) => Buffer.from(s);
const read = async (key: string) => (await level.get(key, { valueEncoding: 'buffer' }))?.toString();

describe('coalesced writes', () => {
  it('writes a loop turn of 3,000 keys in one batch, each caller resuming once it is on disk', async () => {
    const writes = new CoalescedWrites(level);
    const done = Array.from({ length: 3000 }, (_, i) => writes.write(`will:dev-${i}`, value(`w${i}`)));
    expect(native.sizes).toEqual([]); // nothing written before the turn ends
    await Promise.all(done);
    expect(native.sizes).toEqual([3000]);
    expect(await read('will:dev-0')).toBe('w0');
    expect(await read('will:dev-2999')).toBe('w2999');
  });

  it("keeps a key's last write, with one batch in flight at a time", async () => {
    const writes = new CoalescedWrites(level);
    const first = writes.write('retained:a', value('online'));
    await new Promise((r) => setImmediate(r)); // the first batch is now in flight
    const second = writes.write('retained:a', value('offline'));
    const third = writes.write('retained:a', null);
    const fourth = writes.write('retained:a', value('online again'));
    await Promise.all([first, second, third, fourth]);
    expect(native.sizes).toEqual([1, 1]);
    expect(native.batches).toBe(1); // one native batch, cleared and reused
    expect(native.maxInFlight).toBe(1);
    expect(await read('retained:a')).toBe('online again');

    // A delete after a put, in later turns, removes it.
    await writes.write('retained:a', null);
    expect(await read('retained:a')).toBeUndefined();
  });

  it('withdraws a write that has not gone to disk, never one in flight', async () => {
    await level.put('will:dev-1', value('stored'), { valueEncoding: 'buffer' });
    const writes = new CoalescedWrites(level);
    const withdrawn = writes.write('will:dev-1', null);
    expect(writes.cancel('will:dev-1')).toBe(true);
    await withdrawn; // its caller still resumes
    expect(await read('will:dev-1')).toBe('stored');

    const gone = writes.write('will:dev-1', null);
    await new Promise((r) => setImmediate(r));
    expect(writes.cancel('will:dev-1')).toBe(false);
    await gone;
    expect(await read('will:dev-1')).toBeUndefined();
  });

  it('fails every writer of a batch LevelDB refuses, and settles', async () => {
    const writes = new CoalescedWrites(level);
    await level.close();
    const refused = [writes.write('will:a', value('x')), writes.write('retained:b', null)];
    for (const write of refused) await expect(write).rejects.toThrow();
    await writes.settled();
  });

  it('settled() waits for writes queued behind the one in flight', async () => {
    const writes = new CoalescedWrites(level);
    void writes.write('k1', value('1'));
    await new Promise((r) => setImmediate(r));
    void writes.write('k2', value('2'));
    await writes.settled();
    expect(await read('k1')).toBe('1');
    expect(await read('k2')).toBe('2');
  });
});
