/**
 * What the demo's four weeks of history contain, decided before anything runs: the school days, and the misses a real
 * school has (a door left open, a late lock, a device offline for a morning, an exemption, a few reports and their
 * workflow). Pure: a function of the school model and today's date. Every figure the dashboard later shows is
 * computed from these happenings by the hub's own ingest, policy and compliance code; none is written here.
 *
 * Misses are placed by position in the list of open days and lesson lockers, so any school model with at least one
 * lesson locker gets them, and the same model and date always give the same plan.
 */

import type { Category } from '../../hub/incidents/workflow.js';
import { addDays, dayStatus, parseClock } from '../../hub/policy/calendar.js';
import { lockedInFormalTime } from '../../hub/policy/policy-engine.js';
import type { SchoolModel } from '../../schemas/config.js';

/** The Compliance page opens on the last 28 days; the history fills exactly them. */
export const HISTORY_DAYS = 28;

export type Miss =
  /** The lesson starts with the locker door still open; the bolt throws, but the door is shut only `minutes` later. */
  | { kind: 'door-left-open'; date: string; device: string; period: string; minutes: number }
  /** Phones go in late: door shut and locked `minutes` after the lesson starts (beyond the grace time, P1). */
  | { kind: 'late-lock'; date: string; device: string; period: string; minutes: number }
  /** The device loses its link from `from` to `to` (local minutes); its journal replays what happened meanwhile. */
  | { kind: 'offline'; date: string; device: string; from: number; to: number };

/** P6: granted by the head that morning for one room and period. */
export interface PlannedExemption {
  date: string;
  room: string;
  period: string;
  reason: string;
}

export interface PlannedStep {
  /** Minutes after the press. */
  after: number;
  command:
    | { type: 'acknowledge'; category: Category }
    | { type: 'note'; text: string }
    | { type: 'close'; outcome: string; category: Category };
}

/** A press of a room's report button (R1) and what the DSL then did with it (R3, R4). */
export interface PlannedReport {
  date: string;
  device: string;
  /** Local minute of the press. */
  minute: number;
  urgency: 'normal' | 'urgent';
  steps: PlannedStep[];
}

export interface HistoryPlan {
  /** Open school days, oldest first; the last may be today. */
  dates: string[];
  misses: Miss[];
  exemptions: PlannedExemption[];
  reports: PlannedReport[];
}

interface PlanDevice {
  id: string;
  room: string;
  lockerMode: string;
}

const pick = <T>(list: readonly T[], i: number): T =>
  list[((i % list.length) + list.length) % list.length] as T;

export function historyPlan(school: SchoolModel, today: string): HistoryPlan {
  const dates: string[] = [];
  for (let d = addDays(today, -(HISTORY_DAYS - 1)); d <= today; d = addDays(d, 1))
    if (dayStatus(school.timetable, d) === 'open') dates.push(d);
  const lessonLockers: PlanDevice[] = school.devices.filter((d) => d.lockerMode === 'lesson');
  const lessons = school.timetable.periods.filter((p) => p.kind === 'lesson');
  // Lock misses happen when phones go in: at a lesson that starts a locked stretch (after break or lunch), not one
  // that follows straight on from another (the locker stays locked across that boundary).
  const lockStarts = lessons.filter(
    (p) => !school.timetable.periods.some((q) => q.end === p.start && lockedInFormalTime(q.kind)),
  );
  // Whole days only: today's lessons after the real clock are left to the live devices.
  const past = dates.filter((d) => d < today);
  if (lessonLockers.length === 0 || lockStarts.length === 0 || past.length < 4)
    return { dates, misses: [], exemptions: [], reports: [] };

  const day = (i: number) => pick(past, i);
  const locker = (i: number) => pick(lessonLockers, i);
  const lesson = (i: number) => pick(lessons, i);
  const misses: Miss[] = [];
  const n = past.length;
  // A door left open now and then, more often in one room than the others: a pattern the chart should show.
  for (const [i, dayIndex] of [2, 6, 9, 13, 17].entries())
    misses.push({
      kind: 'door-left-open',
      date: day(dayIndex % n),
      device: locker(i === 0 || i === 3 ? 0 : 2).id,
      period: pick(lockStarts, i).id,
      minutes: 10 + 5 * i,
    });
  for (const [i, dayIndex] of [1, 4, 8, 11, 15, 18].entries())
    misses.push({
      kind: 'late-lock',
      date: day(dayIndex % n),
      device: locker(1).id,
      period: pick(lockStarts, i + 1).id,
      minutes: 7 + 2 * i,
    });
  // One morning offline: 10:15 to 13:40 local, or the middle of the day for another timetable.
  const firstLesson = lessons[0] as (typeof lessons)[number];
  const from = parseClock(firstLesson.start) + 75;
  misses.push({ kind: 'offline', date: day(Math.floor(n / 2)), device: locker(2).id, from, to: from + 205 });

  const exemptions: PlannedExemption[] = [
    {
      date: day(n - 6),
      room: locker(0).room,
      period: lesson(2).id,
      reason: 'Curriculum use: pupils film their experiment on their phones',
    },
    {
      date: day(5),
      room: locker(1).room,
      period: lesson(3).id,
      reason: 'Curriculum use: online safety lesson on privacy settings',
    },
  ];

  const inLesson = (i: number) => parseClock(lesson(i).start) + 20;
  const reports: PlannedReport[] = [
    {
      date: day(3),
      device: locker(0).id,
      minute: inLesson(1),
      urgency: 'normal',
      steps: [
        { after: 35, command: { type: 'acknowledge', category: 'online-safety' } },
        {
          after: 120,
          command: {
            type: 'note',
            text: 'Spoke with the class about group chats and how to leave one. Reminded them how to report.',
          },
        },
        {
          after: 1500,
          command: {
            type: 'close',
            outcome: 'Class talk given; no further concern raised.',
            category: 'online-safety',
          },
        },
      ],
    },
    {
      date: day(10),
      device: locker(1).id,
      minute: inLesson(3),
      urgency: 'urgent',
      steps: [
        { after: 8, command: { type: 'acknowledge', category: 'bullying' } },
        {
          after: 60,
          command: { type: 'note', text: 'Followed the anti-bullying procedure; parents contacted.' },
        },
        {
          after: 2900,
          command: {
            type: 'close',
            outcome: 'Resolved under the anti-bullying policy; review in two weeks.',
            category: 'bullying',
          },
        },
      ],
    },
    {
      date: day(n - 1),
      device: locker(2).id,
      minute: inLesson(0),
      urgency: 'normal',
      steps: [{ after: 25, command: { type: 'acknowledge', category: 'inappropriate-content' } }],
    },
  ];
  return { dates, misses, exemptions, reports };
}
