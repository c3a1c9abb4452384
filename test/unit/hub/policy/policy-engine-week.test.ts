/**
 * A realistic school week for the policy engine, table-driven, both presets. The demo school's timetable
 * (config/school.example.json, Europe/London):
 *
 *   arrival 08:30 · registration 08:40–09:00 · P1 09:00–10:00 · P2 10:00–11:00 · break 11:00–11:20 ·
 *   P3 11:20–12:20 · lunch 12:20–13:10 · P4 13:10–14:10 · P5 14:10–15:10 · home time 15:20 · warning 2 min
 *   autumn term 2026-09-02..2026-12-18 · spring term from 2027-01-05 · inset days 2026-09-01, 2027-01-04
 *
 * The week is the first week of the autumn term: Monday 31 August is still the summer holiday (term boundary),
 * Tuesday 1 September an inset day, Wednesday the first day of term, Thursday carries a P6 exemption for room 1's
 * Period 2, Saturday is a weekend. A few rows sit on the autumn/spring boundary.
 *
 * Every expected value below was written by hand from ../shared/POLICY-RULES.md and the two presets' wording
 * (seed: phones away in lessons and formal school time, registration included, staff may use phones at break and
 * lunch in designated areas only, never in curriculum areas, pupils never on site; DfE 2026: phone-free through the whole day, lessons, breaks and lunch),
 * not computed by the engine. Signage speaks to the zone's audience: pupils in a curriculum room and the office,
 * staff in the designated phone area (P3, P4).
 *
 * Shorthand: A = phones-away, G = phones-allowed, S = staff-phones-only (staff may, pupils may not: P3), U =
 * authorised-use, O = off; L = locked, - = unlocked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClock, zonedTime } from '../../../../hub/policy/calendar.js';
import {
  deviceDirective,
  type ExemptionGrant,
  type PolicyDevice,
} from '../../../../hub/policy/policy-engine.js';
import { dfe2026Policy, seedPolicy } from '../../../../hub/policy/presets.js';
import type { SchoolModel } from '../../../../schemas/config.js';
import type { SignageMode } from '../../../../schemas/messages.js';

const example: SchoolModel = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'config', 'school.example.json'), 'utf8'),
);
const presets = {
  seed: { ...example, policy: seedPolicy() },
  'dfe-2026': { ...example, policy: dfe2026Policy() },
} as const;

/** The three zones of P3, one device each. The staff room has signage only (no locker). */
const devices = {
  classroom: { id: 'room-1-locker', room: 'room-1', lockerMode: 'lesson' },
  staffroom: { id: 'staffroom-sign', room: 'staffroom', lockerMode: 'open' },
  office: { id: 'office-locker', room: 'office', lockerMode: 'day-storage' },
} as const satisfies Record<string, PolicyDevice>;
type Place = keyof typeof devices;

const SIGN: Record<string, SignageMode> = {
  A: 'phones-away',
  G: 'phones-allowed',
  S: 'staff-phones-only',
  U: 'authorised-use',
  O: 'off',
};
const MON = '2026-08-31'; // summer holiday: the autumn term starts on Wednesday
const TUE = '2026-09-01'; // inset day
const WED = '2026-09-02'; // first day of the autumn term
const THU = '2026-09-03'; // room 1 has an exemption for Period 2
const FRI = '2026-09-04';
const SAT = '2026-09-05';

/** P6: granted by the head for room 1, Period 2, Thursday only. */
const exemptions: ExemptionGrant[] = [{ room: 'room-1', period: 'p2', date: THU }];

/** [rule, date, time, seed, dfe, what]; seed and dfe read "classroom staffroom office". */
type Row = [rule: string, date: string, time: string, seed: string, dfe: string, what: string];

