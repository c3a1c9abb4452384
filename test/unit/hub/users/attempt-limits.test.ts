import { describe, expect, it } from 'vitest';
import { current, delayAfter, describeWait, waitMs } from '../../../../hub/users/attempt-limits.js';

const rule = { freeAttempts: 5, firstDelayMs: 30_000, maxDelayMs: 15 * 60_000 };

describe('sign-in attempt limits (S1)', () => {
  it('S1: free attempts, then a wait that doubles up to the cap', () => {
    expect([0, 4, 5, 6, 7, 8, 9, 10, 11, 60].map((n) => delayAfter(n, rule))).toEqual([
      0, 0, 30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000,
    ]);
  });

  it('S1: the wait runs from the last counted attempt', () => {
    expect(waitMs(undefined, rule, 1_000)).toBe(0);
    expect(waitMs({ failures: 4, lastAt: 1_000 }, rule, 1_000)).toBe(0);
    expect(waitMs({ failures: 5, lastAt: 1_000 }, rule, 11_000)).toBe(20_000);
    expect(waitMs({ failures: 5, lastAt: 1_000 }, rule, 31_000)).toBe(0);
  });

  it('S1: a counter quiet for the forget time starts again', () => {
    expect(current({ failures: 9, lastAt: 0 }, 999, 1_000)).toEqual({ failures: 9, lastAt: 0 });
    expect(current({ failures: 9, lastAt: 0 }, 1_000, 1_000)).toBeUndefined();
  });

  it('says the wait in plain words', () => {
    expect([1, 1_000, 30_000, 60_000, 61_000, 900_000].map(describeWait)).toEqual([
      '1 second',
      '1 second',
      '30 seconds',
      '1 minute',
      '2 minutes',
      '15 minutes',
    ]);
  });
});
