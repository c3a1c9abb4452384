/**
 * D5: one room's locker (room 1, lesson mode) through a realistic school week, the first week of the spring term
 * 2027 in the demo school (Europe/London, GMT, so UTC = wall clock):
 *
 *   Mon 4 Jan   inset day: no lessons (a door forced in the empty room is not a lesson's tamper)
 *   Tue 5 Jan   every lesson locked on time (P1)
 *   Wed 6 Jan   P1 locked late, after the 5-minute grace (P1); P3 door forced open while locked (R7)
 *   Thu 7 Jan   P2 exempt by the head (P6); the device offline over the start of P4 (unknown, never compliant)
 *   Fri 8 Jan   every lesson locked on time
 *
 * Lessons: P1 09:00–10:00, P2 10:00–11:00, P3 11:20–12:20, P4 13:10–14:10, P5 14:10–15:10 (60 min each).
 * Every expected figure is worked out by hand in the comment beside it; none is computed by the code under test.
 * Buckets (hub/compliance/compliance.ts): exempt > offline > locked-and-closed > breach; ratio = locked / (scheduled
 * − exempt), rounded to 3 places.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Interval,
  type LessonCompliance,
  lessonCompliance,
  type RollUp,
  rollUp,
  type TimelineEvent,
} from '../../../../hub/compliance/compliance.js';
import { parseClock, zonedTime } from '../../../../hub/policy/calendar.js';
import { complianceWindows, type PolicyDevice } from '../../../../hub/policy/policy-engine.js';
import type { SchoolModel } from '../../../../schemas/config.js';

const school: SchoolModel = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'config', 'school.example.json'), 'utf8'),
);
const locker: PolicyDevice = { id: 'room-1-locker', room: 'room-1', lockerMode: 'lesson' };
const GRACE_MS = 5 * 60_000; // school.policy.graceMinutes

const DAYS = {
  mon: '2027-01-04',
  tue: '2027-01-05',
  wed: '2027-01-06',
  thu: '2027-01-07',
  fri: '2027-01-08',
} as const;
type Day = keyof typeof DAYS;
const at = (day: Day, hhmm: string) => zonedTime(DAYS[day], parseClock(hhmm), 'Europe/London');

const LESSONS = {
  p1: ['09:00', '10:00'],
  p2: ['10:00', '11:00'],
  p3: ['11:20', '12:20'],
  p4: ['13:10', '14:10'],
  p5: ['14:10', '15:10'],
} as const;
type Period = keyof typeof LESSONS;

// What the hub's bus would have stored for this locker (compliance-recorder's timeline), in the order it happened.
const state = (day: Day, hhmm: string, locked: boolean): TimelineEvent => ({
  ts: at(day, hhmm),
  locked,
  doorOpen: false,
  online: true,
});
const ev = (day: Day, hhmm: string, e: Omit<TimelineEvent, 'ts'>): TimelineEvent => ({
  ts: at(day, hhmm),
  ...e,
});

/** A day on which the teacher locks before each lesson and releases at break, lunch and the end of the day. */
const ordinaryDay = (day: Day, lockAt: [string, string, string]): TimelineEvent[] => [
  state(day, lockAt[0], true), // before P1; P1 → P2 back to back stays locked
  ev(day, '11:00', { locked: false }),
  ev(day, lockAt[1], { locked: true }), // before or at P3
  ev(day, '12:20', { locked: false }),
  ev(day, lockAt[2], { locked: true }), // before or at P4; P4 → P5 stays locked
  ev(day, '15:10', { locked: false }),
];

const timeline: TimelineEvent[] = [
  // Monday, inset day: the device reports in; someone forces the door of the empty room at 10:00.
  state('mon', '08:00', false),
  ev('mon', '10:00', { doorOpen: true }),
  ev('mon', '10:00', { tamper: true }),
  ev('mon', '10:04', { doorOpen: false }),
  // Tuesday: on time all day.
  ...ordinaryDay('tue', ['08:55', '11:19', '13:10']),
  // Wednesday.
  ev('wed', '09:08', { locked: true }), // P1 late: unlocked since Tuesday 15:10
  ev('wed', '11:00', { locked: false }),
  ev('wed', '11:20', { locked: true }),
  ev('wed', '11:50', { doorOpen: true }), // R7: door forced while locked
  ev('wed', '11:50', { tamper: true }),
  ev('wed', '11:56', { doorOpen: false }),
  ev('wed', '12:20', { locked: false }),
  ev('wed', '13:09', { locked: true }),
  ev('wed', '15:10', { locked: false }),
  // Thursday.
  ev('thu', '08:58', { locked: true }),
  ev('thu', '10:00', { locked: false }), // P6: the exemption releases the locker for P2
  ev('thu', '10:02', { doorOpen: true }),
  ev('thu', '10:50', { doorOpen: false }),
  ev('thu', '11:20', { locked: true }),
  ev('thu', '12:20', { locked: false }),
  ev('thu', '12:50', { online: false }), // last will: the hub loses the device over lunch
  state('thu', '13:25', true), // back online; locked (it enforced its schedule offline, but the hub cannot know)
  ev('thu', '15:10', { locked: false }),
  // Friday: on time all day.
  ...ordinaryDay('fri', ['08:57', '11:18', '13:05']),
];