const week: Row[] = [
  // Monday: the summer holiday before the term starts. Nobody's phones are held, signs off.
  [
    'P1',
    MON,
    '09:30',
    'O- O- O-',
    'O- O- O-',
    'holiday before term (term boundary): signs off, nothing locked',
  ],
  // Tuesday: inset day, staff only, no lessons.
  ['P1', TUE, '09:30', 'O- O- O-', 'O- O- O-', 'inset day in lesson time: signs off, nothing locked'],
  ['P2', TUE, '08:35', 'O- O- O-', 'O- O- O-', 'inset day at arrival: the office does not take phones'],
  // Wednesday: first day of term, a full day.
  // Before arrival: classroom sign is always "away"; staff may use phones before school outside curriculum areas. Under
  // seed pupils may not use phones anywhere on site (P2, P4), so the staff room and office signs say staff only (S,
  // P3); under DfE 2026 outside-school hours are open to both outside curriculum areas. The locker is not yet holding
  // phones.
  ['P3', WED, '08:00', 'A- S- S-', 'A- G- G-', 'before school'],
  // From arrival pupils' phones go into the office locker (P2) and it is formal school time (P1): the office sign says
  // away. Arrival to registration is not a break for staff under DfE 2026 (phone-free all day), but is under seed
  // (staff outside lessons in a designated area may use phones).
  [
    'P2',
    WED,
    '08:35',
    'A- S- AL',
    'A- A- AL',
    'after arrival, before registration: office locked, sign away',
  ],
  ['P2', WED, '08:29', 'A- S- A-', 'A- A- A-', 'a minute before arrival: office sign away, locker waits'],
  // Registration is formal school time (P1, P5): the classroom locker holding staff phones locks; staff phones "not if
  // avoidable" (P8) is not green.
  [
    'P5',
    WED,
    '08:45',
    'AL A- AL',
    'AL A- AL',
    'registration: formal school time, classroom locked, no green',
  ],
  ['P4', WED, '08:38', 'A- A- AL', 'A- A- AL', 'two minutes before registration: staff room warns'],
  ['P1', WED, '08:39', 'A- A- AL', 'A- A- AL', 'a minute before registration: classroom still unlocked'],
  ['P1', WED, '08:59', 'AL A- AL', 'AL A- AL', 'registration into P1: classroom stays locked'],
  ['P1', WED, '09:00', 'AL A- AL', 'AL A- AL', 'P1 bell: classroom locker locks'],
  ['P1', WED, '10:00', 'AL A- AL', 'AL A- AL', 'P1→P2 back to back: stays locked'],
  ['P1', WED, '10:59', 'AL A- AL', 'AL A- AL', 'last minute of P2'],
  // Break: classroom released (pupils are not in it) but its sign stays away; staff green in the staff room under
  // seed only; pupils' phones stay in the office all day (P2).
  ['P4', WED, '11:05', 'A- S- AL', 'A- A- AL', 'break: staff room green (seed), phone-free (DfE)'],
  ['P4', WED, '11:17', 'A- S- AL', 'A- A- AL', 'break: still green (seed), warning not yet'],
  ['P4', WED, '11:18', 'A- A- AL', 'A- A- AL', 'break ends in 2 min: staff room warns (away)'],
  ['P1', WED, '11:20', 'AL A- AL', 'AL A- AL', 'P3 bell'],
  ['P4', WED, '12:30', 'A- S- AL', 'A- A- AL', 'lunch: staff room green (seed), phone-free (DfE)'],
  ['P4', WED, '13:09', 'A- A- AL', 'A- A- AL', 'lunch ends in 1 min: staff room warns'],
  ['P1', WED, '13:10', 'AL A- AL', 'AL A- AL', 'P4 bell'],
  ['P1', WED, '14:10', 'AL A- AL', 'AL A- AL', 'P4→P5 back to back: stays locked'],
  // 15:10–15:20: lessons over, pupils still in school until home time; staff are on a break.
  ['P2', WED, '15:15', 'A- S- AL', 'A- A- AL', 'after P5, before home time: office still holds phones'],
  [
    'P2',
    WED,
    '15:20',
    'A- S- S-',
    'A- G- G-',
    'home time: office releases; seed: its sign stays away for pupils',
  ],
  ['P3', WED, '16:30', 'A- S- S-', 'A- G- G-', 'after school: classroom sign still away for pupils'],
  // Thursday: room 1 has an exemption for Period 2 only (P6).
  ['P1', THU, '09:30', 'AL A- AL', 'AL A- AL', 'P1 before the exemption: locked'],
  ['P6', THU, '10:00', 'U- A- AL', 'U- A- AL', 'exempt P2 starts: authorised use, room 1 released'],
  ['P6', THU, '10:45', 'U- A- AL', 'U- A- AL', 'exempt P2: other zones unaffected'],
  ['P6', THU, '11:05', 'A- S- AL', 'A- A- AL', 'the exemption expired with its period: break as normal'],
  ['P6', THU, '11:20', 'AL A- AL', 'AL A- AL', 'P3 after the exemption: locked again'],
  // Friday: an ordinary day; the exemption was for Thursday only.
  ['P6', FRI, '10:30', 'AL A- AL', 'AL A- AL', 'P2 with no exemption (it was Thursday only)'],
  ['P2', FRI, '15:19', 'A- S- AL', 'A- A- AL', 'last minute before home time'],
  // Saturday.
  ['P1', SAT, '10:30', 'O- O- O-', 'O- O- O-', 'weekend: signs off, nothing locked'],
  // Term boundaries: last day of autumn (inclusive), the holiday after, the spring inset day, the first spring day.
  [
    'P1',
    '2026-12-18',
    '14:30',
    'AL A- AL',
    'AL A- AL',
    'Fri 18 Dec, last day of autumn term: a normal lesson',
  ],
  ['P1', '2026-12-21', '09:30', 'O- O- O-', 'O- O- O-', 'Mon 21 Dec, Christmas holiday: off'],
  ['P1', '2027-01-04', '09:30', 'O- O- O-', 'O- O- O-', 'Mon 4 Jan, spring inset day: off'],
  [
    'P1',
    '2027-01-05',
    '09:30',
    'AL A- AL',
    'AL A- AL',
    'Tue 5 Jan, first day of spring term (GMT): P1 locked',
  ],
];

