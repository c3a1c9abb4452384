import { describe, expect, it } from 'vitest';
import {
  type RolloutStep,
  shouldHalt,
  stepProblem,
  targetsOf,
} from '../../../../hub/updates/rollout-plan.js';

const fleet = Array.from({ length: 40 }, (_, i) => ({ id: `d${i}`, room: `room-${i % 8}` }));

describe('staged roll-out plan', () => {
  it('widens only in order: one room, then growing percentages, then everyone', () => {
    const room: RolloutStep = { kind: 'room', room: 'room-1' };
    expect(stepProblem([], { kind: 'percent', percent: 10 })).toBe('start with one room');
    expect(stepProblem([], { kind: 'everyone' })).toBe('start with one room');
    expect(stepProblem([], room)).toBeNull();
    expect(stepProblem([room], { kind: 'room', room: 'room-2' })).toMatch(/one room first/);
    expect(stepProblem([room], { kind: 'percent', percent: 25 })).toBeNull();
    expect(stepProblem([room, { kind: 'percent', percent: 25 }], { kind: 'percent', percent: 25 })).toMatch(
      /more than/,
    );
    expect(stepProblem([room, { kind: 'percent', percent: 25 }], room)).toMatch(/only widens/);
    expect(stepProblem([room], { kind: 'everyone' })).toBeNull();
    expect(stepProblem([room, { kind: 'everyone' }], { kind: 'percent', percent: 50 })).toMatch(
      /already offered/,
    );
  });

  it('a percentage is of the whole fleet, keeps the first room, and each larger one contains the smaller', () => {
    const room: RolloutStep = { kind: 'room', room: 'room-3' };
    const first = targetsOf('u1', fleet, [room]);
    expect([...first].sort()).toEqual(['d11', 'd19', 'd27', 'd3', 'd35']);
    const quarter = targetsOf('u1', fleet, [room, { kind: 'percent', percent: 25 }]);
    expect(quarter.size).toBe(10);
    for (const id of first) expect(quarter.has(id)).toBe(true);
    const half = targetsOf('u1', fleet, [
      room,
      { kind: 'percent', percent: 25 },
      { kind: 'percent', percent: 50 },
    ]);
    expect(half.size).toBe(20);
    for (const id of quarter) expect(half.has(id)).toBe(true);
    // Spread over rooms, not the first rooms in a list.
    expect(new Set(fleet.filter((d) => half.has(d.id)).map((d) => d.room)).size).toBeGreaterThan(4);
    expect(targetsOf('u1', fleet, [room, { kind: 'everyone' }]).size).toBe(40);
    // Stable for one roll-out; another roll-out picks another share.
    expect(targetsOf('u1', fleet, [room, { kind: 'percent', percent: 25 }])).toEqual(quarter);
    expect(targetsOf('u2', fleet, [room, { kind: 'percent', percent: 25 }])).not.toEqual(quarter);
  });

  it('stops by itself only when more devices than allowed have rolled back', () => {
    const progress = { a: { stage: 'rolled-back' }, b: { stage: 'installed' }, c: { stage: 'rolled-back' } };
    expect(shouldHalt(progress, 2)).toBe(false);
    expect(shouldHalt(progress, 1)).toBe(true);
  });
});
