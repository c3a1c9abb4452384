import { HttpError, Point, RequestTimedOutError } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import { classifyError, toLineProtocol } from '../../../../hub/store/influx-store.js';
import {
  type MetricPoint,
  StoreRejectedError,
  StoreUnavailableError,
} from '../../../../hub/store/metrics-store.js';

/** The client's own serialiser, as the hub used it before assembling lines itself: the reference output. */
function viaClientPoint(p: MetricPoint): string | undefined {
  const point = new Point(p.measurement).timestamp(`${p.ts}${String(p.subMsNs ?? 0).padStart(6, '0')}`);
  for (const [k, v] of Object.entries(p.tags)) if (v !== '') point.tag(k, v);
  for (const [k, v] of Object.entries(p.fields)) {
    if (typeof v === 'number') point.floatField(k, v);
    else if (typeof v === 'boolean') point.booleanField(k, v);
    else point.stringField(k, v);
  }
  return point.toLineProtocol({ convertTime: (t) => (t === undefined ? undefined : String(t)) });
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('toLineProtocol', () => {
  it('writes ms timestamps, floats for every number, sorted tags and fields', () => {
    const line = toLineProtocol({
      measurement: 'locker',
      tags: { room: 'B 12', bay: '3', empty: '' },
      fields: { phones: 3, temp: 21.5, open: false, note: 'say "hi"\\' },
      ts: 1_700_000_000_123,
    });
    expect(line).toBe(
      'locker,bay=3,room=B\\ 12 note="say \\"hi\\"\\\\",open=F,phones=3,temp=21.5 1700000000123000000',
    );
  });

  it("writes exactly what the client library's Point writes, for 20,000 random points with awkward text", () => {
    const rnd = random(20261123);
    // Spaces, commas, equals signs, quotes, backslashes (never last: those are rejected), newlines, non-ASCII, empty.
    const alphabet = ['a', 'Z', '9', ' ', ',', '=', '"', '\\', '\n', 'é', '日', '🙂', '-', '_', '.', '\t'];
    const text = (max: number) => {
      let out = '';
      const n = Math.floor(rnd() * max);
      for (let i = 0; i < n; i++) out += alphabet[Math.floor(rnd() * alphabet.length)];
      return out.endsWith('\\') ? `${out}x` : out;
    };
    const numbers = [0, -0, 1, -1.5, 1e21, 1e-7, 123456.789, Number.MAX_SAFE_INTEGER, -2.5e-300];
    let compared = 0;
    for (let i = 0; i < 20_000; i++) {
      const tags: Record<string, string> = {};
      for (let t = Math.floor(rnd() * 5); t > 0; t--) tags[text(6)] = rnd() < 0.2 ? '' : text(10);
      const fields: Record<string, number | boolean | string> = {};
      for (let f = 1 + Math.floor(rnd() * 4); f > 0; f--) {
        const kind = rnd();
        fields[text(6) || 'v'] =
          kind < 0.4
            ? (numbers[Math.floor(rnd() * numbers.length)] ?? 0) * (rnd() < 0.5 ? 1 : rnd())
            : kind < 0.6
              ? rnd() < 0.5
              : text(12);
      }
      const p: MetricPoint = {
        measurement: text(8) || 'm',
        tags,
        fields,
        ts: Math.floor(rnd() * 2e12),
        ...(rnd() < 0.5 ? { subMsNs: Math.floor(rnd() * 1_000_000) } : {}),
      };
      const expected = viaClientPoint(p);
      if (expected === undefined) {
        expect(() => toLineProtocol(p)).toThrow(StoreRejectedError);
        continue;
      }
      expect(toLineProtocol(p), JSON.stringify(p)).toBe(expected);
      compared += 1;
    }
    expect(compared).toBeGreaterThan(19_000);
    // A property test over 20,000 points, not a timed one: on a loaded 2-core machine it can take longer than 5 s.
  }, 60_000);

  it.each([
    ['no fields', { fields: {} }],
    ['a NaN field', { fields: { v: Number.NaN } }],
    ['an infinite field', { fields: { v: Number.POSITIVE_INFINITY } }],
    ['a fractional timestamp', { ts: 1.5 }],
    ['an empty measurement', { measurement: '' }],
    ['a trailing backslash in a tag', { tags: { t: 'x\\' } }],
    ['an object field', { fields: { v: {} as unknown as number } }],
  ])('rejects %s', (_, patch) => {
    const p = { measurement: 'm', tags: {}, fields: { v: 1 }, ts: 1, ...patch };
    expect(() => toLineProtocol(p)).toThrow(StoreRejectedError);
  });
});

describe('classifyError', () => {
  const http = (status: number, body = '{"error":"boom"}') =>
    new HttpError(status, 'x', body, undefined, 'application/json');

  it('4xx about the points is rejected, with InfluxDB 1.x reason text', () => {
    const e = classifyError(http(400, '{"error":"partial write: field type conflict"}'), 'write');
    expect(e).toBeInstanceOf(StoreRejectedError);
    expect(e.code).toBe('E_STORE_REJECTED');
    expect(e.status).toBe(400);
    expect(e.message).toContain('field type conflict');
    expect(classifyError(http(413), 'write')).toBeInstanceOf(StoreRejectedError);
  });

  it('5xx, auth, missing database, 408/429, timeouts and socket errors are unavailable', () => {
    for (const s of [500, 502, 503, 504, 401, 403, 404, 408, 429]) {
      expect(classifyError(http(s), 'write'), String(s)).toBeInstanceOf(StoreUnavailableError);
    }
    expect(classifyError(new RequestTimedOutError(), 'write')).toBeInstanceOf(StoreUnavailableError);
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const e = classifyError(refused, 'write');
    expect(e).toBeInstanceOf(StoreUnavailableError);
    expect(e.code).toBe('E_STORE_UNAVAILABLE');
    expect(e.cause).toBe(refused);
  });

  it('treats the unexpected as unavailable (a retry is cheaper than lost data)', () => {
    expect(classifyError(new Error('weird'), 'write')).toBeInstanceOf(StoreUnavailableError);
    expect(classifyError('string thrown', 'write')).toBeInstanceOf(StoreUnavailableError);
  });
});
