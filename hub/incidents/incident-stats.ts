/**
 * Incident figures for the governors' evidence pack (R5): counts by category and by kind, and time from receipt to
 * acknowledgement (R2, R3). Pure: incidents in, numbers out; no free text of any incident leaves here (D1, R4).
 */
import type { Incident } from './incident-store.js';

export interface CategoryRow {
  category: string;
  count: number;
  acknowledged: number;
  medianAckMs: number | null;
  longestAckMs: number | null;
}

export interface IncidentStats {
  total: number;
  byKind: Record<Incident['kind'], number>;
  byCategory: CategoryRow[];
  acknowledge: { count: number; medianMs: number | null; maxMs: number | null };
}

type Counted = Pick<Incident, 'kind' | 'category' | 'receivedAt' | 'steps'>;

const ackTime = (i: Counted) => {
  const ack = i.steps.find((s) => s.action === 'acknowledged');
  return ack ? ack.at - i.receivedAt : undefined;
};

/** The lower median of sorted numbers (a real incident's time, never an average of two). */
const median = (sorted: number[]) =>
  sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) : null;

/** Incidents grouped by category (open ones as "not yet categorised"), most first, with their times to acknowledge. */
export function byCategory(incidents: readonly Counted[]): CategoryRow[] {
  const groups = new Map<string, { count: number; times: number[] }>();
  for (const i of incidents) {
    const key = i.category ?? (i.kind === 'tamper' ? 'tamper (not yet closed)' : 'not yet categorised');
    const group = groups.get(key) ?? { count: 0, times: [] };
    group.count += 1;
    const t = ackTime(i);
    if (t !== undefined) group.times.push(t);
    groups.set(key, group);
  }
  return [...groups.entries()]
    .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
    .map(([category, { count, times }]) => {
      times.sort((a, b) => a - b);
      return {
        category,
        count,
        acknowledged: times.length,
        medianAckMs: median(times),
        longestAckMs: times.at(-1) ?? null,
      };
    });
}

/** Figures for the incidents received in [from, to). */
export function incidentStats(incidents: readonly Counted[], from: number, to: number): IncidentStats {
  const inRange = incidents.filter((i) => i.receivedAt >= from && i.receivedAt < to);
  const times = inRange.flatMap((i) => ackTime(i) ?? []).sort((a, b) => a - b);
  return {
    total: inRange.length,
    byKind: {
      report: inRange.filter((i) => i.kind === 'report').length,
      tamper: inRange.filter((i) => i.kind === 'tamper').length,
    },
    byCategory: byCategory(inRange),
    acknowledge: { count: times.length, medianMs: median(times), maxMs: times.at(-1) ?? null },
  };
}
