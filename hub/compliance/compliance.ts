/**
 * The compliance record (D5) as pure arithmetic over a locker's timeline: per room per lesson, never per pupil.
 *
 * Each moment of a lesson falls in exactly one bucket, in this order of precedence:
 *   exempt      an exemption (P6) or an emergency release covered it: neither compliant nor a breach;
 *   offline     the hub could not see the device (offline, or no state known yet): unknown, never compliant;
 *   locked      locked with the door closed: compliant (P1, P2);
 *   breach      anything else (unlocked, or door open).
 * So scheduled = exempt + offline + lockedClosed + breach, and ratio = lockedClosed / (scheduled - exempt).
 * "Locked within grace" asks whether the locker was locked and closed at some moment in [start, start + grace]; it is
 * null when the lesson began exempt.
 */

export interface TimelineEvent {
  ts: number;
  locked?: boolean;
  doorOpen?: boolean;
  online?: boolean;
  tamper?: boolean;
}

export interface Interval {
  start: number;
  end: number;
}

export interface LessonInput {
  start: number;
  end: number;
  graceMs: number;
  /** Events in any order; those before `start` set the state the lesson begins in. */
  events: readonly TimelineEvent[];
  exempt: readonly Interval[];
}

export interface LessonCompliance {
  scheduledMin: number;
  lockedClosedMin: number;
  exemptMin: number;
  offlineMin: number;
  breachMin: number;
  tamperCount: number;
  lockedWithinGrace: boolean | null;
  /** Minutes from the start until first locked and closed; null if never. */
  lockDelayMin: number | null;
  /** null when nothing was due (the whole lesson exempt). */
  ratio: number | null;
}

const MIN = 60_000;
const round = (n: number) => Math.round(n * 1000) / 1000;

type Bucket = 'exempt' | 'offline' | 'locked' | 'breach';

export function lessonCompliance(input: LessonInput): LessonCompliance {
  const { start, end, graceMs } = input;
  const events = [...input.events].sort((a, b) => a.ts - b.ts);
  let locked: boolean | undefined;
  let doorOpen: boolean | undefined;
  let online: boolean | undefined;
  const applyEvent = (e: TimelineEvent) => {
    if (e.locked !== undefined) locked = e.locked;
    if (e.doorOpen !== undefined) doorOpen = e.doorOpen;
    if (e.online !== undefined) online = e.online;
  };
  const cuts = new Set<number>([start, end]);
  for (const e of events) if (e.ts > start && e.ts < end) cuts.add(e.ts);
  for (const x of input.exempt) {
    if (x.start > start && x.start < end) cuts.add(x.start);
    if (x.end > start && x.end < end) cuts.add(x.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const totals: Record<Bucket, number> = { exempt: 0, offline: 0, locked: 0, breach: 0 };
  let firstLocked: number | null = null;
  let startExempt = false;
  let i = 0;
  for (let k = 0; k < points.length - 1; k++) {
    const a = points[k] as number;
    const b = points[k + 1] as number;
    while (i < events.length && (events[i] as TimelineEvent).ts <= a)
      applyEvent(events[i++] as TimelineEvent);
    let bucket: Bucket;
    if (input.exempt.some((x) => x.start <= a && a < x.end)) bucket = 'exempt';
    // No availability seen but state arriving means the device is talking: online unless told otherwise.
    else if (online === false || locked === undefined || doorOpen === undefined) bucket = 'offline';
    else bucket = locked && !doorOpen ? 'locked' : 'breach';
    if (a === start && bucket === 'exempt') startExempt = true;
    if (bucket === 'locked' && firstLocked === null) firstLocked = a;
    totals[bucket] += b - a;
  }
  const due = end - start - totals.exempt;
  return {
    scheduledMin: round((end - start) / MIN),
    lockedClosedMin: round(totals.locked / MIN),
    exemptMin: round(totals.exempt / MIN),
    offlineMin: round(totals.offline / MIN),
    breachMin: round(totals.breach / MIN),
    tamperCount: events.filter((e) => e.tamper && e.ts >= start && e.ts < end).length,
    lockedWithinGrace: startExempt ? null : firstLocked !== null && firstLocked <= start + graceMs,
    lockDelayMin: firstLocked === null ? null : round((firstLocked - start) / MIN),
    ratio: due > 0 ? round(totals.locked / due) : null,
  };
}

export interface RollUp {
  lessons: number;
  scheduledMin: number;
  lockedClosedMin: number;
  exemptMin: number;
  offlineMin: number;
  breachMin: number;
  tamperCount: number;
  /** Lessons locked within grace, out of those where it applied. */
  graceMet: number;
  graceDue: number;
  ratio: number | null;
}

/** Day, week and term roll-ups: sums of minutes, so a long lesson weighs more than a short one. */
export function rollUp(lessons: readonly LessonCompliance[]): RollUp {
  const sum = (f: (l: LessonCompliance) => number) => round(lessons.reduce((s, l) => s + f(l), 0));
  const scheduledMin = sum((l) => l.scheduledMin);
  const exemptMin = sum((l) => l.exemptMin);
  const lockedClosedMin = sum((l) => l.lockedClosedMin);
  const due = scheduledMin - exemptMin;
  return {
    lessons: lessons.length,
    scheduledMin,
    lockedClosedMin,
    exemptMin,
    offlineMin: sum((l) => l.offlineMin),
    breachMin: sum((l) => l.breachMin),
    tamperCount: sum((l) => l.tamperCount),
    graceMet: lessons.filter((l) => l.lockedWithinGrace === true).length,
    graceDue: lessons.filter((l) => l.lockedWithinGrace !== null).length,
    ratio: due > 0 ? round(lockedClosedMin / due) : null,
  };
}