/** P6: Thursday's P2 exemption, as ExemptionStore.exemptIntervals would give it. */
const exempt: Interval[] = [{ start: at('thu', '10:00'), end: at('thu', '11:00') }];

const onTime: LessonCompliance = {
  scheduledMin: 60,
  lockedClosedMin: 60,
  exemptMin: 0,
  offlineMin: 0,
  breachMin: 0,
  tamperCount: 0,
  lockedWithinGrace: true,
  lockDelayMin: 0,
  ratio: 1,
};

interface Case {
  rule: string;
  what: string;
  day: Day;
  period: Period;
  expected: LessonCompliance;
}

const cases: Case[] = [
  ...(['p1', 'p2', 'p3', 'p4', 'p5'] as const).map((period) => ({
    rule: 'P1',
    what: 'locked before the bell (08:55, kept over P1→P2, 11:19, 13:10 exactly, kept over P4→P5): 60/60',
    day: 'tue' as const,
    period,
    expected: onTime,
  })),
  {
    rule: 'P1',
    what: 'late lock at 09:08, after the 5-min grace: breach 09:00–09:08 = 8, locked 60 − 8 = 52, 52/60 = 0.867',
    day: 'wed',
    period: 'p1',
    expected: {
      ...onTime,
      lockedClosedMin: 52,
      breachMin: 8,
      lockedWithinGrace: false,
      lockDelayMin: 8,
      ratio: 0.867,
    },
  },
  {
    rule: 'P1',
    what: 'still locked from 09:08 over the P1→P2 boundary: 60/60',
    day: 'wed',
    period: 'p2',
    expected: onTime,
  },
  {
    rule: 'R7',
    what: 'door forced 11:50, shut 11:56: locked 11:20–11:50 (30) + 11:56–12:20 (24) = 54, breach 6, 1 tamper, 54/60 = 0.9',
    day: 'wed',
    period: 'p3',
    expected: { ...onTime, lockedClosedMin: 54, breachMin: 6, tamperCount: 1, ratio: 0.9 },
  },
  { rule: 'P1', what: 'locked at 13:09: 60/60', day: 'wed', period: 'p4', expected: onTime },
  { rule: 'P1', what: 'kept locked over P4→P5: 60/60', day: 'wed', period: 'p5', expected: onTime },
  { rule: 'P1', what: 'locked at 08:58: 60/60', day: 'thu', period: 'p1', expected: onTime },
  {
    rule: 'P6',
    what: 'whole lesson exempt (unlocked, door open 10:02–10:50): 60 exempt, no breach, nothing due (ratio, grace n/a)',
    day: 'thu',
    period: 'p2',
    expected: {
      ...onTime,
      lockedClosedMin: 0,
      exemptMin: 60,
      lockedWithinGrace: null,
      lockDelayMin: null,
      ratio: null,
    },
  },
  {
    rule: 'P1',
    what: 'locked again at the 11:20 bell after the exemption: 60/60',
    day: 'thu',
    period: 'p3',
    expected: onTime,
  },
  {
    rule: 'D5',
    what: 'offline 12:50–13:25: 13:10–13:25 unknown (15, never compliant), locked 13:25–14:10 = 45, 45/60 = 0.75, grace missed (first seen locked 15 min in)',
    day: 'thu',
    period: 'p4',
    expected: {
      ...onTime,
      lockedClosedMin: 45,
      offlineMin: 15,
      lockedWithinGrace: false,
      lockDelayMin: 15,
      ratio: 0.75,
    },
  },
  { rule: 'P1', what: 'locked since 13:25: 60/60', day: 'thu', period: 'p5', expected: onTime },
  ...(['p1', 'p2', 'p3', 'p4', 'p5'] as const).map((period) => ({
    rule: 'P1',
    what: 'locked before the bell (08:57, 11:18, 13:05): 60/60',
    day: 'fri' as const,
    period,
    expected: onTime,
  })),
];

const lesson = (day: Day, period: Period): LessonCompliance => {
  const [from, to] = LESSONS[period];
  return lessonCompliance({
    start: at(day, from),
    end: at(day, to),
    graceMs: GRACE_MS,
    events: timeline,
    exempt,
  });
};

