/** Monitor accounts (S5): read-only MQTT credentials for systems that watch a site, read from files at start. */
import { describe, expect, it } from 'vitest';
import { MonitorAccounts } from '../../../../hub/broker/monitor-accounts.js';
import { ConfigError } from '../../../../hub/errors.js';

const files: Record<string, string> = {
  '/etc/pa/bms.secret': 'a-long-monitor-secret-0001\n',
  '/etc/pa/short.secret': 'short',
};
const read = (path: string) => {
  const text = files[path];
  if (text === undefined) throw new Error('ENOENT');
  return text;
};

describe('monitor accounts', () => {
  it('S5: lets a monitor in with its secret (file trimmed), as a read-only principal of this site', () => {
    const accounts = new MonitorAccounts(
      [{ username: 'bms', passwordFile: '/etc/pa/bms.secret' }],
      'demo',
      read,
    );
    expect(accounts.has('bms')).toBe(true);
    expect(accounts.authenticate('bms', 'a-long-monitor-secret-0001')).toEqual({
      kind: 'service',
      id: 'bms',
      role: 'monitor',
      site: 'demo',
    });
    expect(accounts.authenticate('bms', 'a-long-monitor-secret-0002')).toBeNull();
    expect(accounts.authenticate('bms', '')).toBeNull();
    expect(accounts.authenticate('room-1-locker', 'a-long-monitor-secret-0001')).toBeNull();
  });

  it('refuses to start with every bad account named: unreadable file, short secret, a name twice', () => {
    const make = () =>
      new MonitorAccounts(
        [
          { username: 'gone', passwordFile: '/etc/pa/missing.secret' },
          { username: 'tiny', passwordFile: '/etc/pa/short.secret' },
          { username: 'bms', passwordFile: '/etc/pa/bms.secret' },
          { username: 'bms', passwordFile: '/etc/pa/bms.secret' },
        ],
        'demo',
        read,
      );
    expect(make).toThrow(ConfigError);
    try {
      make();
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'monitors/0/passwordFile: cannot read /etc/pa/missing.secret (ENOENT)',
        'monitors/1/passwordFile: secret shorter than 16 characters',
        "monitors/3/username: 'bms' appears twice",
      ]);
    }
  });
});
