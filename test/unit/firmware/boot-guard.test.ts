import { describe, expect, it } from 'vitest';
import { decideBoot, type PendingUpdate } from '../../../firmware/updates/boot-guard.js';

const limits = { selfCheckMs: 60_000, maxStarts: 3 };
const pending: PendingUpdate = { offer: 'u1', from: '1.0.0', to: '1.1.0', attempts: 0, deadline: null };

describe('boot guard: a new version on trial', () => {
  it('runs normally with nothing pending, and clears a pending update whose switch never happened', () => {
    expect(decideBoot(null, '1.0.0', 0, limits)).toEqual({ kind: 'run', clearPending: false });
    expect(decideBoot(pending, '1.0.0', 0, limits)).toEqual({ kind: 'run', clearPending: true });
  });

  it('counts starts and sets the self-check deadline on the first one', () => {
    const first = decideBoot(pending, '1.1.0', 1_000, limits);
    expect(first).toEqual({ kind: 'trial', pending: { ...pending, attempts: 1, deadline: 61_000 } });
    if (first.kind !== 'trial') throw new Error('unreachable');
    const second = decideBoot(first.pending, '1.1.0', 5_000, limits);
    expect(second).toEqual({ kind: 'trial', pending: { ...pending, attempts: 2, deadline: 61_000 } });
  });

  it('switches back after the allowed starts (a version that crashes at start) or past the deadline', () => {
    expect(decideBoot({ ...pending, attempts: 3, deadline: 61_000 }, '1.1.0', 2_000, limits)).toEqual({
      kind: 'roll-back',
      reason: 'version 1.1.0 did not start (3 attempts)',
    });
    expect(decideBoot({ ...pending, attempts: 1, deadline: 61_000 }, '1.1.0', 61_001, limits)).toEqual({
      kind: 'roll-back',
      reason: 'version 1.1.0 did not reach the hub and pass its self-check within 60 s',
    });
  });
});
