/** The report button's leading-edge debounce (firmware/board/edge-lockout.ts), on fake timers. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EdgeLockout } from '../../../firmware/board/edge-lockout.js';

let reported: boolean[];
let edges: EdgeLockout;

beforeEach(() => {
  vi.useFakeTimers();
  reported = [];
  edges = new EdgeLockout(7, (closed) => reported.push(closed));
});
afterEach(() => {
  edges.stop();
  vi.useRealTimers();
});

describe('EdgeLockout', () => {
  it('reports an edge at once, not after the debounce time', () => {
    edges.sample(false);
    vi.advanceTimersByTime(20);
    edges.sample(true);
    expect(reported).toEqual([false, true]);
  });

  it('ignores repeated samples of the same level (firmata-io reports every pin of a port)', () => {
    edges.sample(true);
    vi.advanceTimersByTime(20);
    edges.sample(true);
    edges.sample(true);
    expect(reported).toEqual([true]);
  });

  it('swallows bounce inside the lockout and settles on the level it ends on', () => {
    edges.sample(false);
    vi.advanceTimersByTime(20);
    edges.sample(true); // pressed
    edges.sample(false); // bounce
    edges.sample(true);
    vi.advanceTimersByTime(7);
    expect(reported).toEqual([false, true]);
  });

  it('a level that changed during the lockout is reported when it ends', () => {
    edges.sample(false);
    vi.advanceTimersByTime(20);
    edges.sample(true);
    vi.advanceTimersByTime(3);
    edges.sample(false); // a 3 ms glitch: shows as a press and a release 7 ms apart
    expect(reported).toEqual([false, true]);
    vi.advanceTimersByTime(7);
    expect(reported).toEqual([false, true, false]);
  });
});
