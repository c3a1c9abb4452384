/** A Pi has no RTC: events record whether the clock was synchronised. */
import { describe, expect, it } from 'vitest';
import { clockSyncProbeFor, fixedProbe, timedatectlProbe } from '../../../firmware/clock-sync.js';

describe('clock synchronisation probe', () => {
  it('reads systemd NTPSynchronized: yes, no, or unknown', async () => {
    const calls: string[][] = [];
    const answer = (text: string) => async (file: string, args: readonly string[]) => {
      calls.push([file, ...args]);
      return text;
    };
    expect(await timedatectlProbe(answer('yes\n'))()).toBe(true);
    expect(await timedatectlProbe(answer('no\n'))()).toBe(false);
    expect(await timedatectlProbe(answer('maybe'))()).toBeUndefined();
    expect(calls[0]).toEqual(['timedatectl', 'show', '-p', 'NTPSynchronized', '--value']);
  });

  it('without systemd the answer is unknown, never "synchronised"', async () => {
    const probe = timedatectlProbe(async () => {
      throw Object.assign(new Error('spawn timedatectl ENOENT'), { code: 'ENOENT' });
    });
    expect(await probe()).toBeUndefined();
  });

  it('defaults: emulated board assumes synced, real boards ask timedatectl; config overrides', async () => {
    expect(await clockSyncProbeFor({ board: { kind: 'emulated-uno' } })()).toBe(true);
    expect(await clockSyncProbeFor({ board: { kind: 'emulated-uno' }, clockSync: 'assume-unsynced' })()).toBe(
      false,
    );
    expect(await fixedProbe(false)()).toBe(false);
  });
});
