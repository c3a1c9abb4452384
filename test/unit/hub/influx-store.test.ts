import { HttpError, RequestTimedOutError } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import { classifyError, toLineProtocol } from '../../../hub/store/influx-store.js';
import { StoreRejectedError, StoreUnavailableError } from '../../../hub/store/metrics-store.js';

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
