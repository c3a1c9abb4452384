/**
 * A consistent copy of a running LevelDB into a new one (D3), without stopping its writers: classic-level iterators
 * read from an implicit snapshot taken when the iterator is created, so every batch committed before that moment is
 * in the copy whole and nothing committed after it is, however long the copy takes. Writers are never paused (a
 * device gets its PUBACK as usual). Keys and values are copied as bytes, whatever encodings the owner uses.
 */
import { Level } from 'level';

/** What a running database offers for a snapshot: a byte iterator (classic-level's `iterator` with buffer encodings). */
export interface SnapshotSource {
  iterator(options: { keyEncoding: 'buffer'; valueEncoding: 'buffer' }): {
    nextv(size: number): Promise<[Buffer, Buffer][]>;
    close(): Promise<void>;
  };
}

const CHUNK = 1_000;

/** Copies `source` as it stands now into a new LevelDB at `targetDir`; reports entries copied so far. */
export async function snapshotLevel(
  source: SnapshotSource,
  targetDir: string,
  progress: (entries: number) => void = () => {},
): Promise<number> {
  const iterator = source.iterator({ keyEncoding: 'buffer', valueEncoding: 'buffer' });
  const target = new Level<Buffer, Buffer>(targetDir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await target.open();
  let copied = 0;
  try {
    for (;;) {
      const entries = await iterator.nextv(CHUNK);
      if (entries.length === 0) break;
      await target.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value })));
      copied += entries.length;
      progress(copied);
    }
  } finally {
    await iterator.close();
    await target.close();
  }
  return copied;
}
