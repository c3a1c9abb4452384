import { expect, it, describe as suite } from 'vitest';
import { describe, RECENT_RESET_MS } from '../../../../hub/users/account-changes.js';
import type { StoredUser } from '../../../../hub/users/user-store.js';

const NOW = Date.UTC(2026, 11, 7, 9);
const oscar = (reset?: { by: string; at: number }): StoredUser => ({
  username: 'oscar',
  roles: ['office'],
  passwordHash: 'x',
  disabled: false,
  createdAt: 0,
  ...(reset ? { resetBy: reset.by, resetAt: reset.at } : {}),
});
const grant = { kind: 'roles', username: 'oscar', roles: ['office', 'coordinator'] } as const;
const plain = 'change the roles of oscar from office to office, online-safety coordinator';

suite('describing an account change to its approver (S5)', () => {
  it('S5: a report role for an account another person reset lately names the reset', () => {
    expect(
      describe({ ...grant, roles: [...grant.roles] }, oscar({ by: 'user:ada', at: NOW - 3_600_000 }), NOW),
    ).toBe(`${plain} (its password was reset by ada on 2026-12-07: ask oscar in person before approving)`);
  });

  it('S5: names no reset older than the window, made by the person themselves, or for a role that reads no report', () => {
    const roles = [...grant.roles];
    expect(describe({ ...grant, roles }, oscar({ by: 'user:ada', at: NOW - RECENT_RESET_MS - 1 }), NOW)).toBe(
      plain,
    );
    expect(describe({ ...grant, roles }, oscar({ by: 'user:oscar', at: NOW }), NOW)).toBe(plain);
    expect(describe({ ...grant, roles }, oscar(), NOW)).toBe(plain);
    expect(
      describe(
        { kind: 'roles', username: 'oscar', roles: ['office', 'teacher'] },
        oscar({ by: 'user:ada', at: NOW }),
        NOW,
      ),
    ).toBe('change the roles of oscar from office to office, teacher');
  });
});
