/** D5, R5: shaping compliance rows for the chart (per room, per time) and the evidence pack (room × week, weighted). */
import { describe, expect, it } from 'vitest';
import { chartData, roomWeeks } from '../../../dashboard/src/compliance-data.js';
import type { ComplianceRow } from '../../../dashboard/src/types.js';

const W1 = Date.UTC(2026, 0, 5);
const W2 = Date.UTC(2026, 0, 12);

describe('chartData', () => {
  it('D5: one x per distinct time in seconds, one series per room, gaps as null, mean ratio as a percentage', () => {
    const rows: ComplianceRow[] = [
      { time: W2, room: 'room-2', ratio: 0.5 },
      { time: W1, room: 'room-1', ratio: 0.9 },
      // Two devices in one room at one time: their mean.
      { time: W1, room: 'room-1', ratio: 0.8 },
      { time: new Date(W2).toISOString(), room: 'room-1', ratio: 1 },
      { time: W1, room: 'room-2' }, // no ratio: not a zero
    ];
    expect(chartData(rows)).toEqual({
      times: [W1 / 1000, W2 / 1000],
      series: [
        { label: 'room-1', values: [85, 100] },
        { label: 'room-2', values: [null, 50] },
      ],
    });
  });

  it('is empty for no rows', () => {
    expect(chartData([])).toEqual({ times: [], series: [] });
  });
});

describe('roomWeeks', () => {
  it('R5: room × week cells, the total weighted by minutes due (a short week counts for less)', () => {
    const rows: ComplianceRow[] = [
      { time: W1, room: 'room-1', ratio: 1, due_min: 300 },
      { time: W2, room: 'room-1', ratio: 0.5, due_min: 100 },
      { time: W2, room: 'room-2', ratio: 0.8, due_min: 0 },
    ];
    const result = roomWeeks(rows);
    expect(result.weeks).toEqual([W1, W2]);
    expect(result.rooms[0]).toEqual({ room: 'room-1', cells: [1, 0.5], total: (300 + 50) / 400 });
    // Nothing due all range: the total is unknown, not 0% or 100%.
    expect(result.rooms[1]).toEqual({ room: 'room-2', cells: [null, 0.8], total: null });
  });
});
