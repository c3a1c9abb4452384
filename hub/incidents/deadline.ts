/**
 * R2: "reported to the Online Safety Coordinator that day". The acknowledgement deadline of a report is the end of the
 * school day (the timetable's homeTime, or a configured time) in the school's time zone, on the day it arrived, and
 * never sooner than a minimum wait after it arrived (a report at 15:10 with home time at 15:15 gets the wait).
 * Pure: no clock, no I/O.
 */
import type { IncidentsConfig, Timetable } from '../../schemas/config.js';

export const DEFAULT_MIN_WAIT_MINUTES = 60;

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(ts: number, timeZone: string): LocalParts {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(ts))
      .filter((p) => p.type !== 'literal')
      .map((p) => [p.type, Number(p.value)]),
  ) as unknown as LocalParts;
  return parts;
}

/** Milliseconds the zone is ahead of UTC at instant `ts`. */
export function zoneOffsetMs(ts: number, timeZone: string): number {
  const p = localParts(ts, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ts / 1000) * 1000;
}

/** The instant a local wall-clock time occurs in the zone (the later one across a DST change). */
export function localTimeToUtc(
  date: { year: number; month: number; day: number },
  hour: number,
  minute: number,
  timeZone: string,
): number {
  const guess = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  const first = guess - zoneOffsetMs(guess, timeZone);
  const second = guess - zoneOffsetMs(first, timeZone);
  return Math.max(first, second);
}

export function acknowledgeDeadline(
  receivedAt: number,
  timetable: Pick<Timetable, 'timezone' | 'homeTime'>,
  config: IncidentsConfig = {},
): number {
  const clock =
    !config.acknowledgeBy || config.acknowledgeBy === 'home-time' ? timetable.homeTime : config.acknowledgeBy;
  const [hour, minute] = clock.split(':').map(Number) as [number, number];
  const day = localParts(receivedAt, timetable.timezone);
  const endOfDay = localTimeToUtc(day, hour, minute, timetable.timezone);
  const minWait = (config.escalateAfterMinutes ?? DEFAULT_MIN_WAIT_MINUTES) * 60_000;
  return Math.max(endOfDay, receivedAt + minWait);
}
