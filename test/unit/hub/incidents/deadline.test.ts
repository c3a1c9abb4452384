import { describe, expect, it } from 'vitest';
import { acknowledgeDeadline, localTimeToUtc } from '../../../../hub/incidents/deadline.js';

const london = { timezone: 'Europe/London', homeTime: '15:15' };

describe('acknowledgement deadline (R2: "that day")', () => {
  it('R2: is home time, local, on the day the report arrived (BST, UTC+1)', () => {
    const received = Date.parse('2026-06-10T09:30:00Z'); // 10:30 in London
    expect(new Date(acknowledgeDeadline(received, london)).toISOString()).toBe('2026-06-10T14:15:00.000Z');
  });

  it('R2: follows the time zone in winter (GMT, UTC+0)', () => {
    const received = Date.parse('2026-12-01T09:30:00Z');
    expect(new Date(acknowledgeDeadline(received, london)).toISOString()).toBe('2026-12-01T15:15:00.000Z');
  });

  it('R2: uses the local date, not the UTC date, near midnight', () => {
    // 00:30 on 11 June in Sydney is still 10 June in UTC.
    const received = Date.parse('2026-06-10T14:30:00Z');
    const deadline = acknowledgeDeadline(received, { timezone: 'Australia/Sydney', homeTime: '15:00' });
    expect(new Date(deadline).toISOString()).toBe('2026-06-11T05:00:00.000Z');
  });

  it('R2: a report close to or after the deadline gets the minimum wait', () => {
    const late = Date.parse('2026-06-10T14:10:00Z'); // 15:10 local, 5 min before home time
    expect(acknowledgeDeadline(late, london)).toBe(late + 60 * 60_000);
    expect(acknowledgeDeadline(late, london, { escalateAfterMinutes: 15 })).toBe(late + 15 * 60_000);
    const evening = Date.parse('2026-06-10T19:00:00Z');
    expect(acknowledgeDeadline(evening, london)).toBe(evening + 60 * 60_000);
  });

  it('R2: honours a configured clock time instead of home time', () => {
    const received = Date.parse('2026-06-10T07:00:00Z');
    const deadline = acknowledgeDeadline(received, london, { acknowledgeBy: '12:00' });
    expect(new Date(deadline).toISOString()).toBe('2026-06-10T11:00:00.000Z');
  });

  it('converts local wall-clock times across the DST change', () => {
    // 29 March 2026: clocks go forward at 01:00 UTC in London.
    expect(
      new Date(localTimeToUtc({ year: 2026, month: 3, day: 29 }, 15, 15, 'Europe/London')).toISOString(),
    ).toBe('2026-03-29T14:15:00.000Z');
    expect(
      new Date(localTimeToUtc({ year: 2026, month: 10, day: 25 }, 15, 15, 'Europe/London')).toISOString(),
    ).toBe('2026-10-25T15:15:00.000Z');
  });
});
