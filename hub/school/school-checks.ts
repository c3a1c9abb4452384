/**
 * Checks a whole school model beyond its schema: the cross-references the schema cannot express (rooms → zones,
 * devices → rooms, unique ids), the timetable's own sense (each period starts before it ends, periods never overlap,
 * arrival before home time, terms start ≤ end, real calendar dates, a known time zone) and the policy matrix (one
 * answer per cell, P8). Pure: a model in, `path: message` problems out (paths as Ajv writes them: `/rooms/2/zone`).
 */
import type { Policy, SchoolModel } from '../../schemas/config.js';
import { check } from '../../schemas/validate.js';
import { forgetTimetable } from '../policy/calendar.js';
import { forgetBoundaries } from '../policy/policy-engine.js';

const CLOCK = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const minuteOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** A YYYY-MM-DD that names a real day (the schema's pattern accepts 2026-02-30). */
export function isRealDate(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function duplicates(items: readonly { id: string }[], at: string, problems: string[]): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.id)) problems.push(`${at}/${i}/id: '${item.id}' is used twice`);
    seen.add(item.id);
  });
}

/** Problems the schema cannot see. Assumes the model already passed the 'school-model' schema. */
export function crossReferenceProblems(model: SchoolModel): string[] {
  const problems: string[] = [];
  duplicates(model.zones, '/zones', problems);
  duplicates(model.rooms, '/rooms', problems);
  duplicates(model.devices, '/devices', problems);
  const zones = new Set(model.zones.map((z) => z.id));
  const rooms = new Set(model.rooms.map((r) => r.id));
  model.rooms.forEach((r, i) => {
    if (!zones.has(r.zone)) problems.push(`/rooms/${i}/zone: no zone '${r.zone}'`);
  });
  model.devices.forEach((d, i) => {
    if (!rooms.has(d.room)) problems.push(`/devices/${i}/room: no room '${d.room}'`);
  });

  const t = model.timetable;
  if (!isTimeZone(t.timezone)) problems.push(`/timetable/timezone: unknown time zone '${t.timezone}'`);
  if (minuteOf(t.arrival) >= minuteOf(t.homeTime))
    problems.push(`/timetable/homeTime: must be after arrival (${t.arrival})`);
  duplicates(t.periods, '/timetable/periods', problems);
  const spans = t.periods
    .map((p, i) => ({ p, i, from: minuteOf(p.start), to: minuteOf(p.end) }))
    .filter(({ p, i }) => {
      if (CLOCK.test(p.start) && CLOCK.test(p.end) && p.start < p.end) return true;
      problems.push(`/timetable/periods/${i}/end: must be after the start (${p.start})`);
      return false;
    })
    .sort((a, b) => a.from - b.from || a.i - b.i);
  for (let k = 1; k < spans.length; k += 1) {
    const before = spans[k - 1];
    const current = spans[k];
    if (before && current && current.from < before.to)
      problems.push(
        `/timetable/periods/${current.i}/start: overlaps ${before.p.name} (${before.p.start}–${before.p.end})`,
      );
  }
  t.terms.forEach((term, i) => {
    for (const key of ['start', 'end'] as const)
      if (!isRealDate(term[key])) problems.push(`/timetable/terms/${i}/${key}: no such date`);
    if (term.start > term.end) problems.push(`/timetable/terms/${i}/end: must not be before the start`);
  });
  t.insetDays.forEach((day, i) => {
    if (!isRealDate(day)) problems.push(`/timetable/insetDays/${i}: no such date`);
  });

  const cells = new Set<string>();
  model.policy.matrix.forEach((rule, i) => {
    const key = `${rule.role} ${rule.time} ${rule.zone}`;
    if (cells.has(key)) problems.push(`/policy/matrix/${i}: a second answer for ${key}`);
    cells.add(key);
  });
  return problems;
}

/** The schema, then the cross-references: the whole model, every problem at once. */
export function schoolModelProblems(value: unknown): string[] {
  const result = check('school-model', value);
  if (!result.ok) return result.error.problems;
  return crossReferenceProblems(result.value);
}

/** Two matrices say the same thing (order of rules does not matter; an absent cell means 'no'). */
export function sameMatrix(a: Policy['matrix'], b: Policy['matrix']): boolean {
  const cells = (m: Policy['matrix']) =>
    m
      .filter((r) => r.phones !== 'no')
      .map((r) => `${r.role} ${r.time} ${r.zone} ${r.phones}`)
      .sort()
      .join('\n');
  return cells(a) === cells(b);
}

/** Ajv's pattern messages, said as a person would (UK English). */
export function friendlyProblems(problems: readonly string[]): string[] {
  return problems.map((p) =>
    p
      .replace(
        /must match pattern "\^\(\[01\]\[0-9\]\|2\[0-3\]\):\[0-5\]\[0-9\]\$"/,
        'must be a 24-hour time such as 09:05',
      )
      .replace(
        /must match pattern "\^\[0-9\]\{4\}-\[0-9\]\{2\}-\[0-9\]\{2\}\$"/,
        'must be a date such as 2026-09-01',
      )
      .replace(/must match pattern "\^\[a-z0-9\][^"]*"/, 'must be lower-case letters, digits and hyphens'),
  );
}

/**
 * Replaces the live model's contents with `next`'s, keeping the identity of the model and of its nested objects
 * (timetable, policy): every feature that was handed `school` or `school.timetable` at start sees the edit at once.
 * Not pure (it mutates `live`), but here beside the checks because it is the other half of an edit.
 */
export function applyInPlace(live: SchoolModel, next: SchoolModel): void {
  const target = live as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(next)) {
    const current = target[key];
    if (isPlainObject(current) && isPlainObject(value)) {
      for (const k of Object.keys(current)) if (!(k in value)) delete current[k];
      Object.assign(current, value);
    } else target[key] = value;
  }
  // The policy engine memoises by object identity; identity is kept here, so say the contents changed.
  forgetTimetable(live.timetable);
  forgetBoundaries(live);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
