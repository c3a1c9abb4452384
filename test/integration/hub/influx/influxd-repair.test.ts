/**
 * influxd's files mended before it starts (R1, D5): crafted WAL segments and series partitions, then a real influxd
 * 1.6 after a "power cut" mid-entry (half of its last entry written again at the end of the segment, as a cut write
 * leaves it). Without the WAL repair influxd appends its next points after a hole and drops them at the following
 * start. The series repair on a real influxd is attacked by test/faults/power-cut.test.ts.
 */
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd } from '../../../../hub/influx/influxd-process.js';
import { repairSeriesFiles, repairWal } from '../../../../hub/influx/influxd-repair.js';
import { InfluxStore } from '../../../../hub/store/influx-store.js';

/** One WAL entry: type byte, big-endian length, payload (its bytes are not read by the repair). */
function entry(type: number, payload: number): Buffer {
  const out = Buffer.alloc(5 + payload, 0xab);
  out[0] = type;
  out.writeUInt32BE(payload, 1);
  return out;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pa-wal-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('influxd WAL repair', () => {
  it('keeps whole segments as they are and cuts each broken one back to its last whole entry', async () => {
    const wal = join(dir, 'crafted', 'wal');
    const shard = (n: number) => join(wal, 'db', 'autogen', String(n));
    for (const n of [1, 2, 3, 4]) await mkdir(shard(n), { recursive: true });
    const whole = Buffer.concat([entry(1, 100), entry(2, 7), entry(3, 20)]);
    await writeFile(join(shard(1), '_00001.wal'), whole);
    await writeFile(join(shard(1), '_00002.wal'), Buffer.alloc(0));
    // A full disk: the last entry's header and part of its data.
    await writeFile(join(shard(2), '_00003.wal'), Buffer.concat([whole, entry(1, 500).subarray(0, 300)]));
    // Only part of a header.
    await writeFile(join(shard(3), '_00001.wal'), Buffer.concat([whole, Buffer.from([1, 0, 0])]));
    // The hole influxd 1.6 leaves: zeros, then a whole entry after them (dropped by influxd at replay anyway).
    await writeFile(join(shard(4), '_00001.wal'), Buffer.concat([whole, Buffer.alloc(64), entry(1, 10)]));
    await writeFile(join(shard(4), 'not-a-segment.txt'), 'left alone');

    const cuts = await repairWal(wal);
    expect(
      cuts.map((c) => ({ ...c, file: c.file.slice(wal.length) })).sort((a, b) => (a.file < b.file ? -1 : 1)),
    ).toEqual([
      { file: '/db/autogen/2/_00003.wal', from: whole.length + 300, to: whole.length },
      { file: '/db/autogen/3/_00001.wal', from: whole.length + 3, to: whole.length },
      { file: '/db/autogen/4/_00001.wal', from: whole.length + 64 + 15, to: whole.length },
    ]);
    for (const [n, name] of [
      [1, '_00001.wal'],
      [2, '_00003.wal'],
      [3, '_00001.wal'],
      [4, '_00001.wal'],
    ] as const)
      expect(await readFile(join(shard(n), name))).toEqual(whole);
    expect((await stat(join(shard(1), '_00002.wal'))).size).toBe(0);
    expect(await readFile(join(shard(4), 'not-a-segment.txt'), 'utf8')).toBe('left alone');
    // A second pass finds nothing; a data directory without a WAL yet is fine.
    expect(await repairWal(wal)).toEqual([]);
    expect(await repairWal(join(dir, 'nothing-here'))).toEqual([]);
  });

  it('empties a series partition whose first segment has no header (a power cut), and keeps whole ones', async () => {
    const data = join(dir, 'series', 'data');
    const partition = (db: string, p: string) => join(data, db, '_series', p);
    const header = Buffer.from('SSEG\x01', 'latin1');
    for (const p of ['00', '01', '02']) await mkdir(partition('school', p), { recursive: true });
    await writeFile(join(partition('school', '00'), '0000'), Buffer.concat([header, Buffer.alloc(1000, 7)]));
    await writeFile(join(partition('school', '00'), '0001'), Buffer.alloc(1000)); // a later segment: influxd's own
    await writeFile(join(partition('school', '01'), '0000'), Buffer.alloc(4096)); // never reached the disk
    await writeFile(join(partition('school', '01'), '0001'), Buffer.concat([header, Buffer.alloc(10)]));
    await mkdir(join(partition('school', '01'), 'index'), { recursive: true });
    await writeFile(join(partition('school', '02'), '0000'), Buffer.from('SSEG')); // cut inside the header
    await mkdir(join(data, 'school', 'autogen', '1'), { recursive: true });
    await writeFile(join(data, 'school', 'autogen', '1', 'fields.idx'), 'kept');

    const emptied = (await repairSeriesFiles(data)).map((d) => d.slice(data.length)).sort();
    expect(emptied).toEqual(['/school/_series/01', '/school/_series/02']);
    expect(await readdir(partition('school', '00'))).toEqual(['0000', '0001']);
    expect(await readdir(partition('school', '01'))).toEqual([]);
    expect(await readdir(partition('school', '02'))).toEqual([]);
    expect(await readFile(join(data, 'school', 'autogen', '1', 'fields.idx'), 'utf8')).toBe('kept');
    expect(await repairSeriesFiles(data)).toEqual([]);
    expect(await repairSeriesFiles(join(dir, 'no-data-yet'))).toEqual([]);
  });

  it('R1: a real influxd after a cut write keeps every point it acknowledges, across two more starts', async () => {
    const data = join(dir, 'real');
    const DB = 'phones_away_test';
    let influxd = await startInfluxd({ dataDir: data, database: DB });
    const store = () => new InfluxStore({ url: influxd.url, database: DB });
    const points = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        measurement: 'locker_event',
        tags: { room: 'room-1' },
        fields: { seq: from + i },
        ts: 1_700_000_000_000 + from + i,
      }));
    const count = async () =>
      ((await store().query('SELECT count("seq") FROM "locker_event"'))[0]?.values[0]?.[1] as number) ?? 0;
    try {
      await store().writePoints(points(0, 100));
      await store().writePoints(points(100, 100));
      await influxd.stop();
      // The power cut: the segment ends part-way through an entry.
      const segmentDir = join(data, 'wal', DB, 'autogen');
      const [shardId] = await readdir(segmentDir);
      const segment = join(segmentDir, shardId as string, '_00001.wal');
      const bytes = await readFile(segment);
      await appendFile(segment, bytes.subarray(0, Math.floor(bytes.length / 2)));

      influxd = await startInfluxd({ dataDir: data, database: DB, ports: influxd.ports });
      expect(await count()).toBe(200);
      await store().writePoints(points(200, 300));
      expect(await count()).toBe(500);
      await influxd.stop();
      influxd = await startInfluxd({ dataDir: data, database: DB, ports: influxd.ports });
      expect(await count()).toBe(500); // 200 without the repair
    } finally {
      await influxd.stop();
    }
  }, 60_000);
});
