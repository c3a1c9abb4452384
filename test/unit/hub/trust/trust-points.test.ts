/** What a hub shares with its trust, as points: numbers only, every point tagged with the hub's site (D1, D5, R4, S8). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lessonPoint, rollUpPoint } from '../../../../hub/compliance/compliance-recorder.js';
import { baselineDifferences } from '../../../../hub/policy/baseline-diff.js';
import { zonedTime } from '../../../../hub/policy/calendar.js';
import { dfe2026Policy, seedPolicy } from '../../../../hub/policy/presets.js';
import {
  baselinePoint,
  deviceCounts,
  devicesPoint,
  INCIDENT_CATEGORIES,
  incidentPoints,
  mirroredCompliance,
  schoolPoint,
  weekStartMs,
} from '../../../../hub/trust/trust-points.js';
import type { SchoolModel } from '../../../../schemas/config.js';

const school: SchoolModel = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'config', 'school.example.json'), 'utf8'),
);
const tz = 'Europe/London';
const rollUp = {
  lessons: 5,
  scheduledMin: 250,
  lockedClosedMin: 240,
  exemptMin: 0,
  offlineMin: 0,
  breachMin: 10,
  tamperCount: 1,
  graceMet: 4,
  graceDue: 5,
  ratio: 0.96,
};

describe('mirroredCompliance', () => {
  it('D5: mirrors only the week and term roll-ups, exactly as made, tagged with the hub site', () => {
    const week = rollUpPoint('compliance_week', { site: school.site, room: 'r1' }, 1, rollUp);
    const term = rollUpPoint('compliance_term', { site: school.site, room: 'r1', term: 'Autumn' }, 2, rollUp);
    const day = rollUpPoint('compliance_day', { site: school.site, room: 'r1' }, 3, rollUp);
    const lesson = lessonPoint({
      site: school.site,
      room: 'r1',
      device: 'd1',
      mode: 'lesson',
      period: 'p1',
      date: '2026-12-01',
      start: 4,
      end: 5,
      result: {
        scheduledMin: 50,
        lockedClosedMin: 50,
        exemptMin: 0,
        offlineMin: 0,
        breachMin: 0,
        tamperCount: 0,
        lockedWithinGrace: true,
        lockDelayMin: 0,
        ratio: 1,
      },
    } as Parameters<typeof lessonPoint>[0]);
    expect(mirroredCompliance([week, day, lesson, term], school.site)).toEqual([week, term]);
  });

  it('forces the site tag to the hub site, so no point reaches the shared store under another school', () => {
    const stray = rollUpPoint('compliance_week', { site: 'someone-else', room: 'r1' }, 1, rollUp);
    expect(mirroredCompliance([stray], school.site)[0]?.tags.site).toBe(school.site);
  });
});

describe('schoolPoint', () => {
  it('carries the display name, hub version and room count, tagged by site', () => {
    expect(schoolPoint(school, '1.2.3', 42)).toEqual({
      measurement: 'trust_school',
      tags: { site: school.site },
      fields: { name: school.name, hub_version: '1.2.3', rooms: school.rooms.length },
      ts: 42,
    });
  });
});

describe('deviceCounts', () => {
  it('S8, R1: counts online, offline, faults (reported or journal) and out-of-date software', () => {
    const counts = deviceCounts(
      [
        { online: true, software: '1.0.0' },
        { online: true, software: '0.9.0', fault: 'lock-jammed' },
        { online: false, software: '1.0.0', storageFault: true },
        { online: false }, // never spoke: not out of date, only offline
        { online: true, software: '1.1.0', storageFault: false },
      ],
      '1.0.0',
    );
    expect(counts).toEqual({ total: 5, online: 3, offline: 2, faults: 2, outdated: 1 });
    expect(devicesPoint('s', counts, 7)).toEqual({
      measurement: 'trust_devices',
      tags: { site: 's' },
      fields: counts,
      ts: 7,
    });
  });

  it('an empty school counts zeros, not nothing', () => {
    expect(deviceCounts([], '1.0.0')).toEqual({ total: 0, online: 0, offline: 0, faults: 0, outdated: 0 });
  });
});

describe('incidentPoints', () => {
  const monday = zonedTime('2026-11-30', 0, tz);
  const nextMonday = zonedTime('2026-12-07', 0, tz);

  it('weekStartMs is Monday 00:00 local, also across the clocks going back (last Sunday of October)', () => {
    expect(weekStartMs(zonedTime('2026-12-06', 23 * 60 + 59, tz), tz)).toBe(monday);
    expect(weekStartMs(nextMonday, tz)).toBe(nextMonday);
    expect(weekStartMs(zonedTime('2026-10-25', 12 * 60, tz), tz)).toBe(zonedTime('2026-10-19', 0, tz));
    expect(weekStartMs(zonedTime('2026-10-26', 0, tz), tz)).toBe(zonedTime('2026-10-26', 0, tz));
  });

  it('R4, D1: one point per category per week, zeros included; open incidents count as uncategorised', () => {
    const points = incidentPoints(
      'north',
      tz,
      [
        { receivedAt: monday + 1000, category: 'bullying' },
        { receivedAt: monday + 2000, category: 'bullying' },
        { receivedAt: monday + 3000 },
        { receivedAt: nextMonday + 1000, category: 'contact' },
        { receivedAt: nextMonday - 1, category: 'no-such-category' },
      ],
      [monday],
    );
    expect(points).toHaveLength(INCIDENT_CATEGORIES.length);
    for (const p of points) {
      expect(p.measurement).toBe('trust_incidents');
      expect(p.ts).toBe(monday);
      expect(p.tags.site).toBe('north');
      expect(Object.keys(p.fields)).toEqual(['count']);
    }
    const count = (c: string) => points.find((p) => p.tags.category === c)?.fields.count;
    expect(count('bullying')).toBe(2);
    expect(count('uncategorised')).toBe(1);
    // A category this version does not know is counted, under "other", never as a free tag value.
    expect(count('other')).toBe(1);
    expect(count('contact')).toBe(0); // next week's incident is not this week's
    expect(points.some((p) => p.tags.category === 'no-such-category')).toBe(false);
  });

  it('R4: after an incident moves category, the week re-written lowers the category it left', () => {
    const before = incidentPoints('north', tz, [{ receivedAt: monday + 1 }], [monday]);
    const after = incidentPoints('north', tz, [{ receivedAt: monday + 1, category: 'self-harm' }], [monday]);
    const count = (ps: typeof before, c: string) => ps.find((p) => p.tags.category === c)?.fields.count;
    expect([count(before, 'uncategorised'), count(before, 'self-harm')]).toEqual([1, 0]);
    expect([count(after, 'uncategorised'), count(after, 'self-harm')]).toEqual([0, 1]);
  });
});

describe('baselinePoint', () => {
  it('P8: the number of differing cells and the cells themselves as JSON', () => {
    const diff = baselineDifferences(seedPolicy(), { policy: dfe2026Policy() });
    const point = baselinePoint('north', diff, 9);
    expect(point.measurement).toBe('trust_baseline');
    expect(point.tags).toEqual({ site: 'north' });
    expect(point.fields.differences).toBe(13);
    expect(JSON.parse(String(point.fields.detail))).toEqual(diff);
  });
});
