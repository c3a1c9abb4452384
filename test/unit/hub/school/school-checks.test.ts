/** P1–P4, P8: checks of an edited school model beyond its schema, and applying an edit to the live model. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { periodsOf } from '../../../../hub/policy/calendar.js';
import { dfe2026Policy, seedPolicy } from '../../../../hub/policy/presets.js';
import {
  applyInPlace,
  crossReferenceProblems,
  friendlyProblems,
  sameMatrix,
  schoolModelProblems,
} from '../../../../hub/school/school-checks.js';
import type { SchoolModel } from '../../../../schemas/config.js';

const school = (): SchoolModel =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'config', 'school.example.json'), 'utf8'),
  ) as SchoolModel;

describe('crossReferenceProblems', () => {
  it('the example school is consistent', () => {
    expect(schoolModelProblems(school())).toEqual([]);
  });

  it('P3, D4: a room in no zone, a device in no room, and ids used twice', () => {
    const m = school();
    m.rooms[0]!.zone = 'nowhere';
    m.devices[0]!.room = 'attic';
    m.zones.push({ ...m.zones[0]! });
    expect(crossReferenceProblems(m)).toEqual([
      `/zones/${m.zones.length - 1}/id: 'teaching' is used twice`,
      "/rooms/0/zone: no zone 'nowhere'",
      "/devices/0/room: no room 'attic'",
    ]);
  });

  it('P1: a period must start before it ends and must not overlap another', () => {
    const m = school();
    m.timetable.periods[1]!.end = '08:59'; // Period 1, 09:00
    m.timetable.periods[3]!.start = '10:50'; // Break into Period 2 (10:00–11:00)
    expect(crossReferenceProblems(m)).toEqual([
      '/timetable/periods/1/end: must be after the start (09:00)',
      '/timetable/periods/3/start: overlaps Period 2 (10:00–11:00)',
    ]);
  });

  it('P2: home time after arrival; terms start ≤ end with real dates; INSET days real; a known time zone', () => {
    const m = school();
    m.timetable.homeTime = m.timetable.arrival;
    m.timetable.terms[0]!.end = '2026-08-31';
    m.timetable.terms[1]!.start = '2027-02-30';
    m.timetable.insetDays = ['2026-13-01'];
    m.timetable.timezone = 'Europe/Atlantis';
    expect(crossReferenceProblems(m)).toEqual([
      "/timetable/timezone: unknown time zone 'Europe/Atlantis'",
      `/timetable/homeTime: must be after arrival (${m.timetable.arrival})`,
      '/timetable/terms/0/end: must not be before the start',
      '/timetable/terms/1/start: no such date',
      '/timetable/insetDays/0: no such date',
    ]);
  });

  it('P8: one answer per cell of the policy matrix', () => {
    const m = school();
    m.policy.matrix.push({ ...m.policy.matrix[0]!, phones: 'yes' });
    expect(crossReferenceProblems(m)).toEqual([
      `/policy/matrix/${m.policy.matrix.length - 1}: a second answer for ${m.policy.matrix[0]!.role} ${m.policy.matrix[0]!.time} ${m.policy.matrix[0]!.zone}`,
    ]);
  });

  it('schema problems come first, alone, with their paths', () => {
    const m = school() as unknown as { timetable: { arrival: string } };
    m.timetable.arrival = '8:30';
    expect(friendlyProblems(schoolModelProblems(m))).toEqual([
      '/timetable/arrival: must be a 24-hour time such as 09:05',
    ]);
  });
});

describe('sameMatrix', () => {
  it('P8: order does not matter and an absent cell means no', () => {
    const seed = seedPolicy().matrix;
    expect(sameMatrix(seed, [...seed].reverse())).toBe(true);
    expect(
      sameMatrix(
        seed,
        seed.filter((r) => r.phones !== 'no'),
      ),
    ).toBe(true);
    expect(sameMatrix(seed, dfe2026Policy().matrix)).toBe(false);
  });
});

describe('applyInPlace', () => {
  it('keeps the identity of the model and its timetable, and forgets what was memoised from them', () => {
    const live = school();
    const timetable = live.timetable;
    expect(periodsOf(timetable)[1]?.start).toBe('09:00');
    const next = school();
    next.timetable.periods[1]!.start = '09:05';
    next.name = 'Renamed';
    applyInPlace(live, next);
    expect(live.timetable).toBe(timetable);
    expect(live.name).toBe('Renamed');
    expect(periodsOf(timetable)[1]?.start).toBe('09:05');
  });
});
