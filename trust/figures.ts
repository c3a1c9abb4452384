/**
 * What the trust pages read from the shared store, as InfluxQL built here and answers shaped here: pure functions of
 * (schools, time, series), so the queries and the sums are unit-tested without a server. Every query names the sites
 * it wants: the trust reads only the schools in its own config, and a school's incident counts only when it shares
 * them, so figures the trust may not see never even cross the wire.
 *
 * The measurements are the contract the hubs write (notes: compliance_week / compliance_term are the hub's own
 * roll-ups, one point per room at the week's or term's local-midnight start; trust_devices, trust_incidents,
 * trust_baseline are the hubs' trust snapshots).
 */
import { addDays, localClock, weekStart, zonedTime } from '../hub/policy/calendar.js';
import { msTime, quoteString } from '../hub/store/influxql.js';
import type { Series } from '../hub/store/metrics-store.js';

const WEEK_MS = 7 * 86_400_000;

/**
 * The trusts this serves are English: hubs stamp a week's roll-ups at Monday 00:00 in the school's zone, which for
 * them is UK time. The trust computes the same week starts, so each week is one statement over exactly its points.
 */
export const TRUST_TZ = 'Europe/London';

/** The starts of the current week and the `n` before it, oldest first, with each week's end (the next start). */
export function weekRanges(now: number, n: number, tz = TRUST_TZ): { from: number; to: number }[] {
  const monday = weekStart(localClock(now, tz).date);
  return Array.from({ length: n + 1 }, (_, i) => {
    const date = addDays(monday, -7 * (n - i));
    return { from: zonedTime(date, 0, tz), to: zonedTime(addDays(date, 7), 0, tz) };
  });
}

export interface Totals {
  lessons: number;
  lockedMin: number;
  dueMin: number;
  breachMin: number;
  offlineMin: number;
  /** Locked minutes over due minutes; null when nothing was due. */
  ratio: number | null;
}

export interface WeekFigure extends Totals {
  site: string;
  weekStart: number;
}

export interface TermFigure extends Totals {
  site: string;
  term: string;
  start: number;
}

export interface DeviceHealth {
  site: string;
  at: number;
  total: number;
  online: number;
  offline: number;
  faults: number;
  outdated: number;
}

export interface IncidentCount {
  site: string;
  category: string;
  count: number;
}

export interface BaselineCell {
  zone: string;
  audience: string;
  time: string;
  school: string;
  baseline: string;
}

export interface BaselineFigure {
  site: string;
  at: number;
  differences: number;
  cells: BaselineCell[];
}

/** `("site" = 'a' OR "site" = 'b')`: only these schools' points. */
export function siteFilter(sites: readonly string[]): string {
  if (sites.length === 0) throw new RangeError('siteFilter needs at least one site');
  return `(${sites.map((s) => `"site" = ${quoteString(s)}`).join(' OR ')})`;
}

/**
 * What a page sums: every field for one school's page; for pages over every school only what they show (ratio and
 * breach). influxd 1.6 reads each field of each room's series on its own, so over 50 schools × 60 rooms the fields
 * asked for are most of a query's time (bench/RESULTS.md, h).
 */
export type Detail = 'full' | 'brief';
const BRIEF = 'sum("locked_closed_min") AS "locked", sum("due_min") AS "due", sum("breach_min") AS "breach"';
const FULL =
  'sum("lessons") AS "lessons", sum("locked_closed_min") AS "locked", sum("due_min") AS "due", ' +
  'sum("breach_min") AS "breach", sum("offline_min") AS "offline"';

const sums = (detail: Detail) => (detail === 'full' ? FULL : BRIEF);

/**
 * Every school's week roll-ups summed over its rooms: one statement per week, each answering one row per school whose
 * time is the week's start (a GROUP BY time(15m) over the same weeks was slower: every quarter-hour is a bucket).
 */
export function weeksQuery(
  sites: readonly string[],
  weeks: readonly { from: number; to: number }[],
  detail: Detail = 'full',
): string {
  return weeks
    .map(
      (w) =>
        `SELECT ${sums(detail)} FROM "compliance_week" WHERE ${siteFilter(sites)} AND time >= ${msTime(w.from)} ` +
        `AND time < ${msTime(w.to)} GROUP BY "site"`,
    )
    .join('; ');
}

