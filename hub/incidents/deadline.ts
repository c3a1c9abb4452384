/**
 * R2: "reported to the Online Safety Coordinator that day". The acknowledgement deadline of a report is the end of the
 * school day (the timetable's homeTime, or a configured time) in the school's time zone, on the day it arrived, and
 * never sooner than a minimum wait after it arrived (a report at 15:10 with home time at 15:15 gets the wait).
 * Pure: no clock, no I/O.
 */
import type { IncidentsConfig, Timetable } from '../../schemas/config.js';
import { wallParts, zonedInstant } from '../../shared/zoned-time.js';

export const DEFAULT_MIN_WAIT_MINUTES = 60;

/** The instant a local wall-clock time occurs in the zone (the later one across a DST change). */
export function localTimeToUtc(
  date: { year: number; month: number; day: number },
  hour: number,
  minute: number,
  timeZone: string,
): number {
  return zonedInstant(date, hour * 60 + minute, timeZone, 'later');
}

export function acknowledgeDeadline(
  receivedAt: number,
  timetable: Pick<Timetable, 'timezone' | 'homeTime'>,
  config: IncidentsConfig = {},
): number {
  const clock =
    !config.acknowledgeBy || config.acknowledgeBy === 'home-time' ? timetable.homeTime : config.acknowledgeBy;
  const [hour, minute] = clock.split(':').map(Number) as [number, number];
  const day = wallParts(receivedAt, timetable.timezone);
  const endOfDay = localTimeToUtc(day, hour, minute, timetable.timezone);
  const minWait = (config.escalateAfterMinutes ?? DEFAULT_MIN_WAIT_MINUTES) * 60_000;
  return Math.max(endOfDay, receivedAt + minWait);
}
