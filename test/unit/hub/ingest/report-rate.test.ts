import { describe, expect, it } from 'vitest';
import { ReportRate } from '../../../../hub/ingest/report-rate.js';

describe('per-device report rate (R1, R7)', () => {
  it('R7: the burst passes one by one, then a flood is collapsed and stays collapsed while it goes on', () => {
    const rate = new ReportRate({ perDevicePerMinute: 6, burst: 3 });
    const t0 = 1_000_000;
    expect([0, 1, 2].map((i) => rate.take('a', t0 + i))).toEqual(['single', 'single', 'single']);
    expect(rate.take('a', t0 + 3)).toBe('flood');
    // One report every 5 s (12 a minute, twice the rate) for 5 minutes: never a single one again.
    const during = Array.from({ length: 60 }, (_, i) => rate.take('a', t0 + 5_000 * (i + 1)));
    expect(new Set(during)).toEqual(new Set(['flood']));
    // Another device is not affected.
    expect(rate.take('b', t0 + 10)).toBe('single');
  });

  it('R1: after the device has been quiet long enough to refill the burst, reports are single again', () => {
    const rate = new ReportRate({ perDevicePerMinute: 6, burst: 3 });
    for (let i = 0; i < 5; i++) rate.take('a', i);
    expect(rate.flooding('a')).toBe(true);
    expect(rate.take('a', 20_000)).toBe('flood'); // 2 tokens back: not yet quiet long enough
    expect(rate.take('a', 20_000 + 30_001)).toBe('single');
    expect(rate.flooding('a')).toBe(false);
  });
});
