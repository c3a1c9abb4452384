/** Pure shaping of compliance rows for the chart and the tables (no I/O, no clock). */
import type { ComplianceRow } from './types.js';

export const rowTime = (r: ComplianceRow) =>
  typeof r.time === 'number' ? r.time : Date.parse(String(r.time));

/** uPlot's aligned data: one x (seconds) per distinct time, one series per room (mean ratio as a percentage). */
export function chartData(rows: ComplianceRow[]): {
  times: number[];
  series: { label: string; values: (number | null)[] }[];
} {
  const times = [...new Set(rows.map(rowTime))].sort((a, b) => a - b);
  const rooms = [...new Set(rows.map((r) => r.room))].sort();
  const index = new Map(times.map((t, i) => [t, i]));
  const series = rooms.map((room) => {
    const sums = times.map(() => ({ sum: 0, n: 0 }));
    for (const r of rows) {
      if (r.room !== room || typeof r.ratio !== 'number') continue;
      const slot = sums[index.get(rowTime(r)) as number];
      if (slot) {
        slot.sum += r.ratio;
        slot.n += 1;
      }
    }
    return { label: room, values: sums.map((s) => (s.n ? Math.round((s.sum / s.n) * 1000) / 10 : null)) };
  });
  return { times: times.map((t) => t / 1000), series };
}

/** Room × week matrix for the evidence pack: weighted by minutes due, so a short week counts for less. */
export function roomWeeks(rows: ComplianceRow[]): {
  weeks: number[];
  rooms: { room: string; cells: (number | null)[]; total: number | null }[];
} {
  const weeks = [...new Set(rows.map(rowTime))].sort((a, b) => a - b);
  const rooms = [...new Set(rows.map((r) => r.room))].sort();
  return {
    weeks,
    rooms: rooms.map((room) => {
      let due = 0;
      let met = 0;
      const cells = weeks.map((w) => {
        const row = rows.find((r) => r.room === room && rowTime(r) === w);
        if (!row || typeof row.ratio !== 'number') return null;
        const d = Number(row.due_min ?? 0);
        due += d;
        met += row.ratio * d;
        return row.ratio;
      });
      return { room, cells, total: due > 0 ? met / due : null };
    }),
  };
}
