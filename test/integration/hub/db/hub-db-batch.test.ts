/**
 * HubDb's group commit on a real LevelDB (R1: stored exactly once, atomically). Callers that arrive while a write is
 * in flight share the next one, where only the last op per key is written and the ops go straight into classic-level's
 * native batch (hub/db/encoded-batch.ts). What must hold: the database ends as if every caller's batch had been
 * applied alone, in the order they were submitted; and a caller whose batch cannot be stored fails alone, with none of
 * its ops written, while its neighbours in the group are stored.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BatchOp, HubDb, type SublevelName } from '../../../../hub/db/hub-db.js';
import { type NativeWrites, watchNativeWrites } from '../../../support/native-writes.js';

let dir: string;
let db: HubDb;
let native: NativeWrites;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-db-batch-'));
  db = await HubDb.open(dir);
  native = watchNativeWrites((db as unknown as { db: object }).db);
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

/** A small deterministic generator (the same ops every run), so a failure can be replayed. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const SUBS: SublevelName[] = ['chain', 'chain-links', 'dedupe'];

async function contents(): Promise<Map<string, unknown>> {
  const found = new Map<string, unknown>();
  for (const sub of SUBS) for await (const [key, value] of db.entries(sub)) found.set(`${sub}/${key}`, value);
  return found;
}

describe('HubDb group commit (real LevelDB)', () => {
  it('R1: 300 callers in one group, overlapping keys across sublevels: the result of applying each in turn', async () => {
    const random = lcg(7);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
    const keys = Array.from({ length: 40 }, (_, i) => `dev-${i % 10}:${i}`);
    const model = new Map<string, unknown>();
    // The first caller's write is in flight while the others arrive, so they wait and share the next write.
    const first = db.batch([{ type: 'put', sublevel: 'chain', key: 'first', value: 0 }], { sync: true });
    model.set('chain/first', 0);
    const callers: Promise<void>[] = [first];
    let ops = 0;
    for (let c = 0; c < 300; c++) {
      const batch: BatchOp[] = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => {
        const sublevel = pick(SUBS);
        const key = pick(keys);
        return random() < 0.3
          ? { type: 'del', sublevel, key }
          : { type: 'put', sublevel, key, value: { c, i, nested: [c, `${key}`] } };
      });
      for (const op of batch) {
        if (op.type === 'put') model.set(`${op.sublevel}/${op.key}`, op.value);
        else model.delete(`${op.sublevel}/${op.key}`);
      }
      ops += batch.length;
      callers.push(db.batch(batch, { sync: c % 50 === 0 }));
    }
    await Promise.all(callers);
    expect(await contents()).toEqual(model);
    // One write for the first caller, one for the other 300, and that one holds each key once at most.
    expect(native.sizes.length).toBe(2);
    expect(native.sizes[1]).toBeLessThanOrEqual(SUBS.length * keys.length);
    expect(native.sizes[1]).toBeLessThan(ops);
    expect(db.commits).toEqual({ writes: 2, batches: 301 });
    // Both built in the same native batch, cleared between them: classic-level frees a batch only when V8 collects
    // it, so a new one per write let native memory pile up (encoded-batch.ts).
    expect(native.batches).toBe(1);
  });

  it('R1: a caller whose value has no JSON fails alone, none of its ops written; its neighbours are stored', async () => {
    const first = db.batch([{ type: 'put', sublevel: 'chain', key: 'first', value: 0 }]);
    const before = db.batch([{ type: 'put', sublevel: 'dedupe', key: 'a', value: 'kept' }]);
    const noJson = db.batch([
      { type: 'put', sublevel: 'dedupe', key: 'b', value: 'not written either' },
      { type: 'put', sublevel: 'dedupe', key: 'c', value: undefined },
    ]);
    const bigint = db.batch([{ type: 'put', sublevel: 'dedupe', key: 'd', value: { n: 1n } }]);
    const after = db.batch([
      { type: 'put', sublevel: 'dedupe', key: 'e', value: 'kept too' },
      { type: 'del', sublevel: 'chain', key: 'first' },
    ]);
    await first;
    await expect(noJson).rejects.toThrow(/no value to store at dedupe c/);
    await expect(bigint).rejects.toThrow(TypeError);
    await Promise.all([before, after]);
    expect(await contents()).toEqual(
      new Map([
        ['dedupe/a', 'kept'],
        ['dedupe/e', 'kept too'],
      ]),
    );
  });

  it('a write after the database closed is refused with an error, and the process lives (the native batch is not used)', async () => {
    await db.batch([{ type: 'put', sublevel: 'dedupe', key: 'a', value: 1 }], { sync: true });
    await db.close();
    // The native batch made for the first write must not be written now: LevelDB would write to a freed database.
    await expect(
      db.batch([{ type: 'put', sublevel: 'dedupe', key: 'b', value: 2 }], { sync: true }),
    ).rejects.toThrow(/not open/);
    expect(native.sizes).toEqual([1]);
  });
});
