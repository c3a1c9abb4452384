import { describe, expect, it } from 'vitest';
import { backoffDelay, LINK_BACKOFF } from '../../../firmware/backoff.js';

describe('hub link reconnect backoff', () => {
  it('doubles from 1 s and stops at 30 s (no jitter at random = 0.5)', () => {
    const delays = Array.from({ length: 8 }, (_, attempt) => backoffDelay(attempt, 0.5));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(backoffDelay(10_000, 0.5)).toBe(30_000);
  });

  it('spreads each delay by at most ±20 %, so devices do not reconnect in lockstep', () => {
    expect(backoffDelay(0, 0)).toBe(800);
    expect(backoffDelay(0, 0.999_999)).toBe(1_200);
    expect(backoffDelay(5, 0)).toBe(24_000);
    expect(backoffDelay(5, 0.999_999)).toBe(36_000);
    const spread = new Set(Array.from({ length: 50 }, (_, i) => backoffDelay(3, i / 50)));
    expect(spread.size).toBeGreaterThan(40);
  });

  it('tolerates odd input: negative or fractional attempts, random outside [0, 1)', () => {
    expect(backoffDelay(-3, 0.5)).toBe(1_000);
    expect(backoffDelay(1.7, 0.5)).toBe(2_000);
    expect(backoffDelay(0, 5)).toBe(1_200);
    expect(backoffDelay(0, -1)).toBe(800);
  });

  it('takes its base and cap as options', () => {
    expect(backoffDelay(3, 0.5, { ...LINK_BACKOFF, baseMs: 100, maxMs: 500 })).toBe(500);
    expect(backoffDelay(1, 0.5, { ...LINK_BACKOFF, baseMs: 100 })).toBe(200);
  });
});
