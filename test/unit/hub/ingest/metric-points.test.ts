import { describe, expect, it } from 'vitest';
import { lockerEventPoint, pointTime, reportPoint } from '../../../../hub/ingest/metric-points.js';

const address = { site: 'demo', room: 'room-1', device: 'dev-1' };

describe('metric points', () => {
  it("uses the device's time when its clock is synchronised, the hub's when it is not", () => {
    expect(pointTime({ ts: 1_000, clockSynced: true }, 5_000)).toBe(1_000);
    expect(pointTime({ ts: 1_000 }, 5_000)).toBe(1_000);
    expect(pointTime({ ts: 1_000, clockSynced: false }, 5_000)).toBe(5_000);
  });

  it('D5: points are tagged by room and device, never by a person', () => {
    const p = lockerEventPoint(
      address,
      { v: 1, id: 'dev-1:3', seq: 3, ts: 10, kind: 'locked', phones: 2 },
      20,
    );
    expect(Object.keys(p.tags).sort()).toEqual(['device', 'kind', 'room', 'site']);
  });

  it('events carry their sequence number below the millisecond, so same-ms events stay distinct', () => {
    const r = (seq: number) =>
      reportPoint(
        address,
        { v: 1, id: `dev-1:${seq}`, seq, ts: 10, urgency: 'normal', pressMs: 1, queuedMs: 0 },
        20,
      );
    expect(r(7).subMsNs).toBe(7);
    expect(r(8).subMsNs).not.toBe(r(7).subMsNs);
  });
});
