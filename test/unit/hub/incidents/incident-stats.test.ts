/** R5: incident figures for the evidence pack (moved from the dashboard's byCategory into the hub). */
import { describe, expect, it } from 'vitest';
import { byCategory, incidentStats } from '../../../../hub/incidents/incident-stats.js';
import type { Incident } from '../../../../hub/incidents/incident-store.js';

const MIN = 60_000;
const T = Date.UTC(2026, 2, 4, 12);
type Counted = Pick<Incident, 'kind' | 'category' | 'receivedAt' | 'steps'>;
const incident = (
  kind: Incident['kind'],
  receivedAt: number,
  ackAfterMin?: number,
  category?: string,
): Counted => ({
  kind,
  receivedAt,
  ...(category ? { category } : {}),
  steps: [
    { at: receivedAt, by: 'device:d', action: 'reported' },
    ...(ackAfterMin === undefined
      ? []
      : [{ at: receivedAt + ackAfterMin * MIN, by: 'user:c', action: 'acknowledged' as const }]),
  ],
});

describe('byCategory', () => {
  it('R3, R5: groups by category, most first then by name, with lower-median and longest time to acknowledge', () => {
    const rows = byCategory([
      incident('report', T, 30, 'online-safety'),
      incident('report', T, 10, 'online-safety'),
      incident('report', T, 20, 'online-safety'),
      incident('report', T, 40, 'bullying'),
      incident('report', T),
      incident('tamper', T),
    ]);
    expect(rows).toEqual([
      { category: 'online-safety', count: 3, acknowledged: 3, medianAckMs: 20 * MIN, longestAckMs: 30 * MIN },
      { category: 'bullying', count: 1, acknowledged: 1, medianAckMs: 40 * MIN, longestAckMs: 40 * MIN },
      { category: 'not yet categorised', count: 1, acknowledged: 0, medianAckMs: null, longestAckMs: null },
      {
        category: 'tamper (not yet closed)',
        count: 1,
        acknowledged: 0,
        medianAckMs: null,
        longestAckMs: null,
      },
    ]);
  });

  it('the median of an even count is a real incident’s time (the lower one), not an average', () => {
    const [row] = byCategory([incident('report', T, 10, 'x'), incident('report', T, 30, 'x')]);
    expect(row?.medianAckMs).toBe(10 * MIN);
  });
});

describe('incidentStats', () => {
  it('R5: counts only incidents received in [from, to), by kind, with overall acknowledgement figures', () => {
    const stats = incidentStats(
      [
        incident('report', T - 1, 5), // before the range
        incident('report', T, 5),
        incident('tamper', T + 10 * MIN, 15),
        incident('report', T + 20 * MIN),
        incident('report', T + 60 * MIN, 1), // the end is exclusive
      ],
      T,
      T + 60 * MIN,
    );
    expect(stats.total).toBe(3);
    expect(stats.byKind).toEqual({ report: 2, tamper: 1 });
    expect(stats.acknowledge).toEqual({ count: 2, medianMs: 5 * MIN, maxMs: 15 * MIN });
  });

  it('has no figures, not zeros, when nothing was acknowledged', () => {
    expect(incidentStats([], 0, T).acknowledge).toEqual({ count: 0, medianMs: null, maxMs: null });
  });
});
