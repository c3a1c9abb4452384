/**
 * Watches the LevelDB writes a database gets through classic-level's native chained batch, the path
 * hub/db/encoded-batch.ts takes once the database is open: the op count of each write (counted from the batch's last
 * clear), the most in flight at once, and how many native batches were made. Every op and write still reaches LevelDB.
 */
interface NativeChainedBatch {
  _put(key: unknown, value: unknown): void;
  _del(key: unknown): void;
  _clear(): void;
  _write(options: unknown): Promise<void>;
}

export interface NativeWrites {
  /** Ops per write, in the order the writes were made. */
  sizes: number[];
  maxInFlight: number;
  /** Native batches made (a writer makes one and reuses it). */
  batches: number;
}

export function watchNativeWrites(level: object): NativeWrites {
  const watched: NativeWrites = { sizes: [], maxInFlight: 0, batches: 0 };
  const db = level as { _chainedBatch(): NativeChainedBatch };
  const make = db._chainedBatch.bind(level);
  let inFlight = 0;
  db._chainedBatch = () => {
    const batch = make();
    watched.batches += 1;
    let ops = 0;
    const put = batch._put.bind(batch);
    const del = batch._del.bind(batch);
    const clear = batch._clear.bind(batch);
    const write = batch._write.bind(batch);
    batch._clear = () => {
      ops = 0;
      clear();
    };
    batch._put = (key, value) => {
      ops += 1;
      put(key, value);
    };
    batch._del = (key) => {
      ops += 1;
      del(key);
    };
    batch._write = async (options) => {
      watched.sizes.push(ops);
      inFlight += 1;
      watched.maxInFlight = Math.max(watched.maxInFlight, inFlight);
      try {
        await write(options);
      } finally {
        inFlight -= 1;
      }
    };
    return batch;
  };
  return watched;
}
