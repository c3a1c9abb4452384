/**
 * LevelDB writes of keys and values that are already what LevelDB stores (prefixed keys, encoded values), built op by
 * op in classic-level's native write batch: each put or del is one N-API call with two arguments.
 *
 * Why not an array of ops: classic-level's array batch (`_batch`) has its C++ look up each op's `type`, `key` and
 * `value` by name and copy `type` into a std::string, about 1.9 µs per op on this machine's main thread against 0.9 µs
 * per op here (a group commit of 1,000 small ops, 300 rounds, measured 2026-12-06). A durable event is four ops, and
 * that array build was the largest single cost of the hub storing one (bench/RESULTS.md, f). No array of op objects is
 * built either.
 *
 * One native batch per writer, cleared and reused for each write: classic-level frees a native batch only when V8
 * collects its handle, and V8 does not know the buffer behind it (a group commit of thousands of ops is a megabyte),
 * so a new batch per write let native memory pile up between collections (the 3,000-device fleet's RSS after its burst
 * rose by 25–55 MB). Each writer has one write in flight at most (HubDb's group commit and the broker's coalesced
 * writes both wait for the last), so reuse is safe; the batch keeps the capacity of its largest write.
 *
 * Only for databases with no prewrite hooks nor write listeners (the hub sets none): the native batch goes beneath
 * abstract-level's public batch. While the database is not open the ops are kept and handed to the public batch, which
 * queues them until it opens, or rejects them once it has closed.
 */

/** classic-level's native chained batch: `_put`/`_del` call batch_put/batch_del, `_clear` empties, `_write` commits. */
interface NativeChainedBatch {
  _put(key: string, value: string | Buffer): void;
  _del(key: string): void;
  _clear(): void;
  _write(options: { sync: boolean }): Promise<void>;
}

interface ClassicLevelInternals {
  status: string;
  _chainedBatch?(): NativeChainedBatch;
  batch(ops: EncodedOp[], options: object): Promise<void>;
}

/** An op whose key and value are already what LevelDB stores (no encoding left to do). */
export type EncodedOp = { type: 'put'; key: string; value: string | Buffer } | { type: 'del'; key: string };

export class EncodedWriter {
  #native: NativeChainedBatch | undefined;
  /** The database is not open yet: the ops are kept for the public batch. */
  #queued: EncodedOp[] | undefined;
  #writing = false;
  /** Ops in the write being built. */
  size = 0;

  readonly #level: ClassicLevelInternals;

  constructor(db: object) {
    this.#level = db as ClassicLevelInternals;
  }

  /**
   * Checked as each write is built and again as it is committed, not once: a native batch written after the database
   * closed makes LevelDB write to a database it has freed (the process dies of SIGSEGV), where the public batch
   * rejects with a clear error.
   */
  #open(): boolean {
    return this.#level.status === 'open';
  }

  /** Starts building the next write (the last one's ops are dropped). One write at a time. */
  begin(): void {
    if (this.#writing) throw new Error('EncodedWriter: the previous write is still in flight');
    this.size = 0;
    const level = this.#level;
    if (!this.#open() || typeof level._chainedBatch !== 'function') {
      this.#queued = [];
      return;
    }
    this.#native ??= level._chainedBatch();
    this.#native._clear();
    this.#queued = undefined;
  }

  put(key: string, value: string | Buffer): void {
    this.size += 1;
    if (this.#queued) this.#queued.push({ type: 'put', key, value });
    else this.#native?._put(key, value);
  }

  del(key: string): void {
    this.size += 1;
    if (this.#queued) this.#queued.push({ type: 'del', key });
    else this.#native?._del(key);
  }

  /** Commits every op since begin() at once; `sync` fsyncs before it resolves. */
  async write(sync: boolean): Promise<void> {
    this.#writing = true;
    try {
      if (this.#queued) await this.#level.batch(this.#queued, { sync, valueEncoding: 'buffer' });
      else if (!this.#open()) throw new Error('Database is not open');
      else await this.#native?._write({ sync });
    } finally {
      this.#writing = false;
    }
  }
}
