/**
 * What a school's hub shares with its trust, as points for the trust's shared InfluxDB. Pure:
 * records in, points out, time as an argument. Numbers only, and every point tagged with the hub's site: no incident
 * text, no pupil (D1), no staff name ever reaches a point built here. The one string fields are the school's display
 * name, the hub's version and the baseline differences, which are policy cells (zone kind, audience, time kind).
 */
import type { SchoolModel } from '../../schemas/config.js';
import { isOutOfDate } from '../devices/software-version.js';
import { CATEGORIES } from '../incidents/workflow.js';
import type { BaselineDifference } from '../policy/baseline-diff.js';
import { localClock, weekStart, zonedTime } from '../policy/calendar.js';
import type { MetricPoint } from '../store/metrics-store.js';

/** The hub's own compliance roll-ups that are mirrored to the shared store as they are made. */
export const MIRRORED_MEASUREMENTS: ReadonlySet<string> = new Set(['compliance_week', 'compliance_term']);

/**
 * The category an incident is counted under: its confirmed safeguarding category (R4), "uncategorised" until it has
 * one, and "other" for a category this version does not know (so no free string from a record reaches a tag).
 */
export const UNCATEGORISED = 'uncategorised';
export const INCIDENT_CATEGORIES = [...CATEGORIES, UNCATEGORISED] as const;

/**
 * The compliance roll-ups among points the recorder queued for the hub's own store: the same points, re-tagged with
 * the hub's site (they carry it already; forcing it means no point can reach the shared store under another site).
 */
export function mirroredCompliance(points: readonly MetricPoint[], site: string): MetricPoint[] {
  return points
    .filter((p) => MIRRORED_MEASUREMENTS.has(p.measurement))
    .map((p) => ({ ...p, tags: { ...p.tags, site } }));
}

/** trust_school: who the site is, for the trust view's labels. */
export function schoolPoint(school: SchoolModel, hubVersion: string, ts: number): MetricPoint {
  return {
    measurement: 'trust_school',
    tags: { site: school.site },
    fields: { name: school.name, hub_version: hubVersion, rooms: school.rooms.length },
    ts,
  };
}

export interface DeviceCounts {
  total: number;
  online: number;
  offline: number;
  faults: number;
  outdated: number;
}

/** What the live grid knows of one device: enough to count it, nothing about a pupil. */
export interface DeviceHealth {
  online: boolean;
  fault?: string | undefined;
  storageFault?: boolean | undefined;
  software?: string | undefined;
}

/**
 * Device health across the school: a device counts as faulty with a reported fault or a journal it cannot write (R1),
 * and out of date when its software is older than `expected` (S8).
 */
export function deviceCounts(devices: readonly DeviceHealth[], expected: string): DeviceCounts {
  const online = devices.filter((d) => d.online).length;
  return {
    total: devices.length,
    online,
    offline: devices.length - online,
    faults: devices.filter((d) => d.fault !== undefined || d.storageFault === true).length,
    outdated: devices.filter((d) => isOutOfDate(d.software, expected)).length,
  };
}

export function devicesPoint(site: string, counts: DeviceCounts, ts: number): MetricPoint {
  return { measurement: 'trust_devices', tags: { site }, fields: { ...counts }, ts };
}

/** Only the two fields counting needs: the type keeps the incident's text out of reach. */
export interface CountedIncident {
  receivedAt: number;
  category?: string | undefined;
}

/** The ISO week (Monday 00:00 local) an instant falls in, as epoch ms. */
export function weekStartMs(ts: number, timezone: string): number {
  return zonedTime(weekStart(localClock(ts, timezone).date), 0, timezone);
}

/**
 * trust_incidents for the weeks starting at `weeks` (epoch ms, from weekStartMs): one point per category per week,
 * zeros included, so a re-write after an incident's category changed also lowers the category it left.
 */
export function incidentPoints(
  site: string,
  timezone: string,
  incidents: readonly CountedIncident[],
  weeks: Iterable<number>,
): MetricPoint[] {
  const counts = new Map<number, Map<string, number>>();
  for (const week of weeks) counts.set(week, new Map(INCIDENT_CATEGORIES.map((c) => [c, 0])));
  for (const incident of incidents) {
    const week = counts.get(weekStartMs(incident.receivedAt, timezone));
    if (!week) continue;
    const category = !incident.category
      ? UNCATEGORISED
      : week.has(incident.category)
        ? incident.category
        : 'other';
    week.set(category, (week.get(category) ?? 0) + 1);
  }
  return [...counts].flatMap(([ts, byCategory]) =>
    [...byCategory].map(([category, count]) => ({
      measurement: 'trust_incidents',
      tags: { site, category },
      fields: { count },
      ts,
    })),
  );
}

/** trust_baseline: how many cells differ from the trust's baseline, and which (JSON, for the trust view). */
export function baselinePoint(
  site: string,
  differences: readonly BaselineDifference[],
  ts: number,
): MetricPoint {
  return {
    measurement: 'trust_baseline',
    tags: { site },
    fields: { differences: differences.length, detail: JSON.stringify(differences) },
    ts,
  };
}
