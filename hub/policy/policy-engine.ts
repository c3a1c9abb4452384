/**
 * The phone policy as pure functions: what each device should show and whether its locker is locked, at an instant or
 * over a whole day. Time is always an argument (P1–P4, P6, P8).
 *
 * Decisions worth knowing:
 * - Signage is read by everyone in the zone, pupils and staff alike (P3). It shows 'phones-allowed' only where the
 *   matrix says 'yes' for both; where staff may and pupils may not (a staff room or reception at break), it shows
 *   'staff-phones-only', a distinct pattern and words, so a pupil never reads a staff green as their own (P3, P4).
 *   Where only pupils may (no preset does this), the zone's main audience decides: pupils in curriculum areas and the
 *   office see 'phones-allowed', staff in a designated area 'phones-away'. 'if-unavoidable' and 'no' show
 *   'phones-away'. A missing matrix cell means 'no' (phone-free by default).
 * - Warning: signage turns to 'phones-away' `warningMinutes` before phones must be away (e.g. before break ends), so
 *   the sign is the pre-warning; the lock itself engages at the lesson start. There is no separate warning mode.
 * - Grace: the locker is commanded locked at the lesson start; `graceMinutes` is how long after the start the
 *   compliance record allows for the door to be shut and locked (hub/compliance). Locking later would only widen the
 *   window where phones are out.
 * - A classroom locker is locked through lessons and formal school time: registration and assembly (P1, P5), so
 *   registration straight into the first lesson is one locked stretch. Back-to-back lessons keep it locked across
 *   the boundary (no unlock flicker). Compliance (D5) counts every slot of formal school time the locker is locked
 *   through (registration, assembly, lessons), so the termly figures measure what the seeds call "formal school time".
 * - A closed day (weekend, holiday, inset day) shows 'off' and leaves lockers unlocked: nobody's phones are held.
 * - Exemption for room + period + date (P6): 'authorised-use' and the room's classroom lockers unlock for that
 *   period. It never unlocks a day-storage locker (P2): pupils' stored phones are released only by an explicit,
 *   audited action of the head (a storage release for the room, or emergency release), never as a side effect.
 * - Storage release (P2): the head releases the day-storage lockers of one room; a live decision, like emergency
 *   release, never part of a schedule; it touches no classroom locker.
 * - Emergency release overrides everything: every locker unlocks, signage shows 'authorised-use'.
 */
import type { Permission, Policy, SchoolModel, TimeKind, ZoneKind } from '../../schemas/config.js';
import type { LockerMode, ScheduleEntry, SignageMode } from '../../schemas/messages.js';
import {
  addDays,
  dayStatus,
  formatClock,
  localClock,
  parseClock,
  periodsOf,
  slotAtMinute,
  type TimeSlot,
  zonedTime,
} from './calendar.js';

export type Role = 'pupil' | 'staff';

/** P8: the matrix cell for role × time × zone; no cell means 'no'. */
export function permissionAt(policy: Policy, role: Role, time: TimeKind, zone: ZoneKind): Permission {
  return policy.matrix.find((r) => r.role === role && r.time === time && r.zone === zone)?.phones ?? 'no';
}

/**
 * P1, P5: the time kinds a classroom locker is locked through: lessons and the rest of formal school time
 * (registration, assembly). Staff phones in the classroom locker stay locked from registration on.
 */
export function lockedInFormalTime(kind: TimeKind): boolean {
  return kind === 'lesson' || kind === 'registration' || kind === 'assembly';
}

/** P3, P4: whom a zone's signage speaks to. */
export function zoneAudience(zone: ZoneKind): Role {
  return zone === 'designated-phone-area' ? 'staff' : 'pupil';
}

export interface PolicyDevice {
  id: string;
  room: string;
  lockerMode: LockerMode;
}

/** A granted, unrevoked exemption (P6), as the engine needs it. */
export interface ExemptionGrant {
  room: string;
  period: string;
  date: string;
}

/** 'staff': a day-storage locker released by the head for its room (P2). */
export type DirectiveReason = 'timetable' | 'exemption' | 'emergency-release' | 'staff';

export interface Directive {
  signage: SignageMode;
  locked: boolean;
  reason: DirectiveReason;
  kind: TimeKind;
  period?: string;
  /** True while signage shows phones-away ahead of time (warning before a boundary). */
  warning?: boolean;
}

export interface PolicyContext {
  emergency?: boolean;
  /** P2: the head has released this device's room's stored phones (day-storage lockers only). */
  storageReleased?: boolean;
}

export function zoneOf(school: SchoolModel, roomId: string): ZoneKind {
  const room = school.rooms.find((r) => r.id === roomId);
  const zone = room && school.zones.find((z) => z.id === room.zone);
  // An unknown room is treated as a curriculum area: the strictest reading.
  return zone?.kind ?? 'curriculum';
}

