/** Hash routing: `#/reports/AB3K?x=1` → path segments and query; href builds the same shape back. */
import { describe, expect, it } from 'vitest';
import { href, parseHash } from '../../../dashboard/src/router.js';

describe('parseHash', () => {
  it('splits the path and reads the query', () => {
    const route = parseHash('#/evidence?from=2026-01-01&to=2026-03-31');
    expect(route.path).toEqual(['evidence']);
    expect(route.query.get('from')).toBe('2026-01-01');
    expect(route.query.get('to')).toBe('2026-03-31');
  });

  it('treats an empty hash, "#" and "#/" alike, and ignores empty segments', () => {
    for (const hash of ['', '#', '#/']) expect(parseHash(hash).path).toEqual([]);
    expect(parseHash('#//settings//audit/').path).toEqual(['settings', 'audit']);
    expect(parseHash('settings/timetable').path).toEqual(['settings', 'timetable']);
  });

  it('decodes segments, so href and parseHash round-trip', () => {
    const link = href('reports', 'a b/c');
    expect(link).toBe('#/reports/a%20b%2Fc');
    expect(parseHash(link).path).toEqual(['reports', 'a b/c']);
  });
});
