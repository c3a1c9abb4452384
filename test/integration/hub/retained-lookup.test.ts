/**
 * The prefix-range retained lookup (hub/broker/retained-lookup.ts) against aedes-persistence-level's own, on a real
 * LevelDB: for every filter both find exactly the same retained messages, including a filter's parent topic
 * ('a/#' matches 'a'), siblings that only share a prefix, non-ASCII topics and '$' topics.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import aedesPersistenceLevel from 'aedes-persistence-level';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retainedRange, usePrefixRetainedLookup } from '../../../hub/broker/retained-lookup.js';

type Packet = { topic: string; payload: Buffer | string };
type Store = { storeRetained(packet: object): Promise<void> };

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
let level: Level<string, string>;
let original: ReturnType<typeof aedesPersistenceLevel>;
let prefixed: ReturnType<typeof aedesPersistenceLevel>;

async function collect(stream: AsyncIterable<Packet>): Promise<string[]> {
  const topics: string[] = [];
  for await (const packet of stream) topics.push(`${packet.topic}=${Buffer.from(packet.payload).toString()}`);
  return topics.sort();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pa-retained-'));
  level = new Level(join(dir, 'broker'));
  await level.open();
  original = aedesPersistenceLevel(level);
  prefixed = aedesPersistenceLevel(level);
  usePrefixRetainedLookup(prefixed, level);
  for (const topic of TOPICS) {
    await (original as unknown as Store).storeRetained({
      cmd: 'publish',
      topic,
      payload: Buffer.from(`payload of ${topic}`),
      qos: 1,
      retain: true,
    });
  }
});

afterAll(async () => {
  await level?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('retained lookup by prefix', () => {
  it.each(FILTERS)('finds what aedes-persistence-level finds for %s', async (filter) => {
    const expected = await collect(original.createRetainedStream(filter));
    expect(await collect(prefixed.createRetainedStream(filter))).toEqual(expected);
  });

  it('combined filters give the same messages as the original, filter by filter', async () => {
    const filters = ['a/b/+', 'phones-away/v1/demo-school/room-1/dev-1/set/+', '$SYS/#'];
    const expected = await collect(original.createRetainedStreamCombi(filters));
    expect(expected.length).toBeGreaterThan(3);
    expect(await collect(prefixed.createRetainedStreamCombi(filters))).toEqual(expected);
  });

  it('reads only the key range under the literal prefix', () => {
    expect(retainedRange('a/b/+')).toEqual({ gte: 'retained:a/b', lt: 'retained:a/b0' });
    expect(retainedRange('a/b')).toEqual({ gte: 'retained:a/b', lte: 'retained:a/b' });
    expect(retainedRange('+/b')).toEqual({ gte: 'retained:', lt: 'retained;' });
  });
});
