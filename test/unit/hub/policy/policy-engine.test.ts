/** The policy engine against the demo school (seed preset) and the DfE 2026 preset. Times are Europe/London. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  dayStatus,
  localClock,
  PolicyError,
  parseClock,
  timeKindAt,
  zonedTime,
} from '../../../../hub/policy/calendar.js';
import {
  complianceWindows,
  daySchedule,
  deviceDirective,
  type ExemptionGrant,
  nextBoundary,
  type PolicyDevice,
  permissionAt,
  signageFor,
} from '../../../../hub/policy/policy-engine.js';
import { dfe2026Policy, presetPolicy, seedPolicy } from '../../../../hub/policy/presets.js';
import { type SchoolModel, TIME_KINDS, ZONE_KINDS } from '../../../../schemas/config.js';

const school: SchoolModel = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'config', 'school.example.json'), 'utf8'),
);
const dfe: SchoolModel = { ...school, policy: dfe2026Policy() };
const tz = 'Europe/London';
const at = (date: string, hhmm: string) => zonedTime(date, parseClock(hhmm), tz);

const room1: PolicyDevice = { id: 'room-1-locker', room: 'room-1', lockerMode: 'lesson' };
const room2: PolicyDevice = { id: 'room-2-locker', room: 'room-2', lockerMode: 'lesson' };
const office: PolicyDevice = { id: 'office-locker', room: 'office', lockerMode: 'day-storage' };
const staffroom: PolicyDevice = { id: 'staffroom-sign', room: 'staffroom', lockerMode: 'open' };

// Wednesday 2 September 2026: first day of the autumn term (BST, UTC+1).
const WED = '2026-09-02';

describe('calendar', () => {
  it('reads the school wall clock in its timezone, not the host one', () => {
    expect(localClock(Date.parse('2026-09-02T08:30:00Z'), tz)).toEqual({
      date: WED,
      time: '09:30',
      minute: 9 * 60 + 30,
      weekday: 3,
    });
    expect(localClock(Date.parse('2026-12-01T23:30:00Z'), tz)).toMatchObject({
      date: '2026-12-01',
      minute: 23 * 60 + 30,
    });
    expect(localClock(Date.parse('2026-09-01T23:30:00Z'), tz)).toMatchObject({ date: WED, minute: 30 });
  });

  it('term dates, inset days and weekends decide whether the school is open', () => {
    expect(dayStatus(school.timetable, WED)).toBe('open');
    expect(dayStatus(school.timetable, '2026-09-01')).toBe('inset'); // Tuesday inset day
    expect(dayStatus(school.timetable, '2026-08-31')).toBe('holiday'); // Monday before term
    expect(dayStatus(school.timetable, '2026-09-05')).toBe('weekend'); // Saturday
    expect(dayStatus(school.timetable, '2026-12-18')).toBe('open'); // last day of term, inclusive
    expect(dayStatus(school.timetable, '2026-12-21')).toBe('holiday');
    expect(dayStatus(school.timetable, '2027-01-04')).toBe('inset');
  });

  it('P1, P8: time kinds through an open day', () => {
    const kind = (hhmm: string) => timeKindAt(school.timetable, at(WED, hhmm));
    expect(kind('07:00').kind).toBe('before-school');
    expect(kind('08:45')).toMatchObject({ kind: 'registration', period: { id: 'reg' } });
    expect(kind('09:00')).toMatchObject({ kind: 'lesson', period: { id: 'p1' } });
    expect(kind('10:59')).toMatchObject({ kind: 'lesson', period: { id: 'p2' } });
    expect(kind('11:00')).toMatchObject({ kind: 'break', period: { id: 'break' } });
    expect(kind('12:30')).toMatchObject({ kind: 'lunch', period: { id: 'lunch' } });
    expect(kind('15:15').kind).toBe('break'); // changeover between the last lesson and home time
    expect(kind('15:20').kind).toBe('after-school');
    expect(timeKindAt(school.timetable, at('2026-09-01', '09:30')).kind).toBe('closed');
    expect(timeKindAt(school.timetable, at('2026-09-05', '09:30')).kind).toBe('closed');
  });

  it('an unknown timezone is a clear error naming the field', () => {
    const bad = { ...school.timetable, timezone: 'Mars/Olympus' };
    expect(() => timeKindAt(bad, 0)).toThrow(PolicyError);
    expect(() => timeKindAt(bad, 0)).toThrow(/timetable.timezone/);
  });
});

describe('DST change days (Europe/London)', () => {
  // A school open every day with no terms, so the change Sundays are school days.
  const everyDay: SchoolModel = {
    ...school,
    timetable: { ...school.timetable, weekdays: [1, 2, 3, 4, 5, 6, 7], terms: [], insetDays: [] },
  };

  it('local midnight-to-instant handles the spring gap and the autumn overlap', () => {
    expect(new Date(zonedTime('2027-03-28', 90, tz)).toISOString()).toBe('2027-03-28T01:30:00.000Z'); // 01:30 does not exist: 02:30 BST
    expect(new Date(zonedTime('2026-10-25', 90, tz)).toISOString()).toBe('2026-10-25T00:30:00.000Z'); // 01:30 twice: the first (BST)
    expect(new Date(at('2027-03-28', '09:00')).toISOString()).toBe('2027-03-28T08:00:00.000Z');
    expect(new Date(at('2026-10-25', '09:00')).toISOString()).toBe('2026-10-25T09:00:00.000Z');
  });

  it('P1: the 09:00 lesson starts at 09:00 on the wall clock on both change days', () => {
    expect(timeKindAt(everyDay.timetable, Date.parse('2027-03-28T08:00:00Z'))).toMatchObject({
      kind: 'lesson',
      period: { id: 'p1' },
    });
    expect(timeKindAt(everyDay.timetable, Date.parse('2027-03-28T07:59:00Z')).kind).toBe('registration');
    expect(timeKindAt(everyDay.timetable, Date.parse('2026-10-25T09:00:00Z'))).toMatchObject({
      kind: 'lesson',
      period: { id: 'p1' },
    });
    expect(timeKindAt(everyDay.timetable, Date.parse('2026-10-25T08:59:00Z')).kind).toBe('registration');
  });

  it('the driver timer wakes at the right instant across the change', () => {
    // 00:30 GMT on 28 March; first boundary is 08:28 BST (warning before 08:30 arrival) = 07:28Z.
    expect(new Date(nextBoundary(everyDay, Date.parse('2027-03-28T00:30:00Z'))).toISOString()).toBe(
      '2027-03-28T07:28:00.000Z',
    );
    // 00:30 BST on 25 October (23:30Z the day before); 08:28 GMT = 08:28Z.
    expect(new Date(nextBoundary(everyDay, Date.parse('2026-10-24T23:30:00Z'))).toISOString()).toBe(
      '2026-10-25T08:28:00.000Z',
    );
  });

  it('lesson windows on a change day are the wall-clock hours', () => {
    const windows = complianceWindows(everyDay, room1, '2027-03-28').filter((w) => w.period !== 'reg');
    expect(windows[0]).toEqual({
      period: 'p1',
      start: Date.parse('2027-03-28T08:00:00Z'),
      end: Date.parse('2027-03-28T09:00:00Z'),
    });
  });
});

describe('P8: the policy matrix', () => {
  it.each([
    ['seed', 'pupil', 'lesson', 'curriculum', 'no'],
    ['seed', 'pupil', 'break', 'designated-phone-area', 'no'],
    ['seed', 'staff', 'break', 'designated-phone-area', 'yes'],
    ['seed', 'staff', 'break', 'curriculum', 'no'],
    ['seed', 'staff', 'lesson', 'designated-phone-area', 'if-unavoidable'],
    ['seed', 'staff', 'after-school', 'curriculum', 'no'],
    ['seed', 'staff', 'before-school', 'curriculum', 'no'],
    ['seed', 'staff', 'after-school', 'designated-phone-area', 'yes'],
    ['seed', 'staff', 'break', 'office', 'if-unavoidable'],
    ['seed', 'staff', 'registration', 'designated-phone-area', 'if-unavoidable'],
    ['seed', 'staff', 'assembly', 'designated-phone-area', 'if-unavoidable'],
    ['seed', 'pupil', 'before-school', 'office', 'no'],
    ['seed', 'pupil', 'after-school', 'designated-phone-area', 'no'],
    ['dfe-2026', 'staff', 'break', 'designated-phone-area', 'if-unavoidable'],
    ['dfe-2026', 'staff', 'lunch', 'office', 'no'],
    ['dfe-2026', 'pupil', 'lunch', 'designated-phone-area', 'no'],
  ] as const)('P8: %s %s at %s in %s: %s', (preset, role, time, zone, expected) => {
    expect(permissionAt(presetPolicy(preset), role, time, zone)).toBe(expected);
  });

  it('P4 (seed): staff phones are never allowed in curriculum areas, at any time of day', () => {
    const policy = seedPolicy();
    for (const time of TIME_KINDS) expect(permissionAt(policy, 'staff', time, 'curriculum'), time).toBe('no');
  });

  it('P2, P4 (seed): pupils may not use phones anywhere on site, before and after school included', () => {
    const policy = seedPolicy();
    for (const time of TIME_KINDS)
      for (const zone of ZONE_KINDS)
        expect(permissionAt(policy, 'pupil', time, zone), `${time} ${zone}`).toBe('no');
  });

  it('P4 (seed): staff green only at break and lunch in designated areas, and outside school hours', () => {
    const policy = seedPolicy();
    const green = policy.matrix.filter((r) => r.phones === 'yes').map((r) => `${r.role} ${r.time} ${r.zone}`);
    expect(green.sort()).toEqual(
      [
        'staff after-school designated-phone-area',
        'staff after-school office',
        'staff before-school designated-phone-area',
        'staff before-school office',
        'staff break designated-phone-area',
        'staff closed designated-phone-area',
        'staff closed office',
        'staff lunch designated-phone-area',
      ].sort(),
    );
  });

  it('P1, P5: registration and assembly are formal school time in both presets: never green, for anyone', () => {
    for (const preset of ['seed', 'dfe-2026'] as const)
      for (const role of ['pupil', 'staff'] as const)
        for (const time of ['registration', 'assembly'] as const)
          for (const zone of ZONE_KINDS)
            expect(
              permissionAt(presetPolicy(preset), role, time, zone),
              `${preset} ${role} ${time} ${zone}`,
            ).not.toBe('yes');
  });

  it('P8: a missing cell means no (phone-free by default)', () => {
    expect(permissionAt({ ...seedPolicy(), matrix: [] }, 'staff', 'break', 'designated-phone-area')).toBe(
      'no',
    );
  });

  it('P8: the example school ships the seed matrix exactly', () => {
    expect(school.policy.matrix).toEqual(seedPolicy().matrix);
  });
});

describe('device directives', () => {
  const d = (
    s: SchoolModel,
    device: PolicyDevice,
    date: string,
    hhmm: string,
    ex: ExemptionGrant[] = [],
    emergency = false,
  ) => deviceDirective(s, device, at(date, hhmm), ex, { emergency });

  it('P1: a classroom locker is locked and the sign shows phones-away during every lesson', () => {
    for (const hhmm of ['09:00', '09:30', '10:59', '11:20', '13:10', '15:09'])
      expect(d(school, room1, WED, hhmm)).toMatchObject({
        signage: 'phones-away',
        locked: true,
        reason: 'timetable',
        kind: 'lesson',
      });
    expect(d(school, room1, WED, '09:30').period).toBe('p1');
  });

  it('P1: outside lessons and formal school time the classroom locker is released, its sign still says phones away to pupils', () => {
    for (const hhmm of ['08:00', '08:39', '11:05', '12:30', '15:10', '16:00'])
      expect(d(school, room1, WED, hhmm)).toMatchObject({ signage: 'phones-away', locked: false });
  });

  it('P1, P5: registration is formal school time: the classroom locker holding staff phones locks at registration', () => {
    expect(d(school, room1, WED, '08:39').locked).toBe(false);
    for (const hhmm of ['08:40', '08:45', '08:59'])
      expect(d(school, room1, WED, hhmm)).toMatchObject({
        signage: 'phones-away',
        locked: true,
        reason: 'timetable',
        kind: 'registration',
        period: 'reg',
      });
    expect(d(school, staffroom, WED, '08:45').signage).toBe('phones-away'); // staff: not if avoidable
  });

  it('P1, P5: an assembly is formal school time: classroom lockers stay locked, the staff room is not green', () => {
    const withAssembly: SchoolModel = {
      ...school,
      timetable: {
        ...school.timetable,
        periods: school.timetable.periods.map((p) =>
          p.id === 'p3' ? { ...p, id: 'assembly', name: 'Assembly', kind: 'assembly' as const } : p,
        ),
      },
    };
    expect(timeKindAt(withAssembly.timetable, at(WED, '11:30'))).toMatchObject({ kind: 'assembly' });
    for (const hhmm of ['11:20', '11:50', '12:19']) {
      expect(d(withAssembly, room1, WED, hhmm)).toMatchObject({ locked: true, signage: 'phones-away' });
      expect(d(withAssembly, staffroom, WED, hhmm).signage).toBe('phones-away');
    }
    expect(d(withAssembly, room1, WED, '12:20').locked).toBe(false); // lunch
    expect(daySchedule(withAssembly, room1, WED, []).entries).toContainEqual({
      start: '11:20',
      end: '12:20',
      signage: 'phones-away',
      locked: true,
      label: 'Assembly',
    });
    // The same timetable with the assembly as a break would release the locker: the kind is what locks it.
    const asBreak: SchoolModel = {
      ...withAssembly,
      timetable: {
        ...withAssembly.timetable,
        periods: withAssembly.timetable.periods.map((p) =>
          p.id === 'assembly' ? { ...p, kind: 'break' as const } : p,
        ),
      },
    };
    expect(d(asBreak, room1, WED, '11:50').locked).toBe(false);
  });

  it('P2, P3, P4: before and after school the office and staff room signs say staff only, never plain green to pupils', () => {
    for (const hhmm of ['07:30', '15:20', '17:00']) {
      expect(d(school, office, WED, hhmm)).toMatchObject({ signage: 'staff-phones-only', locked: false });
      expect(d(school, staffroom, WED, hhmm).signage).toBe('staff-phones-only');
      expect(d(school, room1, WED, hhmm).signage).toBe('phones-away'); // staff never in curriculum areas
    }
    expect(d(school, office, WED, '08:29').signage).toBe('phones-away'); // the warning before arrival
  });

  it('P3: where pupils and staff are both allowed the sign is plain green; where only staff are, it says so', () => {
    const both = {
      ...school,
      policy: {
        ...school.policy,
        matrix: school.policy.matrix.map((r) =>
          r.time === 'lunch' && r.zone === 'designated-phone-area' ? { ...r, phones: 'yes' as const } : r,
        ),
      },
    };
    expect(d(both, staffroom, WED, '12:30').signage).toBe('phones-allowed');
    expect(d(both, staffroom, WED, '11:05').signage).toBe('staff-phones-only');
    expect(signageFor(seedPolicy(), 'break', 'designated-phone-area')).toBe('staff-phones-only');
    expect(signageFor(seedPolicy(), 'break', 'curriculum')).toBe('phones-away');
  });

  it('P2: the office locker is locked from arrival to home time, released at home time', () => {
    expect(d(school, office, WED, '08:29').locked).toBe(false);
    expect(d(school, office, WED, '08:30').locked).toBe(true);
    expect(d(school, office, WED, '12:30').locked).toBe(true);
    expect(d(school, office, WED, '15:19').locked).toBe(true);
    expect(d(school, office, WED, '15:20').locked).toBe(false);
  });

  it('P3, P4 (seed): the designated phone area is green for staff only at break and lunch, never in curriculum areas', () => {
    expect(d(school, staffroom, WED, '11:05')).toMatchObject({
      signage: 'staff-phones-only',
      locked: false,
      kind: 'break',
    });
    expect(d(school, staffroom, WED, '12:30').signage).toBe('staff-phones-only');
    expect(d(school, room1, WED, '11:05').signage).toBe('phones-away');
    expect(d(school, staffroom, WED, '09:30').signage).toBe('phones-away'); // 'not if avoidable' is not green
  });

  it('P4 (dfe-2026): phone-free through breaks and lunch, even in the designated area', () => {
    expect(d(dfe, staffroom, WED, '11:05').signage).toBe('phones-away');
    expect(d(dfe, staffroom, WED, '12:30').signage).toBe('phones-away');
    expect(d(dfe, room1, WED, '09:30')).toMatchObject({ signage: 'phones-away', locked: true });
    expect(d(dfe, office, WED, '12:30').locked).toBe(true);
    expect(d(dfe, staffroom, WED, '16:00').signage).toBe('phones-allowed'); // after school
  });

  it('warning: the sign turns phones-away warningMinutes before break ends; the lock waits for the bell', () => {
    expect(d(school, staffroom, WED, '11:17').signage).toBe('staff-phones-only');
    expect(d(school, staffroom, WED, '11:18')).toMatchObject({ signage: 'phones-away', warning: true });
    const noWarning = { ...school, policy: { ...school.policy, warningMinutes: 0 } };
    expect(d(noWarning, staffroom, WED, '11:19').signage).toBe('staff-phones-only');
    expect(d(school, room1, WED, '08:39').locked).toBe(false); // registration starts 08:40
  });

  it('P6: an exemption for room and period shows authorised use and releases that room only, that period only', () => {
    const ex: ExemptionGrant[] = [{ room: 'room-1', period: 'p2', date: WED }];
    expect(d(school, room1, WED, '10:30', ex)).toMatchObject({
      signage: 'authorised-use',
      locked: false,
      reason: 'exemption',
      period: 'p2',
    });
    expect(d(school, room2, WED, '10:30', ex)).toMatchObject({ signage: 'phones-away', locked: true });
    expect(d(school, room1, WED, '09:30', ex).signage).toBe('phones-away');
    expect(d(school, room1, WED, '11:20', ex).locked).toBe(true); // expired with the period
    expect(d(school, room1, '2026-09-03', '10:30', ex).signage).toBe('phones-away');
  });

  it('P2: an exemption for the office shows authorised use but never unlocks the day-storage locker', () => {
    const ex: ExemptionGrant[] = [{ room: 'office', period: 'p2', date: WED }];
    expect(d(school, office, WED, '10:30', ex)).toMatchObject({
      signage: 'authorised-use',
      locked: true,
      reason: 'exemption',
    });
    const locked = daySchedule(school, office, WED, ex).entries.filter((e) => e.locked);
    expect(locked.map((e) => [e.start, e.end])).toContainEqual(['10:00', '11:00']);
    expect(locked[0]?.start).toBe('08:30');
    expect(locked.at(-1)?.end).toBe('15:20');
    expect(locked.every((e, i) => i === 0 || e.start === locked[i - 1]?.end)).toBe(true); // no unlocked gap
  });

  it('P2: only a storage release (the head, for the room) unlocks the stored phones; it leaves classrooms alone', () => {
    const released = (device: PolicyDevice) =>
      deviceDirective(school, device, at(WED, '10:30'), [], { storageReleased: true });
    expect(released(office)).toMatchObject({ locked: false, reason: 'staff', signage: 'phones-away' });
    expect(released(room1)).toMatchObject({ locked: true, reason: 'timetable' });
  });

  it('emergency release unlocks every locker whatever the timetable says', () => {
    for (const device of [room1, room2, office])
      expect(d(school, device, WED, '09:30', [], true)).toMatchObject({
        locked: false,
        reason: 'emergency-release',
        signage: 'authorised-use',
      });
  });

  it('closed days (inset, weekend, holiday): signage off, lockers released', () => {
    for (const date of ['2026-09-01', '2026-09-05', '2026-08-31'])
      for (const device of [room1, office])
        expect(d(school, device, date, '09:30')).toMatchObject({
          signage: 'off',
          locked: false,
          kind: 'closed',
        });
  });
});

describe('day schedule for offline enforcement', () => {
  it('P1, P5: a classroom gets registration and its five lessons locked, phones-away otherwise', () => {
    const s = daySchedule(school, room1, WED, []);
    expect(s).toMatchObject({ date: WED, timezone: tz, otherwise: 'phones-away' });
    expect(s.entries).toEqual([
      { start: '08:40', end: '09:00', signage: 'phones-away', locked: true, label: 'Registration' },
      { start: '09:00', end: '10:00', signage: 'phones-away', locked: true, label: 'Period 1' },
      { start: '10:00', end: '11:00', signage: 'phones-away', locked: true, label: 'Period 2' },
      { start: '11:20', end: '12:20', signage: 'phones-away', locked: true, label: 'Period 3' },
      { start: '13:10', end: '14:10', signage: 'phones-away', locked: true, label: 'Period 4' },
      { start: '14:10', end: '15:10', signage: 'phones-away', locked: true, label: 'Period 5' },
    ]);
  });

  it('P6: an exemption is part of the schedule', () => {
    const s = daySchedule(school, room1, WED, [{ room: 'room-1', period: 'p2', date: WED }]);
    expect(s.entries[2]).toEqual({
      start: '10:00',
      end: '11:00',
      signage: 'authorised-use',
      locked: false,
      label: 'Period 2 (authorised use)',
    });
  });

  it('P2: the office locker is one locked stretch from arrival to home time, its sign phones away all that time', () => {
    const s = daySchedule(school, office, WED, []);
    expect(s.otherwise).toBe('staff-phones-only'); // at midnight: staff only (P3)
    const [warning, ...locked] = s.entries;
    expect(warning).toMatchObject({ start: '08:28', end: '08:30', signage: 'phones-away', locked: false });
    expect(locked.every((e) => e.locked && e.signage === 'phones-away')).toBe(true);
    expect(locked.every((e, i) => i === 0 || e.start === locked[i - 1]?.end)).toBe(true);
    expect(locked[0]?.start).toBe('08:30');
    expect(locked.at(-1)?.end).toBe('15:20');
  });

  it('P4: the staff room schedule carries the warnings before break and lunch end', () => {
    const s = daySchedule(school, staffroom, WED, []);
    expect(s.otherwise).toBe('staff-phones-only');
    expect(s.entries).toContainEqual({
      start: '11:18',
      end: '11:20',
      signage: 'phones-away',
      locked: false,
      label: 'Break (warning)',
    });
    expect(s.entries).toContainEqual({
      start: '13:08',
      end: '13:10',
      signage: 'phones-away',
      locked: false,
      label: 'Lunch (warning)',
    });
    expect(s.entries.some((e) => e.start === '11:00')).toBe(false);
  });

  it('an inset day has no entries and the sign is off', () => {
    expect(daySchedule(school, room1, '2026-09-01', [])).toMatchObject({ entries: [], otherwise: 'off' });
  });
});

describe('nextBoundary', () => {
  it('wakes at the next warning or bell, and at midnight after the last one', () => {
    expect(nextBoundary(school, at(WED, '09:30'))).toBe(at(WED, '09:58'));
    expect(nextBoundary(school, at(WED, '09:58'))).toBe(at(WED, '10:00'));
    expect(nextBoundary(school, at(WED, '16:00'))).toBe(at('2026-09-03', '00:00'));
  });
});

describe('compliance windows', () => {
  it('D5, P1, P5: a lesson locker has one window per slot of formal school time (registration and every lesson), the office locker one for the day, none on a closed day', () => {
    expect(complianceWindows(school, room1, WED).map((w) => w.period)).toEqual([
      'reg',
      'p1',
      'p2',
      'p3',
      'p4',
      'p5',
    ]);
    expect(complianceWindows(school, office, WED)).toEqual([
      { period: 'day', start: at(WED, '08:30'), end: at(WED, '15:20') },
    ]);
    expect(complianceWindows(school, staffroom, WED)).toEqual([]);
    expect(complianceWindows(school, room1, '2026-09-01')).toEqual([]);
  });

  it('P1, P5: an assembly is formal school time and has its own window with its bell times; break and lunch have none', () => {
    const withAssembly: SchoolModel = {
      ...school,
      timetable: {
        ...school.timetable,
        periods: school.timetable.periods.map((p) =>
          p.id === 'reg' ? { ...p, id: 'asm', name: 'Assembly', kind: 'assembly' as const } : p,
        ),
      },
    };
    const windows = complianceWindows(withAssembly, room1, WED);
    expect(windows[0]).toEqual({ period: 'asm', start: at(WED, '08:40'), end: at(WED, '09:00') });
    expect(windows.map((w) => w.period)).not.toContain('break');
    expect(windows.map((w) => w.period)).not.toContain('lunch');
    expect(windows).toHaveLength(6);
  });
});
