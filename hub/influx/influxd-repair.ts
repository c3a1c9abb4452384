/**
 * What the hub mends in influxd's files before it starts influxd (R1, D5): two ways influxd 1.6 fails after a full
 * disk or a power cut, each found by a fault test.
 *
 * 1. The write-ahead log. A write that fails part-way (a full disk, a power cut) leaves part of an entry at the end
 * of the WAL segment. influxd 1.6 opens that segment for appending at its old end, then replays it and truncates the
 * broken tail, so its next entries land after a hole of zeros. At the following start the replay stops at the hole
 * and drops every point written after it, each one acknowledged to the hub's outbox with HTTP 204 (seen: 500 of 600
 * points gone after two restarts; test/integration/hub/influx/influxd-repair.test.ts and the supervisor's full-disk
 * test). With the tail cut off first, influxd appends after its last whole entry.
 *
 * A WAL segment is a run of entries: a type byte (1 write, 2 delete, 3 delete range), a big-endian uint32 length, then
 * that many bytes of snappy data. The first entry with an unknown type or a length past the end is where the log
 * stops being whole; everything from there is cut off (influxd would drop it at replay anyway).
 *
 * 2. The series file (`data/<db>/_series/<partition>/<segment>`, series keys by id). influxd creates a segment and
 * writes its header without syncing either, so a power cut in the half minute after a new segment began leaves it all
 * zeros, and influxd then hangs for ever at "Open store" (test/faults/power-cut.test.ts: the hub could not start).
 * Such a partition is emptied: with the in-memory index (our configuration's default) influxd rebuilds every series
 * from its TSM files and WAL as it loads them, so nothing stored is lost with it.
 */
import { type FileHandle, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface WalCut {
  file: string;
  /** Bytes the segment had, and the length of its whole entries it was cut to. */
  from: number;
  to: number;
}

const HEADER_BYTES = 5;
const ENTRY_TYPES = new Set([1, 2, 3]);

/** The length of the whole entries at the start of a segment of `size` bytes, read header by header. */
async function wholeLength(file: FileHandle, size: number): Promise<number> {
  const header = Buffer.alloc(HEADER_BYTES);
  let pos = 0;
  while (pos + HEADER_BYTES <= size) {
    await file.read(header, 0, HEADER_BYTES, pos);
    const length = header.readUInt32BE(1);
    if (!ENTRY_TYPES.has(header[0] as number) || length === 0 || pos + HEADER_BYTES + length > size) break;
    pos += HEADER_BYTES + length;
  }
  return pos;
}

async function* segments(dir: string): AsyncGenerator<string> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* segments(path);
    else if (entry.isFile() && /^_\d+\.wal$/.test(entry.name)) yield path;
  }
}

/** Cuts every segment under `walDir` back to its whole entries (influxd must not be running); says what it cut. */
export async function repairWal(walDir: string): Promise<WalCut[]> {
  const cuts: WalCut[] = [];
  for await (const path of segments(walDir)) {
    const file = await open(path, 'r+');
    try {
      const { size } = await file.stat();
      const whole = await wholeLength(file, size);
      if (whole < size) {
        await file.truncate(whole);
        await file.sync();
        cuts.push({ file: path, from: size, to: whole });
      }
    } finally {
      await file.close();
    }
  }
  return cuts;
}

/** A series segment's header: "SSEG", then version 1. */
const SERIES_SEGMENT_HEADER = Buffer.from([0x53, 0x53, 0x45, 0x47, 1]);

/** Empties each series-file partition under `dataDir` (influxd's `data`) whose first segment has no header. */
export async function repairSeriesFiles(dataDir: string): Promise<string[]> {
  const emptied: string[] = [];
  for (const db of await dirsIn(dataDir)) {
    for (const partition of await dirsIn(join(dataDir, db, '_series'))) {
      const dir = join(dataDir, db, '_series', partition);
      const segments = (await readdir(dir)).filter((f) => /^[0-9a-f]{4}$/.test(f)).sort();
      const first = segments[0];
      if (first === undefined) continue;
      if ((await headerOf(join(dir, first))).equals(SERIES_SEGMENT_HEADER)) continue;
      for (const f of await readdir(dir)) await rm(join(dir, f), { recursive: true, force: true });
      emptied.push(dir);
    }
  }
  return emptied;
}

/** The first bytes of a file, as many as a series segment's header (fewer if the file is shorter). */
async function headerOf(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(SERIES_SEGMENT_HEADER.length);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

async function dirsIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
