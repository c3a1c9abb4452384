/** R7: the pure decisions of tamper suspicion (the real-broker behaviour is test/integration/hub/tamper-suspect). */
import { describe, expect, it } from 'vitest';
import { clearsSuspicion, suspectOnDrop, type TamperSuspect } from '../../../../hub/tamper/tamper-suspect.js';
import type { LockerState } from '../../../../schemas/messages.js';

const state = (locked: boolean, phones: number): LockerState => ({
  v: 1,
  ts: 0,
  locked,
  doorOpen: false,
  phones,
  slots: 12,
  keyOn: false,
  mode: 'lesson',
});
const s: TamperSuspect = { device: 'd', site: 's', room: 'r', since: 0, phones: 3, returnedAt: 10 };

describe('R7: tamper suspected on a drop', () => {
  it.each([
    [true, state(true, 3), true],
    [true, state(true, 0), false], // nothing to take
    [true, state(false, 3), false], // unlocked by staff: not a locked locker
    [false, state(true, 3), false], // break, exemption or emergency release: not expected locked
    [true, undefined, false], // never reported a state
  ] as const)('R7: expected locked %s, locker %j → %s', (expected, locker, suspect) => {
    expect(suspectOnDrop(expected, locker)).toBe(suspect);
  });

  it('R7: cleared only when back, nothing queued, the chain whole and no gap or break seen', () => {
    expect(clearsSuspicion(s, { queued: 0 }, true)).toBe(true);
    expect(clearsSuspicion({ ...s, returnedAt: undefined }, { queued: 0 }, true)).toBe(false);
    expect(clearsSuspicion(s, { queued: 1 }, true)).toBe(false);
    expect(clearsSuspicion(s, { queued: 0 }, false)).toBe(false);
    expect(clearsSuspicion({ ...s, inconsistent: 'events missing' }, { queued: 0 }, true)).toBe(false);
  });
});