/** Every local minute at which some device's directive may change on a given day, sorted (without 0). */
const boundaryCache = new WeakMap<SchoolModel, number[]>();

export function dayBoundaries(school: SchoolModel): number[] {
  let cached = boundaryCache.get(school);
  if (!cached) {
    cached = computeBoundaries(school);
    boundaryCache.set(school, cached);
  }
  return cached;
}

/** An edited model (hub/school/school-settings.ts changes it in place): drop its memoised boundaries. */
export function forgetBoundaries(school: SchoolModel): void {
  boundaryCache.delete(school);
}

function computeBoundaries(school: SchoolModel): number[] {
  const tt = school.timetable;
  const base = new Set<number>([parseClock(tt.arrival, 'arrival'), parseClock(tt.homeTime, 'homeTime')]);
  for (const p of periodsOf(tt)) {
    base.add(p.from);
    base.add(p.to);
  }
  const all = new Set(base);
  const w = school.policy.warningMinutes;
  if (w > 0) for (const b of base) if (b - w > 0) all.add(b - w);
  return [...all].filter((m) => m > 0 && m < 1440).sort((a, b) => a - b);
}

/** P3, P4: what a zone's sign shows for a time kind, read by pupils and staff alike (see the file comment). */
export function signageFor(policy: Policy, time: TimeKind, zone: ZoneKind): SignageMode {
  const pupils = permissionAt(policy, 'pupil', time, zone) === 'yes';
  const staff = permissionAt(policy, 'staff', time, zone) === 'yes';
  if (pupils && staff) return 'phones-allowed';
  if (staff) return 'staff-phones-only';
  if (pupils) return zoneAudience(zone) === 'pupil' ? 'phones-allowed' : 'phones-away';
  return 'phones-away';
}

/** The directive before the warning is applied. */
function baseAt(
  school: SchoolModel,
  device: PolicyDevice,
  date: string,
  minute: number,
  exemptions: readonly ExemptionGrant[],
): Directive {
  const tt = school.timetable;
  if (dayStatus(tt, date) !== 'open')
    return { signage: 'off', locked: false, reason: 'timetable', kind: 'closed' };
  const slot: TimeSlot = slotAtMinute(tt, minute);
  const period = slot.period?.id;
  const exempt =
    period !== undefined &&
    exemptions.some((e) => e.room === device.room && e.period === period && e.date === date);
  let locked = false;
  if (device.lockerMode === 'lesson')
    locked = !exempt && lockedInFormalTime(slot.kind); // P1, P5, P6
  else if (device.lockerMode === 'day-storage')
    // P2: the exemption is deliberately not consulted: stored phones stay locked until home time.
    locked = minute >= parseClock(tt.arrival, 'arrival') && minute < parseClock(tt.homeTime, 'homeTime');
  if (exempt) return { signage: 'authorised-use', locked, reason: 'exemption', kind: slot.kind, period };
  const zone = zoneOf(school, device.room);
  return {
    signage: signageFor(school.policy, slot.kind, zone),
    locked,
    reason: 'timetable',
    kind: slot.kind,
    ...(period !== undefined ? { period } : {}),
  };
}

/** The directive at a local date and minute, warning applied (see the file comment). */
export function directiveAtLocal(
  school: SchoolModel,
  device: PolicyDevice,
  date: string,
  minute: number,
  exemptions: readonly ExemptionGrant[],
  context: PolicyContext = {},
): Directive {
  const here = baseAt(school, device, date, minute, exemptions);
  if (context.emergency) {
    return { ...here, signage: 'authorised-use', locked: false, reason: 'emergency-release' };
  }
  if (context.storageReleased && device.lockerMode === 'day-storage') {
    return { ...here, locked: false, reason: 'staff' };
  }
  const w = school.policy.warningMinutes;
  if ((here.signage !== 'phones-allowed' && here.signage !== 'staff-phones-only') || w === 0) return here;
  const ahead = dayBoundaries(school).filter((b) => b > minute && b <= minute + w);
  if (ahead.some((b) => baseAt(school, device, date, b, exemptions).signage === 'phones-away')) {
    return { ...here, signage: 'phones-away', warning: true };
  }
  return here;
}

/** What a device should be doing at `now` (P1–P4, P6). */
export function deviceDirective(
  school: SchoolModel,
  device: PolicyDevice,
  now: number,
  exemptions: readonly ExemptionGrant[],
  context: PolicyContext = {},
): Directive {
  const clock = localClock(now, school.timetable.timezone);
  return directiveAtLocal(school, device, clock.date, clock.minute, exemptions, context);
}

