/**
 * The prefix-range retained lookup of our Aedes persistence (hub/broker/level-persistence.ts) against a full scan
 * (what aedes-persistence-level does: decode every retained message, keep those the filter matches), on a real
 * LevelDB: for every filter both find exactly the same retained messages, including a filter's parent topic ('a/#'
 * matches 'a'), siblings that only share a prefix, non-ASCII topics and '$' topics.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import msgpack from 'msgpack-lite';
import { QlobberTrue } from 'qlobber';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevelPersistence, retainedRange } from '../../../../hub/broker/level-persistence.js';

type Packet = { topic: string; payload: Buffer | string };

const TOPICS = [
  'a',
  'a/b',
  'a/b/c',
  'a/b/c/d',
  'a/bc',
  'a/b-c',
  'a/b0',
  'a-b/c',
  'ab',
  'b/a',
  'a/é/ü',
  'a/b/日本',
  'a//b',
  '$SYS/broker/uptime',
  'phones-away/v1/demo-school/room-1/dev-1/set/lock',
  'phones-away/v1/demo-school/room-1/dev-1/set/schedule',
  'phones-away/v1/demo-school/room-1/dev-1/ack/report',
  'phones-away/v1/demo-school/room-10/dev-10/set/lock',
  'phones-away/v1/demo-school/room-1/dev-1/availability',
  'phones-away/v1/other-school/room-1/dev-1/set/lock',
];
const FILTERS = [
  '#',
  '+',
  'a',
  'a/#',
  'a/+',
  'a/b/#',
  'a/b/+',
  'a/+/c',
  'a/b',
  'a/é/#',
  '+/b/#',
  '$SYS/#',
  'nothing/#',
  'phones-away/v1/demo-school/room-1/dev-1/set/+',
  'phones-away/v1/demo-school/+/+/set/+',
  'phones-away/v1/demo-school/room-1/dev-1/ack/report',
];

let dir: string;
let level: Level<string, Buffer>;
let persistence: LevelPersistence;

async function collect(stream: AsyncIterable<Packet>): Promise<string[]> {
  const topics: string[] = [];
  for await (const packet of stream) topics.push(`${packet.topic}=${Buffer.from(packet.payload).toString()}`);
  return topics.sort();
}

/** Every retained message in the store whose topic the filters match, filter by filter: the lookup without ranges. */
async function fullScan(filters: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const filter of filters) {
    const matcher = new QlobberTrue({
      wildcard_one: '+',
      wildcard_some: '#',
      separator: '/',
      match_empty_levels: true,
    });
    matcher.add(filter);
    for await (const [key, blob] of level.iterator({
      gte: 'retained:',
      lt: 'retained;',
      valueEncoding: 'buffer',
    })) {
      const packet = msgpack.decode(blob) as Packet;
      expect(key).toBe(`retained:${packet.topic}`);
      if (matcher.test(packet.topic)) found.push(`${packet.topic}=${Buffer.from(packet.payload).toString()}`);
    }
  }
  return found.sort();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pa-retained-'));
  level = new Level(join(dir, 'broker'));
  await level.open();
  persistence = new LevelPersistence(level);
  await persistence.setup({ id: 'test-broker', counter: 0 });
  for (const topic of TOPICS) {
    await persistence.storeRetained({
      cmd: 'publish',
      topic,
      payload: Buffer.from(`payload of ${topic}`),
      qos: 1,
      retain: true,
    });
  }
});

afterAll(async () => {
  await persistence?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('retained lookup by prefix', () => {
  it.each(FILTERS)('finds what a full scan finds for %s', async (filter) => {
    expect(await collect(persistence.createRetainedStream(filter))).toEqual(await fullScan([filter]));
  });

  it('a filter finds its parent topic and none of the siblings that share its prefix', async () => {
    expect(await collect(persistence.createRetainedStream('a/b/#'))).toEqual(
      ['a/b', 'a/b/c', 'a/b/c/d', 'a/b/日本'].map((t) => `${t}=payload of ${t}`).sort(),
    );
  });

  it('combined filters give the same messages as a full scan, filter by filter', async () => {
    const filters = ['a/b/+', 'phones-away/v1/demo-school/room-1/dev-1/set/+', '$SYS/#'];
    const expected = await fullScan(filters);
    expect(expected.length).toBeGreaterThan(3);
    expect(await collect(persistence.createRetainedStreamCombi(filters))).toEqual(expected);
  });

  it('reads only the key range under the literal prefix', () => {
    expect(retainedRange('a/b/+')).toEqual({ gte: 'retained:a/b', lt: 'retained:a/b0' });
    expect(retainedRange('a/b')).toEqual({ gte: 'retained:a/b', lte: 'retained:a/b' });
    expect(retainedRange('+/b')).toEqual({ gte: 'retained:', lt: 'retained;' });
  });
});
