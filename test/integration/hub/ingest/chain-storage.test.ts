/**
 * R7: the chain state on disk (a small head per device and one key per link) against a real LevelDB. Each event adds
 * its own link and drops the oldest past the window; a restart reads back the same chain; a head saved inline by an
 * older hub (v 1) is read as it is and moved to the new layout by the next event, with no fault raised; an event whose
 * write failed is written with its link when the device resends it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BatchOp, HubDb } from '../../../../hub/db/hub-db.js';
import { EventBus } from '../../../../hub/event-bus.js';
import { ChainMonitor } from '../../../../hub/ingest/chain-monitor.js';
import type { ChainState } from '../../../../hub/ingest/chain-tracker.js';
import { silentLogger } from '../../../../hub/log.js';

const ref = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const KEEP = 4;
const hash = (seq: number) => `${seq}`.padStart(64, 'a');
const event = (seq: number) => ({
  kind: 'event' as const,
  seq,
  hash: hash(seq),
  ...(seq > 1 ? { prev: hash(seq - 1) } : {}),
});

const event4Link = { seq: 4, hash: hash(4), prev: hash(3) };

describe('chain state on disk (R7)', () => {
  let dir: string;
  let db: HubDb;
  const faults: unknown[] = [];
  const monitor = () => {
    const bus = new EventBus(silentLogger);
    bus.on('device.fault', (fault) => {
      faults.push(fault);
    });
    return new ChainMonitor({ db, bus, log: silentLogger, now: Date.now, options: { keep: KEEP } });
  };
  /** Observes one event and stores its ops, as ingest does in the event's own batch. */
  const store = async (chain: ChainMonitor, seq: number) => db.batch(await chain.observe(ref, event(seq)));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chain-storage-'));
    db = await HubDb.open(join(dir, 'db'));
    faults.length = 0;
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('R7: each event writes its own link and the head; the oldest past the window is deleted; a restart reads the same chain', async () => {
    const chain = monitor();
    for (let seq = 1; seq <= 3; seq++) await store(chain, seq);
    const ops = await chain.observe(ref, event(4));
    // The head and the new link only: not the links already on disk.
    expect(ops.map((op) => `${op.type} ${op.sublevel}`)).toEqual(['put chain', 'put chain-links']);
    await db.batch(ops);
    await store(chain, 5);
    await store(chain, 6);
    expect((await db.values<{ seq: number }>('chain-links')).map((l) => l.seq)).toEqual([3, 4, 5, 6]);
    const head = await db.get<{ state: Record<string, unknown> }>('chain', ref.device);
    expect(head?.state).toMatchObject({ v: 2, newest: 6, open: [] });
    expect(head?.state).not.toHaveProperty('links');

    const again = monitor(); // a restarted hub: nothing cached
    await again.start();
    expect((await again.stored(ref.device))?.links.map((l) => l.seq)).toEqual([3, 4, 5, 6]);
    // The chain goes on from disk: the next event links to seq 6, a forged one skipping it is a break.
    await store(again, 7);
    expect(faults).toEqual([]);
    await db.batch(await again.observe(ref, { kind: 'event', seq: 9, hash: hash(9), prev: hash(5) }));
    expect(faults).toEqual([expect.objectContaining({ reason: 'event chain broken' })]);
    await again.stop();
  });

  it('R7: an event whose write failed is stored with its link when resent, so a restarted hub finds no gap', async () => {
    const chain = monitor();
    for (let seq = 1; seq <= 3; seq++) await store(chain, seq);
    // Event 4's write fails as a whole (here: one op HubDb refuses; on a school's Pi, a full disk). The cache already
    // holds its link, so without unsaved() the resend changes nothing and is stored with no link.
    const poison: BatchOp = { type: 'put', sublevel: 'dedupe', key: 'event-4', value: undefined };
    await expect(db.batch([...(await chain.observe(ref, event(4))), poison])).rejects.toThrow(TypeError);
    chain.unsaved(ref.device);
    expect((await db.values<{ seq: number }>('chain-links')).map((l) => l.seq)).toEqual([1, 2, 3]);

    const resend = await chain.observe(ref, event(4));
    expect(resend).toContainEqual(
      expect.objectContaining({ type: 'put', sublevel: 'chain-links', value: event4Link }),
    );
    await db.batch(resend);
    // Rewritten once: the next event writes only its own link again (and drops the oldest past the window of 4).
    const next = await chain.observe(ref, event(5));
    expect(next.map((op) => `${op.type} ${op.sublevel}`)).toEqual([
      'put chain',
      'del chain-links',
      'put chain-links',
    ]);
    await db.batch(next);

    const again = monitor(); // a restarted hub: reads the chain from disk alone
    await again.start();
    expect((await again.stored(ref.device))?.links.map((l) => l.seq)).toEqual([2, 3, 4, 5]);
    await store(again, 6);
    expect(again.consistent(ref.device)).toBe(true); // no event awaited: 6 points at 5, which the disk holds
    expect((await again.stored(ref.device))?.open).toEqual([]);
    expect(faults).toEqual([]);
    await again.stop();
    await chain.stop();
  });

  it('R7: a head saved inline by an older hub is read as it is and moved out by the next event', async () => {
    const links = [1, 2, 3].map((seq) => ({
      seq,
      hash: hash(seq),
      ...(seq > 1 ? { prev: hash(seq - 1) } : {}),
    }));
    const legacy: ChainState = { v: 1, links, open: [], counts: { gaps: 0, breaks: 0 }, newest: 3 };
    await db.put('chain', ref.device, { ref, state: legacy });

    const chain = monitor();
    await chain.start();
    expect(await chain.stored(ref.device)).toEqual(legacy);
    expect(chain.isPastChain(ref.device, 4)).toBe(false); // not loaded until the device speaks
    await store(chain, 4);
    expect(faults).toEqual([]);
    expect((await db.values<{ seq: number }>('chain-links')).map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    const stored = await chain.stored(ref.device);
    expect(stored?.links.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect((await db.get<{ state: { v: number } }>('chain', ref.device))?.state.v).toBe(2);
    await chain.stop();
  });
});
