/**
 * Single-key writes gathered into one LevelDB batch per loop turn. A reconnect storm of 3,000 devices stores 3,000
 * wills and 3,000 retained 'online' messages within seconds; written one put each, every put woke a LevelDB thread of
 * its own, and on a two-core Pi that was a tenth of the storm's main thread (bench/RESULTS.md, fleet).
 *
 * Order per key is kept: a key's later write replaces its earlier one while both wait, and one batch is in flight at
 * a time (two LevelDB writes in flight at once may land in either order). A write's promise settles with the batch
 * that holds it, so a caller still resumes only once its write is on disk (in LevelDB's log, as a put would be).
 */
import type { Level } from 'level';
import { EncodedWriter } from '../db/encoded-batch.js';
import type { LogFaultGuard } from '../db/log-fault.js';

interface Batch {
  /** Key → value to put, or null to delete. */
  ops: Map<string, Buffer | null>;
  done: Promise<void>;
  settle: (error?: unknown) => void;
}

function newBatch(): Batch {
  let settle!: (error?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  done.catch(() => {}); // each caller gets its own rejection from write(); this one only stops a warning
  return { ops: new Map(), done, settle };
}

export class CoalescedWrites {
  /** The batch still taking writes; it is written once the loop turn ends and no batch is in flight. */
  #next: Batch | undefined;
  #inFlight: Promise<void> | undefined;
  #scheduled = false;
  /** The one native batch every write is built in (one batch in flight at a time). */
  #writer: EncodedWriter;
  /** Refuses writes after a failed one until the database is reopened (hub/db/log-fault.ts). */
  readonly #guard: LogFaultGuard | undefined;

  constructor(db: Level<string, Buffer>, guard?: LogFaultGuard) {
    this.#writer = new EncodedWriter(db);
    this.#guard = guard;
  }

  /** Writes go to `db` from now on: the same files, reopened after a failed write. */
  rebind(db: Level<string, Buffer>): void {
    this.#writer = new EncodedWriter(db);
  }

  /** Puts `value` at `key` (null deletes it) in the next batch; resolves once that batch is written. */
  write(key: string, value: Buffer | null): Promise<void> {
    this.#next ??= newBatch();
    this.#next.ops.set(key, value);
    this.#schedule();
    return this.#next.done;
  }

  /**
   * Withdraws the write waiting for `key`, if it has not gone to disk yet: true when there was one (whoever awaited it
   * still resumes with its batch). A write already in flight cannot be withdrawn.
   */
  cancel(key: string): boolean {
    return this.#next?.ops.delete(key) ?? false;
  }

  /** Resolves once every write made so far is on disk (or has failed). */
  async settled(): Promise<void> {
    while (this.#next || this.#inFlight) {
      await (this.#inFlight ?? this.#next?.done)?.catch(() => {});
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const batch = this.#next;
    this.#next = undefined;
    if (!batch) return;
    // Keys are strings and values buffers already: nothing for abstract-level to encode.
    const native = this.#writer;
    const build = async () => {
      native.begin();
      for (const [key, value] of batch.ops) {
        if (value === null) native.del(key);
        else native.put(key, value);
      }
      if (native.size > 0) await native.write(false);
    };
    const guard = this.#guard;
    const written = guard ? guard.write(build) : build();
    this.#inFlight = written.then(
      () => batch.settle(),
      (error: unknown) => batch.settle(error ?? new Error('batch failed')),
    );
    void this.#inFlight.then(() => {
      this.#inFlight = undefined;
      if (this.#next) this.#schedule();
    });
  }
}