describe('D5: one room, one week, lesson by lesson', () => {
  it('D5, P1, P5: the slots due are registration and the five lessons of each open day; none on the inset day', () => {
    const hand = (day: Day) => [
      { period: 'reg', start: at(day, '08:40'), end: at(day, '09:00') },
      ...Object.entries(LESSONS).map(([period, [from, to]]) => ({
        period,
        start: at(day, from),
        end: at(day, to),
      })),
    ];
    expect(complianceWindows(school, locker, DAYS.mon)).toEqual([]);
    for (const day of ['tue', 'wed', 'thu', 'fri'] as const)
      expect(complianceWindows(school, locker, DAYS[day])).toEqual(hand(day));
  });

  it.each(cases)('$rule: $day $period — $what', ({ day, period, expected }) => {
    const r = lesson(day, period);
    expect(r).toEqual(expected);
    expect(r.exemptMin + r.offlineMin + r.lockedClosedMin + r.breachMin).toBe(r.scheduledMin);
  });
});

describe('D5: day and week roll-ups', () => {
  const byDay = (day: Day) =>
    day === 'mon' ? [] : (Object.keys(LESSONS) as Period[]).map((period) => lesson(day, period));

  const zero: RollUp = {
    lessons: 0,
    scheduledMin: 0,
    lockedClosedMin: 0,
    exemptMin: 0,
    offlineMin: 0,
    breachMin: 0,
    tamperCount: 0,
    graceMet: 0,
    graceDue: 0,
    ratio: null,
  };
  const fullDay: RollUp = {
    ...zero,
    lessons: 5,
    scheduledMin: 300,
    lockedClosedMin: 300,
    graceMet: 5,
    graceDue: 5,
    ratio: 1,
  };

  it.each([
    // Inset day: nothing scheduled, nothing due; the forced door at 10:00 is in no lesson.
    { rule: 'P1', day: 'mon' as const, expected: zero },
    { rule: 'P1', day: 'tue' as const, expected: fullDay },
    // locked 52 + 60 + 54 + 60 + 60 = 286; breach 8 + 6 = 14; grace met 4 of 5 (P1 missed); 286/300 = 0.9533 → 0.953
    {
      rule: 'R7',
      day: 'wed' as const,
      expected: {
        ...fullDay,
        lockedClosedMin: 286,
        breachMin: 14,
        tamperCount: 1,
        graceMet: 4,
        ratio: 0.953,
      },
    },
    // locked 60 + 0 + 60 + 45 + 60 = 225; exempt 60; offline 15; due 300 − 60 = 240; 225/240 = 0.9375 → 0.938;
    // grace due 4 (P2 exempt from its start), met 3 (P4 missed)
    {
      rule: 'P6',
      day: 'thu' as const,
      expected: {
        ...fullDay,
        lockedClosedMin: 225,
        exemptMin: 60,
        offlineMin: 15,
        graceMet: 3,
        graceDue: 4,
        ratio: 0.938,
      },
    },
    { rule: 'P1', day: 'fri' as const, expected: fullDay },
  ])('$rule: $day day roll-up', ({ day, expected }) => {
    expect(rollUp(byDay(day))).toEqual(expected);
  });

  it('D5: the week: 20 lessons, minutes summed (not ratios averaged), exempt time out of the denominator', () => {
    // scheduled 4 × 300 = 1200; locked 300 + 286 + 225 + 300 = 1111; exempt 60; offline 15; breach 14;
    // 1111 + 60 + 15 + 14 = 1200 ✓; tamper 1 (Monday's was outside any lesson); grace met 5 + 4 + 3 + 5 = 17 of
    // 5 + 5 + 4 + 5 = 19; ratio 1111 / (1200 − 60) = 1111 / 1140 = 0.97456 → 0.975
    const week = (['mon', 'tue', 'wed', 'thu', 'fri'] as const).flatMap(byDay);
    expect(rollUp(week)).toEqual({
      lessons: 20,
      scheduledMin: 1200,
      lockedClosedMin: 1111,
      exemptMin: 60,
      offlineMin: 15,
      breachMin: 14,
      tamperCount: 1,
      graceMet: 17,
      graceDue: 19,
      ratio: 0.975,
    });
  });

  it('D5: an offline lesson is never counted compliant, even when the device comes back locked', () => {
    // The same Thursday P4 with the device back at 13:25 reporting it had been locked since 13:10 would be a
    // late event (replayed journal) with its own ts: that is what re-rolls the lesson, not the reconnect.
    // The recorder stores a locker state as {ts, locked, doorOpen}: availability comes only from the hub's clock.
    const replayed = [...timeline, ev('thu', '13:10', { locked: true, doorOpen: false })];
    const r = lessonCompliance({
      start: at('thu', '13:10'),
      end: at('thu', '14:10'),
      graceMs: GRACE_MS,
      events: replayed,
      exempt,
    });
    // Still offline 13:10–13:25 by the hub's last will (online: false at 12:50, online again only at 13:25): the
    // replayed lock does not make unknown time compliant. 45 locked, 15 offline, as before.
    expect(r).toMatchObject({ lockedClosedMin: 45, offlineMin: 15, ratio: 0.75 });
  });
});
