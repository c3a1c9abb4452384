/**
 * One LevelDB write of keys and values that are already what LevelDB stores (prefixed keys, encoded values), built op
 * by op in classic-level's native write batch: each put or del is one N-API call with two arguments.
 *
 * Why not an array of ops: classic-level's array batch (`_batch`) has its C++ look up each op's `type`, `key` and
 * `value` by name and copy `type` into a std::string, about 1.9 µs per op on this machine's main thread against 0.9 µs
 * per op here (a group commit of 1,000 small ops, 300 rounds, measured 2026-12-06). A durable event is four ops, and
 * that array build was the largest single cost of the hub storing one (bench/RESULTS.md, f). No array of op objects is
 * built either.
 *
 * Only for databases with no prewrite hooks nor write listeners (the hub sets none): the native batch
 * goes beneath abstract-level's public batch. Before the database is open the ops are kept and handed to the public
 * batch, which queues them until it is.
 */

/** classic-level's native chained batch: `_put`/`_del` call batch_put/batch_del, `_write` commits. */
interface NativeChainedBatch {
  _put(key: string, value: string | Buffer): void;
  _del(key: string): void;
  _write(options: { sync: boolean }): Promise<void>;
}

interface ClassicLevelInternals {
  status: string;
  _chainedBatch?(): NativeChainedBatch;
  batch(ops: EncodedOp[], options: object): Promise<void>;
}

/** An op whose key and value are already what LevelDB stores (no encoding left to do). */
export type EncodedOp = { type: 'put'; key: string; value: string | Buffer } | { type: 'del'; key: string };

export class EncodedBatch {
  private readonly native: NativeChainedBatch | undefined;
  /** The ops kept for the public batch while the database is not open yet. */
  private readonly queued: EncodedOp[] = [];
  /** Ops added so far. */
  size = 0;

  constructor(private readonly db: object) {
    const level = db as ClassicLevelInternals;
    this.native =
      level.status === 'open' && typeof level._chainedBatch === 'function'
        ? level._chainedBatch()
        : undefined;
  }

  put(key: string, value: string | Buffer): void {
    this.size += 1;
    if (this.native) this.native._put(key, value);
    else this.queued.push({ type: 'put', key, value });
  }

  del(key: string): void {
    this.size += 1;
    if (this.native) this.native._del(key);
    else this.queued.push({ type: 'del', key });
  }

  /** Commits every op at once; `sync` fsyncs before it resolves. */
  write(sync: boolean): Promise<void> {
    if (this.native) return this.native._write({ sync });
    return (this.db as ClassicLevelInternals).batch(this.queued, { sync, valueEncoding: 'buffer' });
  }
}
