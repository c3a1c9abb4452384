/** S2: the hub's session store at its default idle limit (10 minutes), time given as an argument. */
import { describe, expect, it } from 'vitest';
import { IDLE_LIMIT_MS, SessionStore } from '../../../../hub/http/sessions.js';

const T0 = Date.parse('2026-09-02T09:00:00Z');
const MIN = 60_000;

describe('S2: idle lock after 10 minutes (hub default)', () => {
  it('S2: the default limit is 10 minutes', () => {
    expect(IDLE_LIMIT_MS).toBe(10 * MIN);
  });

  it('S2: a session untouched for 10 minutes is still open; one millisecond more and it is gone for good', () => {
    const store = new SessionStore();
    const { token } = store.create('olly', ['office'], T0);
    expect(store.peek(token, T0 + 10 * MIN)?.username).toBe('olly');
    expect(store.peek(token, T0 + 10 * MIN + 1)).toBeNull();
    expect(store.touch(token, T0 + 10 * MIN + 1)).toBeNull();
    // Dropped: even a clock going back cannot revive it.
    expect(store.touch(token, T0)).toBeNull();
  });

  it('S2: activity restarts the 10 minutes; reading the live stream (peek) does not', () => {
    const store = new SessionStore();
    const { token } = store.create('olly', ['office'], T0);
    expect(store.touch(token, T0 + 9 * MIN)).not.toBeNull();
    expect(store.peek(token, T0 + 18 * MIN)).not.toBeNull(); // 9 min after the activity
    expect(store.peek(token, T0 + 19 * MIN)).not.toBeNull(); // exactly 10 min after it
    expect(store.peek(token, T0 + 19 * MIN + 1)).toBeNull(); // the peeks kept nothing open
  });
});
