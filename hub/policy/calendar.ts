/**
 * The school calendar as pure functions of (timetable, time). Local dates and clock times come from shared/zoned-time.ts
 * in the timetable's own timezone, never the host's, so a hub in UTC and a DST change day both give the school's wall
 * clock (P1, P2). Times of day are minutes since local midnight.
 */
import type { Period, PeriodKind, TimeKind, Timetable } from '../../schemas/config.js';
import {
  isoWeekdayOf,
  type LocalClock,
  localClock as sharedLocalClock,
  UnknownTimeZoneError,
  zonedInstant,
} from '../../shared/zoned-time.js';
import { HubError } from '../errors.js';

export class PolicyError extends HubError {}

const DAY = 86_400_000;

export type { LocalClock } from '../../shared/zoned-time.js';

/** Zoned time with an unknown zone is a configuration error naming the field. */
function inZone<T>(timezone: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof UnknownTimeZoneError)
      throw new PolicyError('E_TIMEZONE', `timetable.timezone: unknown timezone '${timezone}'`);
    throw error;
  }
}

export function localClock(now: number, timezone: string): LocalClock {
  return inZone(timezone, () => sharedLocalClock(now, timezone));
}

/**
 * The instant a local date and clock time occur in `timezone`. Disambiguates like Temporal's 'compatible': a time
 * skipped by the spring change moves forward by the gap, a time repeated in autumn takes the earlier instant.
 * `minute` may be 1440 (the next midnight).
 */
export function zonedTime(date: string, minute: number, timezone: string): number {
  const [year, month, day] = parseDate(date);
  return inZone(timezone, () => zonedInstant({ year, month, day }, minute, timezone));
}

export function parseClock(hhmm: string, field = 'time'): number {
  const match = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(hhmm);
  if (!match) throw new PolicyError('E_CLOCK_TIME', `${field}: '${hhmm}' is not HH:MM`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/**
 * A daily job's turn (the backup, retention): due once today's `runAt` (HH:MM, school time) has passed and the last
 * run is from before it, so a run missed while the hub was down happens at the first check after it starts.
 */
export function dailyRunDue(
  now: number,
  runAt: string,
  timezone: string,
  lastRun: number | undefined,
  field = 'runAt',
): boolean {
  const todayAt = zonedTime(localClock(now, timezone).date, parseClock(runAt, field), timezone);
  return now >= todayAt && (lastRun === undefined || lastRun < todayAt);
}

export function formatClock(minute: number): string {
  const m = Math.min(Math.max(0, minute), 23 * 60 + 59);
  return `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

function parseDate(date: string): [number, number, number] {
  const match = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(date);
  if (!match) throw new PolicyError('E_DATE', `date: '${date}' is not YYYY-MM-DD`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

export function isoWeekday(date: string): number {
  return isoWeekdayOf(...parseDate(date));
}

/** Calendar arithmetic on YYYY-MM-DD (no timezone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = parseDate(date);
  return new Date(Date.UTC(y, m - 1, d) + days * DAY).toISOString().slice(0, 10);
}

/** The Monday of the ISO week holding `date`. */
export function weekStart(date: string): string {
  return addDays(date, 1 - isoWeekday(date));
}

const pad = (n: number) => String(n).padStart(2, '0');

export type DayStatus = 'open' | 'weekend' | 'holiday' | 'inset';

/** Whether pupils are in: an open weekday, inside a term (when terms are configured), and not an inset day. */
export function dayStatus(timetable: Timetable, date: string): DayStatus {
  if (!timetable.weekdays.includes(isoWeekday(date))) return 'weekend';
  if (timetable.insetDays.includes(date)) return 'inset';
  if (timetable.terms.length > 0 && !timetable.terms.some((t) => t.start <= date && date <= t.end))
    return 'holiday';
  return 'open';
}

export const isSchoolDay = (timetable: Timetable, date: string) => dayStatus(timetable, date) === 'open';

export function termOf(timetable: Timetable, date: string): Timetable['terms'][number] | undefined {
  return timetable.terms.find((t) => t.start <= date && date <= t.end);
}

export interface TimeSlot {
  kind: TimeKind;
  period?: Period;
}

const periodCache = new WeakMap<Timetable, (Period & { from: number; to: number })[]>();

/** Periods sorted by start, with their clock times in minutes (memoised; an edit calls forgetTimetable). */
export function periodsOf(timetable: Timetable): (Period & { from: number; to: number })[] {
  let cached = periodCache.get(timetable);
  if (!cached) {
    cached = parsePeriods(timetable);
    periodCache.set(timetable, cached);
  }
  return cached;
}

/** An edited timetable (hub/school/school-settings.ts changes it in place): drop its memoised periods. */
export function forgetTimetable(timetable: Timetable): void {
  periodCache.delete(timetable);
}

function parsePeriods(timetable: Timetable): (Period & { from: number; to: number })[] {
  return timetable.periods
    .map((p) => ({
      ...p,
      from: parseClock(p.start, `period ${p.id}.start`),
      to: parseClock(p.end, `period ${p.id}.end`),
    }))
    .sort((a, b) => a.from - b.from);
}

/**
 * The time kind at a local minute of an open day. Before the earlier of arrival and the first period is
 * 'before-school'; from the later of home time and the last period's end it is 'after-school'; a gap between
 * periods (changeover), and arrival to the first period, count as 'break'. Arrival starts formal school time: the
 * office locker takes pupils' phones then (P2), so its sign must not still say phones-allowed (P1, P3).
 */
export function slotAtMinute(timetable: Timetable, minute: number): TimeSlot {
  const periods = periodsOf(timetable);
  const first = periods[0];
  if (!first) return { kind: 'closed' };
  const home = Math.max(parseClock(timetable.homeTime, 'homeTime'), ...periods.map((p) => p.to));
  if (minute < Math.min(first.from, parseClock(timetable.arrival, 'arrival')))
    return { kind: 'before-school' };
  if (minute >= home) return { kind: 'after-school' };
  const period = periods.find((p) => p.from <= minute && minute < p.to);
  if (!period) return { kind: 'break' };
  return { kind: period.kind satisfies PeriodKind, period };
}

/** P1, P8: what kind of school time it is at an instant, in the school's timezone. */
export function timeKindAt(timetable: Timetable, now: number): TimeSlot & { date: string; minute: number } {
  const clock = localClock(now, timetable.timezone);
  if (!isSchoolDay(timetable, clock.date)) return { kind: 'closed', date: clock.date, minute: clock.minute };
  return { ...slotAtMinute(timetable, clock.minute), date: clock.date, minute: clock.minute };
}
