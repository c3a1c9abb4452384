/** PressTicks: a press measured in board-clock ticks, whenever this program reads the edges (R1). */
import { describe, expect, it } from 'vitest';
import { PressTicks } from '../../../firmware/board/press-ticks.js';

function ticks(t: PressTicks, n: number): void {
  for (let i = 0; i < n; i++) t.tick();
}

describe('PressTicks', () => {
  it('measures a press as a lower bound: n ticks between the edges is more than n - 1 intervals', () => {
    const t = new PressTicks(10);
    ticks(t, 3);
    t.sample(true);
    ticks(t, 12);
    t.sample(false);
    expect(t.release()).toBe(110);
  });

  it('gives 0 for edges within one tick (a glitch), and nothing for a release it saw no press for', () => {
    const t = new PressTicks(10);
    t.sample(true);
    t.tick();
    t.sample(false);
    expect(t.release()).toBe(0);
    t.sample(false);
    expect(t.release()).toBeUndefined();
  });

  it('times from the first close and the open that stands, through bounce and repeated port reports', () => {
    const t = new PressTicks(10);
    t.sample(true);
    t.sample(false); // bounce on the way down
    t.sample(true);
    ticks(t, 5);
    t.sample(true); // Firmata repeats the level when another pin of the port changes
    ticks(t, 5);
    t.sample(false);
    t.sample(true); // bounce on the way up
    t.tick();
    t.sample(false);
    ticks(t, 4);
    t.sample(false); // a repeat while released does not move the end
    expect(t.release()).toBe(100);
  });

  it('starts afresh after each release', () => {
    const t = new PressTicks(10);
    t.sample(true);
    ticks(t, 50);
    t.sample(false);
    t.release();
    t.sample(true);
    ticks(t, 4);
    t.sample(false);
    expect(t.release()).toBe(30);
  });
});
