/**
 * The broker persistence's MessagePack reader (hub/broker/msgpack-read.ts) returns exactly what msgpack-lite's own
 * decode returns, for every value msgpack-lite writes: the fast subset (maps, arrays, strings of every length class,
 * integers of every width, floats, booleans, nil, Buffers) and what it hands back to msgpack-lite (extension types
 * such as Date).
 */
import msgpack from 'msgpack-lite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeStored } from '../../../../hub/broker/msgpack-read.js';

const packet = {
  cmd: 'publish',
  brokerId: 'bde3077f-a8a6-4699-a743-045310109208',
  brokerCounter: 19_426,
  topic: 'phones-away/v1/demo-school/room-1/dev-1/availability',
  payload: Buffer.from('{"v":1,"status":"offline"}'),
  qos: 1,
  retain: true,
  dup: false,
  messageId: undefined,
};

const VALUES: unknown[] = [
  packet,
  { topic: 'a/+/c', qos: 0, clientId: 'dev-1', rh: undefined, nl: false },
  0,
  127,
  128,
  255,
  256,
  65_535,
  65_536,
  2 ** 32 - 1,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32_768,
  -32_769,
  -(2 ** 31),
  1.5,
  -0.25,
  Number.MAX_SAFE_INTEGER,
  -(2 ** 40),
  null,
  true,
  false,
  '',
  'x'.repeat(31),
  'y'.repeat(32),
  'z'.repeat(256),
  'é日本'.repeat(30_000),
  Buffer.alloc(0),
  Buffer.alloc(300, 7),
  Buffer.alloc(70_000, 9),
  [],
  [1, 'two', [3], { four: 4 }],
  Array.from({ length: 20 }, (_, i) => i),
  Array.from({ length: 70_000 }, (_, i) => i % 3),
  Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
  Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i])),
  { when: new Date(1_700_000_000_000), nested: { deep: [null, true] } },
];

describe('decodeStored', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(VALUES.map((value, i) => [i, value] as const))(
    'value %i decodes as msgpack-lite decodes it',
    (_, value) => {
      const blob = msgpack.encode(value);
      expect(decodeStored(blob)).toStrictEqual(msgpack.decode(blob));
    },
  );

  it('reads the stored subset itself and hands only the rest to msgpack-lite', () => {
    const lite = vi.spyOn(msgpack, 'decode');
    for (const value of VALUES.filter((v) => !(v instanceof Object && 'when' in v)))
      decodeStored(msgpack.encode(value));
    expect(lite).not.toHaveBeenCalled();
    decodeStored(msgpack.encode({ when: new Date(0) }));
    expect(lite).toHaveBeenCalledTimes(1);
  });

  it('returns a Buffer that does not share the stored blob', () => {
    const blob = msgpack.encode(packet);
    const decoded = decodeStored(blob) as { payload: Buffer };
    blob.fill(0);
    expect(decoded.payload.toString()).toBe('{"v":1,"status":"offline"}');
  });

  it('a truncated blob fails as msgpack-lite fails, not with a wrong value', () => {
    const blob = msgpack.encode(packet).subarray(0, 40);
    expect(() => msgpack.decode(blob)).toThrow();
    expect(() => decodeStored(blob)).toThrow();
  });
});
