/** D2: every kind of data has a retention period by default, and the schedule staff read is in plain words. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETENTION,
  describeDays,
  resolveRetention,
  retentionSchedule,
} from '../../../../hub/retention/retention-defaults.js';
import { RetentionConfig } from '../../../../schemas/config.js';

describe('retention defaults', () => {
  it('D2: every kind the configuration names has a default period; nothing is kept for ever unless configured', () => {
    const kinds = Object.keys(RetentionConfig.properties).filter((k) => k !== 'runAt');
    expect(Object.keys(DEFAULT_RETENTION).sort()).toEqual(kinds.sort());
    expect(resolveRetention(undefined)).toEqual(DEFAULT_RETENTION);
    for (const days of Object.values(resolveRetention({}))) expect(days).toBeLessThan(36_500);
    // The schema documents the same defaults the hub applies.
    for (const kind of kinds)
      expect((RetentionConfig.properties as Record<string, { default?: number }>)[kind]?.default).toBe(
        DEFAULT_RETENTION[kind as keyof typeof DEFAULT_RETENTION],
      );
  });

  it('D2: a configured period replaces the default for that kind only', () => {
    expect(resolveRetention({ rawEventsDays: 7 })).toEqual({ ...DEFAULT_RETENTION, rawEventsDays: 7 });
  });

  it('D2: the schedule is in plain words, with no rule ids, and covers backups', () => {
    const lines = retentionSchedule(DEFAULT_RETENTION, 14);
    expect(lines).toHaveLength(Object.keys(DEFAULT_RETENTION).length + 1);
    const text = lines.map((l) => `${l.what} ${l.keptFor} ${l.note}`).join('\n');
    expect(text).not.toMatch(/\b[PRSD][1-8]\b/);
    expect(lines.find((l) => l.what === 'Reports and tamper incidents')?.keptFor).toBe('6 years');
    expect(lines.find((l) => l.what === 'Backups')?.keptFor).toBe('the newest 14');
    expect(retentionSchedule(DEFAULT_RETENTION, null).at(-1)?.keptFor).toBe('not scheduled');
    expect([describeDays(28), describeDays(730), describeDays(90), describeDays(36_500)]).toEqual([
      '28 days',
      '2 years',
      '3 months',
      'kept',
    ]);
  });
});
