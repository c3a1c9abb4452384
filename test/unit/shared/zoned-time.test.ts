import { describe, expect, it } from 'vitest';
import {
  isoWeekdayOf,
  isValidTimeZone,
  localClock,
  UnknownTimeZoneError,
  wallParts,
  zonedInstant,
  zoneOffsetMs,
} from '../../../shared/zoned-time.js';

const LONDON = 'Europe/London';
const iso = (ms: number) => new Date(ms).toISOString();

describe('zoned time (shared by hub and device)', () => {
  it('P1: the local clock follows the zone, not the host, through the spring change and midnight', () => {
    expect(localClock(Date.UTC(2026, 2, 29, 0, 59), LONDON)).toEqual({
      date: '2026-03-29',
      time: '00:59',
      minute: 59,
      weekday: 7,
    });
    expect(localClock(Date.UTC(2026, 2, 29, 1, 0), LONDON)).toMatchObject({ time: '02:00', minute: 120 });
    expect(localClock(Date.UTC(2026, 5, 14, 23, 0), LONDON)).toEqual({
      date: '2026-06-15',
      time: '00:00',
      minute: 0,
      weekday: 1,
    });
    expect(localClock(Date.UTC(2026, 5, 14, 23, 0), 'America/New_York')).toMatchObject({
      date: '2026-06-14',
      time: '19:00',
    });
  });

  it('answers each zone for the instant asked, however calls for two zones interleave within a minute', () => {
    const t = Date.UTC(2026, 0, 5, 12, 0, 30);
    expect(localClock(t, LONDON).time).toBe('12:00');
    expect(localClock(t, 'Asia/Kolkata').time).toBe('17:30');
    expect(localClock(t + 1000, LONDON).time).toBe('12:00');
    expect(localClock(t + 30_000, LONDON).time).toBe('12:01');
    expect(localClock(t - 60_000, LONDON).time).toBe('11:59');
  });

  it('wall parts and the zone offset, to the second', () => {
    const t = Date.UTC(2026, 6, 1, 10, 20, 30, 999);
    expect(wallParts(t, LONDON)).toEqual({ year: 2026, month: 7, day: 1, hour: 11, minute: 20, second: 30 });
    expect(zoneOffsetMs(t, LONDON)).toBe(3_600_000);
    expect(zoneOffsetMs(Date.UTC(2026, 0, 1), LONDON)).toBe(0);
    expect(zoneOffsetMs(Date.UTC(2026, 0, 1), 'Asia/Kolkata')).toBe(5.5 * 3_600_000);
  });

  it('the instant of a local time: plain days, the next midnight, the spring gap and the autumn repeat', () => {
    const day = { year: 2026, month: 9, day: 2 };
    expect(iso(zonedInstant(day, 8 * 60 + 30, LONDON))).toBe('2026-09-02T07:30:00.000Z');
    expect(iso(zonedInstant(day, 1440, LONDON))).toBe('2026-09-02T23:00:00.000Z');
    // 01:30 does not exist on 29 March 2026 in London: moved forward by the hour (02:30 BST).
    const spring = { year: 2026, month: 3, day: 29 };
    expect(iso(zonedInstant(spring, 90, LONDON))).toBe('2026-03-29T01:30:00.000Z');
    expect(iso(zonedInstant(spring, 90, LONDON, 'later'))).toBe('2026-03-29T01:30:00.000Z');
    // 01:30 happens twice on 25 October 2026: first in BST, then in GMT.
    const autumn = { year: 2026, month: 10, day: 25 };
    expect(iso(zonedInstant(autumn, 90, LONDON))).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(zonedInstant(autumn, 90, LONDON, 'later'))).toBe('2026-10-25T01:30:00.000Z');
  });

  it('round trip: the local clock of a computed instant is the local time asked for', () => {
    for (const zone of [LONDON, 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'UTC']) {
      for (let minute = 0; minute < 1440; minute += 37) {
        const at = zonedInstant({ year: 2026, month: 11, day: 4 }, minute, zone);
        expect(localClock(at, zone)).toMatchObject({ date: '2026-11-04', minute });
      }
    }
  });

  it('an unknown zone is a RangeError with a code, and not valid', () => {
    expect(isValidTimeZone(LONDON)).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(() => localClock(0, 'Mars/Olympus_Mons')).toThrow(UnknownTimeZoneError);
    try {
      wallParts(0, 'Nowhere/Town');
    } catch (error) {
      expect(error).toBeInstanceOf(RangeError);
      expect((error as UnknownTimeZoneError).code).toBe('E_TIMEZONE');
    }
    expect.assertions(5);
  });

  it('ISO weekday', () => {
    expect(isoWeekdayOf(2026, 9, 7)).toBe(1);
    expect(isoWeekdayOf(2026, 9, 13)).toBe(7);
  });
});
