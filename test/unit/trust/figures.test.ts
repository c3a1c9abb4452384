/** The trust's queries and sums, pure: what it asks the shared store and how it adds up the answers. */
import { describe, expect, it } from 'vitest';
import {
  incidentCounts,
  incidentsQuery,
  parseCells,
  rankSchools,
  siteFilter,
  sumTotals,
  type Totals,
  totals,
  weekFigures,
  weekRanges,
  weeksQuery,
} from '../../../trust/figures.js';

const SUMS_TEXT =
  'sum("lessons") AS "lessons", sum("locked_closed_min") AS "locked", sum("due_min") AS "due", ' +
  'sum("breach_min") AS "breach", sum("offline_min") AS "offline"';
const t = (locked: number, due: number): Totals => totals({ locked, due, lessons: 1, breach: 0, offline: 0 });

describe('trust figures', () => {
  it('names every site it asks for, quoted, and nothing else', () => {
    expect(siteFilter(['a', "o'neil"])).toBe(`("site" = 'a' OR "site" = 'o\\'neil')`);
    const q = weeksQuery(
      ['a', 'b'],
      [
        { from: 0, to: 1000 },
        { from: 1000, to: 2000 },
      ],
    );
    expect(q.split('; ')).toEqual([
      `SELECT ${SUMS_TEXT} FROM "compliance_week" WHERE ("site" = 'a' OR "site" = 'b') AND time >= 0ms AND time < 1000ms GROUP BY "site"`,
      `SELECT ${SUMS_TEXT} FROM "compliance_week" WHERE ("site" = 'a' OR "site" = 'b') AND time >= 1000ms AND time < 2000ms GROUP BY "site"`,
    ]);
    expect(() => siteFilter([])).toThrow(RangeError);
  });

  it('asks for incident counts of the sharing schools only, and drops any other school in the answer', () => {
    expect(incidentsQuery(['a'], 0)).toContain(`("site" = 'a')`);
    const series = [
      {
        name: 'trust_incidents',
        tags: { site: 'a', category: 'contact' },
        columns: ['time', 'count'],
        values: [[0, 3]],
      },
      {
        name: 'trust_incidents',
        tags: { site: 'b', category: 'contact' },
        columns: ['time', 'count'],
        values: [[0, 9]],
      },
    ];
    expect(incidentCounts(series, new Set(['a']))).toEqual([{ site: 'a', category: 'contact', count: 3 }]);
  });

  it('sums rooms into one week per school; the ratio is locked over due minutes, none when nothing was due', () => {
    const series = [
      {
        name: 'compliance_week',
        tags: { site: 'a' },
        columns: ['time', 'lessons', 'locked', 'due', 'breach', 'offline'],
        values: [
          [7, 10, 450, 500, 5, 0],
          [14, 0, 0, 0, 0, 0],
        ],
      },
      {
        name: 'compliance_week',
        tags: { site: 'stranger' },
        columns: ['time', 'locked', 'due'],
        values: [[7, 1, 1]],
      },
    ];
    const weeks = weekFigures(series, new Set(['a']));
    expect(weeks.map((w) => [w.site, w.weekStart, w.ratio])).toEqual([
      ['a', 7, 0.9],
      ['a', 14, null],
    ]);
  });

  it('weeks start on Monday at UK midnight, across the change to summer time', () => {
    // Wednesday 1 April 2026, 12:00 UTC: clocks went forward on Sunday 29 March.
    const ranges = weekRanges(Date.UTC(2026, 3, 1, 12), 2);
    expect(ranges.map((r) => new Date(r.from).toISOString())).toEqual([
      '2026-03-16T00:00:00.000Z',
      '2026-03-23T00:00:00.000Z',
      '2026-03-29T23:00:00.000Z',
    ]);
    expect(ranges[1]?.to).toBe(ranges[2]?.from);
  });

  it('ranks by ratio, ties share a rank, schools with nothing due come last unranked', () => {
    const figures = new Map([
      ['a', t(80, 100)],
      ['b', t(90, 100)],
      ['c', t(80, 100)],
      ['d', t(0, 0)],
    ]);
    expect(rankSchools(['a', 'b', 'c', 'd', 'e'], figures).map((r) => [r.site, r.rank])).toEqual([
      ['b', 1],
      ['a', 2],
      ['c', 2],
      ['d', null],
      ['e', null],
    ]);
    expect(sumTotals([t(80, 100), t(100, 100)]).ratio).toBe(0.9);
  });

  it('treats a baseline detail from the shared store as untrusted: not JSON or not cells shows none', () => {
    expect(parseCells('not json')).toEqual([]);
    expect(parseCells('{"zone":"x"}')).toEqual([]);
    expect(parseCells(42)).toEqual([]);
    const cells = parseCells(
      JSON.stringify([
        { zone: 'curriculum', audience: 'pupil', time: 'lesson', school: 'yes', baseline: 'no' },
        7,
      ]),
    );
    expect(cells).toEqual([
      { zone: 'curriculum', audience: 'pupil', time: 'lesson', school: 'yes', baseline: 'no' },
    ]);
  });
});
