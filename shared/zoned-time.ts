/**
 * Wall-clock time in an IANA time zone, for the hub (timetable, deadlines, exports) and the device program (its
 * schedule): pure functions of (epoch ms, zone), from Intl in the zone asked for, never the host's, so a hub or a Pi
 * in UTC and a DST change day both give the school's wall clock. Written once here; every module that needs a local
 * date or time, or the instant of one, calls these.
 */

/** A zone Intl does not know. A RangeError, as Intl's own is, with a code. */
export class UnknownTimeZoneError extends RangeError {
  readonly code = 'E_TIMEZONE';
  constructor(readonly timeZone: string) {
    super(`unknown timezone '${timeZone}'`);
    this.name = 'UnknownTimeZoneError';
  }
}

export interface WallParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

export interface LocalClock {
  /** YYYY-MM-DD in the zone. */
  readonly date: string;
  /** HH:MM, 00:00 to 23:59 (midnight is 00, never 24). */
  readonly time: string;
  /** Whole minutes since local midnight (seconds dropped: every boundary is on a whole minute). */
  readonly minute: number;
  /** ISO weekday, 1 = Monday. */
  readonly weekday: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-GB', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      throw new UnknownTimeZoneError(timeZone);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * Memo of wallParts: a policy round asks for the same few instants (today's boundaries) for every device, and
 * formatToParts was the largest single cost of a round over 3,000 devices. Bounded; cleared when full.
 */
const wallMemo = new Map<string, WallParts>();
const WALL_MEMO_MAX = 10_000;

/** The zone's wall-clock fields at an instant. Throws UnknownTimeZoneError. */
export function wallParts(ms: number, timeZone: string): WallParts {
  const key = `${timeZone}|${ms}`;
  const memo = wallMemo.get(key);
  if (memo) return memo;
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(ms))
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  const parts: WallParts = {
    year: out.year ?? 0,
    month: out.month ?? 0,
    day: out.day ?? 0,
    hour: out.hour ?? 0,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
  };
  if (wallMemo.size >= WALL_MEMO_MAX) wallMemo.clear();
  wallMemo.set(key, parts);
  return parts;
}

/** Milliseconds the zone is ahead of UTC at an instant (BST: +3 600 000). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const p = wallParts(ms, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The last answer per zone. Every real UTC offset is a whole number of minutes, so the local clock only changes on a
 * UTC minute boundary: the device's 20 Hz tick and a policy round over every device ask for the same minute again.
 */
const clockMemo = new Map<string, { utcMinute: number; clock: LocalClock }>();

/** Local date, time of day and weekday at `now` in the zone. Throws UnknownTimeZoneError. */
export function localClock(now: number, timeZone: string): LocalClock {
  const utcMinute = Math.floor(now / MINUTE);
  const memo = clockMemo.get(timeZone);
  if (memo && memo.utcMinute === utcMinute) return memo.clock;
  const p = wallParts(now, timeZone);
  const date = `${p.year}-${pad(p.month)}-${pad(p.day)}`;
  const clock: LocalClock = {
    date,
    time: `${pad(p.hour)}:${pad(p.minute)}`,
    minute: p.hour * 60 + p.minute,
    weekday: isoWeekdayOf(p.year, p.month, p.day),
  };
  clockMemo.set(timeZone, { utcMinute, clock });
  return clock;
}

/**
 * The instant a local date and clock time occur in the zone. A time skipped by the spring change moves forward by
 * the gap (as Temporal's 'compatible'); a time repeated in autumn takes the earlier instant unless `repeated` says
 * 'later'. `minute` may be 1440 (the next midnight).
 */
export function zonedInstant(
  date: { year: number; month: number; day: number },
  minute: number,
  timeZone: string,
  repeated: 'earlier' | 'later' = 'earlier',
): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day) + minute * MINUTE;
  const before = zoneOffsetMs(wall - DAY, timeZone);
  const after = zoneOffsetMs(wall + DAY, timeZone);
  const valid = [wall - before, wall - after].filter(
    (t, i) => zoneOffsetMs(t, timeZone) === (i === 0 ? before : after),
  );
  if (valid.length === 0) return wall - before; // in the gap: shifted forward
  return repeated === 'earlier' ? Math.min(...valid) : Math.max(...valid);
}

/** ISO weekday, 1 = Monday, of a calendar date. */
export function isoWeekdayOf(year: number, month: number, day: number): number {
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return weekday === 0 ? 7 : weekday;
}

const pad = (n: number) => String(n).padStart(2, '0');
