/** Realtime pacing of the emulated Uno (firmware/board/uno-core.ts cyclesDue): keeps pace, and slips after a stall. */
import { describe, expect, it } from 'vitest';
import { CYCLES_PER_MS, cyclesDue, MAX_LAG_CYCLES } from '../../../firmware/board/uno-core.js';

describe('cyclesDue', () => {
  it('asks for the cycles the host clock times speed has moved on', () => {
    const pace = { wallStart: 100, cycleStart: 0 };
    expect(cyclesDue(pace, 110, 0, 1)).toBe(10 * CYCLES_PER_MS);
    expect(cyclesDue(pace, 110, 10 * CYCLES_PER_MS, 1)).toBe(0);
    expect(cyclesDue(pace, 140, 0, 0.25)).toBe(10 * CYCLES_PER_MS);
  });

  it('after a stall runs at most MAX_LAG_CYCLES flat out, then keeps pace again', () => {
    const pace = { wallStart: 0, cycleStart: 0 };
    // The host was away for a second: only the allowed lag is due, the rest of the second slips.
    expect(cyclesDue(pace, 1_000, 0, 1)).toBe(MAX_LAG_CYCLES);
    // Once that has run, nothing is due until the host clock moves on, and then only what it moved.
    expect(cyclesDue(pace, 1_000, MAX_LAG_CYCLES, 1)).toBe(0);
    expect(cyclesDue(pace, 1_002, MAX_LAG_CYCLES, 1)).toBe(2 * CYCLES_PER_MS);
  });
});