/** The next instant after `now` at which any directive can change (a boundary or the next local midnight). */
export function nextBoundary(school: SchoolModel, now: number): number {
  const tz = school.timetable.timezone;
  const clock = localClock(now, tz);
  const next = dayBoundaries(school).find((b) => b > clock.minute);
  const at = next === undefined ? zonedTime(addDays(clock.date, 1), 0, tz) : zonedTime(clock.date, next, tz);
  // A boundary inside a DST gap can map to an instant not after now; fall back to the next midnight.
  return at > now ? at : zonedTime(addDays(clock.date, 1), 0, tz);
}

export interface DaySchedule {
  date: string;
  timezone: string;
  entries: ScheduleEntry[];
  otherwise: SignageMode;
}

const MAX_ENTRIES = 48;

function labelFor(d: Directive, school: SchoolModel): string {
  const period = d.period && school.timetable.periods.find((p) => p.id === d.period);
  const base = period ? period.name : d.kind;
  const label =
    d.reason === 'exemption' ? `${base} (authorised use)` : d.warning ? `${base} (warning)` : base;
  return label.slice(0, 40);
}

/**
 * The Command 'schedule' body for a device and local date: every stretch of the day whose signage or lock differs
 * from `otherwise` (the signage at midnight, unlocked), so the device can enforce the day offline. Emergencies are
 * live decisions and never part of a schedule.
 */
export function daySchedule(
  school: SchoolModel,
  device: PolicyDevice,
  date: string,
  exemptions: readonly ExemptionGrant[],
): DaySchedule {
  const starts = [0, ...dayBoundaries(school)];
  const otherwise = directiveAtLocal(school, device, date, 0, exemptions).signage;
  const stretches: (ScheduleEntry & { from: number; to: number })[] = [];
  starts.forEach((from, i) => {
    const to = starts[i + 1] ?? 1440;
    const d = directiveAtLocal(school, device, date, from, exemptions);
    if (d.signage === otherwise && !d.locked) return;
    const label = labelFor(d, school);
    const last = stretches.at(-1);
    if (
      last &&
      last.to === from &&
      last.signage === d.signage &&
      last.locked === d.locked &&
      last.label === label
    ) {
      last.to = to;
      last.end = formatClock(to);
      return;
    }
    stretches.push({
      from,
      to,
      start: formatClock(from),
      end: formatClock(to),
      signage: d.signage,
      locked: d.locked,
      label,
    });
  });
  let entries = stretches;
  if (entries.length > MAX_ENTRIES) {
    // Too many periods to label each: merge neighbours with the same effect.
    const merged: typeof entries = [];
    for (const e of entries) {
      const last = merged.at(-1);
      if (last && last.to === e.from && last.signage === e.signage && last.locked === e.locked) {
        last.to = e.to;
        last.end = e.end;
      } else merged.push({ ...e });
    }
    entries = merged.slice(0, MAX_ENTRIES);
  }
  return {
    date,
    timezone: school.timetable.timezone,
    entries: entries.map(({ start, end, signage, locked, label }) => ({
      start,
      end,
      signage,
      locked,
      label,
    })),
    otherwise,
  };
}

export interface ComplianceWindow {
  /** Period id, or 'day' for a day-storage locker (P2). */
  period: string;
  start: number;
  end: number;
}

/**
 * D5: the windows a locker is expected to be locked on a date: each slot of formal school time for a classroom locker
 * (registration, assembly and lessons: P1, P5, the same kinds lockedInFormalTime locks through), arrival to home time
 * for an office locker (P2), none for an open locker or a closed day.
 */
export function complianceWindows(
  school: SchoolModel,
  device: PolicyDevice,
  date: string,
): ComplianceWindow[] {
  const tt = school.timetable;
  if (dayStatus(tt, date) !== 'open') return [];
  const tz = tt.timezone;
  if (device.lockerMode === 'lesson') {
    return periodsOf(tt)
      .filter((p) => lockedInFormalTime(p.kind))
      .map((p) => ({ period: p.id, start: zonedTime(date, p.from, tz), end: zonedTime(date, p.to, tz) }));
  }
  if (device.lockerMode === 'day-storage') {
    return [
      {
        period: 'day',
        start: zonedTime(date, parseClock(tt.arrival, 'arrival'), tz),
        end: zonedTime(date, parseClock(tt.homeTime, 'homeTime'), tz),
      },
    ];
  }
  return [];
}

/** The epoch window of a period on a date (for exemption expiry and compliance). */
export function periodWindow(
  school: SchoolModel,
  periodId: string,
  date: string,
): { start: number; end: number } | null {
  const p = periodsOf(school.timetable).find((x) => x.id === periodId);
  if (!p) return null;
  const tz = school.timetable.timezone;
  return { start: zonedTime(date, p.from, tz), end: zonedTime(date, p.to, tz) };
}