const PLACES: Place[] = ['classroom', 'staffroom', 'office'];

const DAY_NAME: Record<string, string> = {
  [MON]: 'Mon',
  [TUE]: 'Tue',
  [WED]: 'Wed',
  [THU]: 'Thu',
  [FRI]: 'Fri',
  [SAT]: 'Sat',
};

const expand = (preset: 'seed' | 'dfe-2026') =>
  week.flatMap(([rule, date, time, seed, dfe, what]) =>
    PLACES.map((place, i) => {
      const code = (preset === 'seed' ? seed : dfe).split(' ')[i] as string;
      const day = DAY_NAME[date] ?? date;
      return {
        name: `${rule}: ${day} ${time}, ${place} — ${what}`,
        date,
        time,
        place,
        signage: SIGN[code[0] as string] as SignageMode,
        locked: code[1] === 'L',
      };
    }),
  );

describe.each(['seed', 'dfe-2026'] as const)('a school week, %s preset', (preset) => {
  const school = presets[preset];
  it.each(expand(preset))('$name', ({ date, time, place, signage, locked }) => {
    const now = zonedTime(date, parseClock(time), school.timetable.timezone);
    const d = deviceDirective(school, devices[place], now, exemptions);
    expect({ signage: d.signage, locked: d.locked }).toEqual({ signage, locked });
  });
});

describe('the week in whole', () => {
  it('P1, P5: the classroom locker is expected locked for exactly registration and the five lessons of each open day', () => {
    // Sampled every minute, Monday 00:00 to Saturday 24:00: 3 open days (Wed, Thu, Fri) × (20 min registration + 5
    // lessons × 60 min), minus Thursday's exempt P2 (60 min) = 900 locked minutes.
    const school = presets.seed;
    let minutes = 0;
    for (const date of [MON, TUE, WED, THU, FRI, SAT])
      for (let m = 0; m < 1440; m++)
        if (
          deviceDirective(school, devices.classroom, zonedTime(date, m, 'Europe/London'), exemptions).locked
        )
          minutes += 1;
    expect(minutes).toBe(3 * (20 + 5 * 60) - 60);
  });

  it('P2: the office locker holds phones 08:30–15:20 on open days only', () => {
    // 6 h 50 min = 410 minutes × 3 open days = 1230.
    const school = presets['dfe-2026'];
    let minutes = 0;
    for (const date of [MON, TUE, WED, THU, FRI, SAT])
      for (let m = 0; m < 1440; m++)
        if (deviceDirective(school, devices.office, zonedTime(date, m, 'Europe/London'), exemptions).locked)
          minutes += 1;
    expect(minutes).toBe(3 * 410);
  });

  it('P3, P4: the staff room is green for staff only (its own pattern) for break + lunch (seed), never in school hours (DfE 2026)', () => {
    // Seed, one open day, 08:30–15:20 (school hours, arrival to home time): green 08:30–08:38 (before registration,
    // until the 2-min warning) = 8, break 11:00–11:18 = 18, lunch 12:20–13:08 = 48, changeover 15:10–15:20 = 10;
    // total 84 per day. DfE 2026: 0.
    const green = (school: SchoolModel) => {
      let n = 0;
      for (let m = parseClock('08:30'); m < parseClock('15:20'); m++)
        if (
          deviceDirective(school, devices.staffroom, zonedTime(WED, m, 'Europe/London'), []).signage !==
          'phones-away'
        )
          n += 1;
      return n;
    };
    expect(green(presets.seed)).toBe(8 + 18 + 48 + 10);
    expect(green(presets['dfe-2026'])).toBe(0);
  });
});