/** One school's one week: the query the trust's benchmark times (a school page asks it per week). */
export function schoolWeekQuery(site: string, weekStart: number): string {
  return (
    `SELECT ${FULL} FROM "compliance_week" WHERE "site" = ${quoteString(site)} AND time >= ${msTime(weekStart)} ` +
    `AND time < ${msTime(weekStart + WEEK_MS)}`
  );
}

/**
 * Every school's term roll-ups for terms starting at or after `from`, and (second statement) each term's start: a
 * selector alone answers with its point's own time, which the sums cannot.
 */
export function termsQuery(sites: readonly string[], from: number, detail: Detail = 'full'): string {
  const where = `WHERE ${siteFilter(sites)} AND time >= ${msTime(from)}`;
  return (
    `SELECT ${sums(detail)} FROM "compliance_term" ${where} GROUP BY "site", "term"; ` +
    `SELECT first("lessons") AS "first" FROM "compliance_term" ${where} GROUP BY "term"`
  );
}

export function devicesQuery(sites: readonly string[]): string {
  return (
    `SELECT "total", "online", "offline", "faults", "outdated" FROM "trust_devices" WHERE ${siteFilter(sites)} ` +
    'GROUP BY "site" ORDER BY time DESC LIMIT 1'
  );
}

/** Counts by category since `from`; `sites` must be only the schools that share them. */
export function incidentsQuery(sharingSites: readonly string[], from: number): string {
  return (
    `SELECT sum("count") AS "count" FROM "trust_incidents" WHERE ${siteFilter(sharingSites)} ` +
    `AND time >= ${msTime(from)} GROUP BY "site", "category"`
  );
}

export function baselineQuery(sites: readonly string[]): string {
  return (
    `SELECT "differences", "detail" FROM "trust_baseline" WHERE ${siteFilter(sites)} ` +
    'GROUP BY "site" ORDER BY time DESC LIMIT 1'
  );
}

/** A series' rows as objects keyed by column. */
function rowsOf(series: Series): Record<string, unknown>[] {
  return series.values.map((v) => Object.fromEntries(series.columns.map((c, i) => [c, v[i]])));
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function totals(row: Record<string, unknown>): Totals {
  const lockedMin = num(row.locked);
  const dueMin = num(row.due);
  return {
    lessons: num(row.lessons),
    lockedMin,
    dueMin,
    breachMin: num(row.breach),
    offlineMin: num(row.offline),
    ratio: dueMin > 0 ? round3(Math.min(1, lockedMin / dueMin)) : null,
  };
}

/** Week figures, oldest first per school. */
export function weekFigures(series: readonly Series[], sites: ReadonlySet<string>): WeekFigure[] {
  const out: WeekFigure[] = [];
  for (const s of series) {
    const site = s.tags?.site;
    if (!site || !sites.has(site)) continue;
    for (const row of rowsOf(s)) out.push({ site, weekStart: num(row.time), ...totals(row) });
  }
  return out.sort((a, b) => a.site.localeCompare(b.site) || a.weekStart - b.weekStart);
}

export function termFigures(series: readonly Series[], sites: ReadonlySet<string>): TermFigure[] {
  const starts = new Map<string, number>();
  for (const s of series)
    if (s.tags?.term && !s.tags.site && s.columns.includes('first'))
      starts.set(s.tags.term, num(rowsOf(s)[0]?.time));
  const out: TermFigure[] = [];
  for (const s of series) {
    const site = s.tags?.site;
    const term = s.tags?.term;
    if (!site || !sites.has(site) || !term) continue;
    for (const row of rowsOf(s)) out.push({ site, term, start: starts.get(term) ?? 0, ...totals(row) });
  }
  return out.sort((a, b) => a.site.localeCompare(b.site) || a.start - b.start);
}

export function deviceHealth(series: readonly Series[], sites: ReadonlySet<string>): DeviceHealth[] {
  const out: DeviceHealth[] = [];
  for (const s of series) {
    const site = s.tags?.site;
    const row = rowsOf(s)[0];
    if (!site || !sites.has(site) || !row) continue;
    out.push({
      site,
      at: num(row.time),
      total: num(row.total),
      online: num(row.online),
      offline: num(row.offline),
      faults: num(row.faults),
      outdated: num(row.outdated),
    });
  }
  return out;
}

export function incidentCounts(series: readonly Series[], sharing: ReadonlySet<string>): IncidentCount[] {
  const out: IncidentCount[] = [];
  for (const s of series) {
    const site = s.tags?.site;
    const category = s.tags?.category;
    const row = rowsOf(s)[0];
    if (!site || !sharing.has(site) || !category || !row) continue;
    out.push({ site, category, count: num(row.count) });
  }
  return out.sort((a, b) => a.site.localeCompare(b.site) || a.category.localeCompare(b.category));
}

const MAX_CELLS = 200;
const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 80) : '');

/**
 * The differing cells a hub wrote as a JSON string. The store is shared, so anything in it is treated as untrusted:
 * a detail that is not a JSON array of cells shows no cells (the count still shows), and at most 200 are kept.
 */
export function parseCells(detail: unknown): BaselineCell[] {
  if (typeof detail !== 'string' || detail.length > 200_000) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed
    .filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null)
    .slice(0, MAX_CELLS)
    .map((c) => ({
      zone: text(c.zone),
      audience: text(c.audience),
      time: text(c.time),
      school: text(c.school),
      baseline: text(c.baseline),
    }));
}

export function baselineFigures(series: readonly Series[], sites: ReadonlySet<string>): BaselineFigure[] {
  const out: BaselineFigure[] = [];
  for (const s of series) {
    const site = s.tags?.site;
    const row = rowsOf(s)[0];
    if (!site || !sites.has(site) || !row) continue;
    out.push({ site, at: num(row.time), differences: num(row.differences), cells: parseCells(row.detail) });
  }
  return out;
}

/** Each school's most recent term. */
export function latestTerms(terms: readonly TermFigure[]): Map<string, TermFigure> {
  const latest = new Map<string, TermFigure>();
  for (const t of terms) if ((latest.get(t.site)?.start ?? -1) <= t.start) latest.set(t.site, t);
  return latest;
}

export interface Ranked<T extends Totals = Totals> {
  site: string;
  rank: number | null;
  figure: T | null;
}

/**
 * Schools ranked by their compliance over the figures given (highest first; ties share a rank and are listed by
 * site); schools with nothing due come last, unranked, rather than at the top with a vacuous 100 %.
 */
export function rankSchools<T extends Totals>(
  sites: readonly string[],
  figures: ReadonlyMap<string, T>,
): Ranked<T>[] {
  const withRatio = sites
    .map((site) => ({ site, figure: figures.get(site) ?? null }))
    .filter((r): r is { site: string; figure: T } => r.figure?.ratio != null)
    .sort((a, b) => (b.figure.ratio as number) - (a.figure.ratio as number) || a.site.localeCompare(b.site));
  const ranked: Ranked<T>[] = [];
  withRatio.forEach((r, i) => {
    const prev = ranked[i - 1];
    const rank = prev && prev.figure?.ratio === r.figure.ratio ? prev.rank : i + 1;
    ranked.push({ site: r.site, rank, figure: r.figure });
  });
  const rest = sites
    .filter((s) => !withRatio.some((r) => r.site === s))
    .sort()
    .map((site) => ({ site, rank: null, figure: figures.get(site) ?? null }));
  return [...ranked, ...rest];
}

/** Sums figures (e.g. a school's weeks) into one. */
export function sumTotals(figures: readonly Totals[]): Totals {
  const sum = (f: (t: Totals) => number) => figures.reduce((s, t) => s + f(t), 0);
  return totals({
    lessons: sum((t) => t.lessons),
    locked: sum((t) => t.lockedMin),
    due: sum((t) => t.dueMin),
    breach: sum((t) => t.breachMin),
    offline: sum((t) => t.offlineMin),
  });
}
