/**
 * GET /api/incidents/stats (R5) against the real hub: counts by category and kind and time to acknowledge, only over
 * the incidents the caller may see (R6: a concern routed to the governors is not the head's), never any free text
 * (D1, R4). Incidents go through the real store and workflow; the hub clock is fixed so the times are exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentStats } from '../../../../hub/incidents/incident-stats.js';
import type { Incident } from '../../../../hub/incidents/incident-store.js';
import { parseClock, zonedTime } from '../../../../hub/policy/calendar.js';
import { type HubFixture, startTestHub } from '../../../support/hub-fixture.js';
import { data, StaffClient } from '../../../support/staff-client.js';

const DAY = '2026-03-04';
const T = zonedTime(DAY, parseClock('12:00'), 'Europe/London');
const MIN = 60_000;
const PASSWORD = 'Quartz-harbour-lantern-58';
const SECRET_TEXT = 'a concern about the head: stays out of any figures';

describe('incident figures for the evidence pack (R5)', () => {
  let fixture: HubFixture;
  const clients: Record<string, StaffClient> = {};
  let seq = 0;

  async function incident(kind: Incident['kind'], minutesAgo: number): Promise<Incident> {
    seq += 1;
    const { hub } = fixture;
    const { incident, ops } = await hub.incidents.prepare({
      kind,
      site: 'demo-school',
      room: 'room-1',
      device: 'room-1-locker',
      eventId: `room-1-locker:${seq}`,
      urgency: 'normal',
      reportedAt: T - minutesAgo * MIN,
      receivedAt: T - minutesAgo * MIN,
    });
    await hub.db.batch(ops, { sync: true });
    return incident;
  }

  beforeAll(async () => {
    fixture = await startTestHub({ now: () => T });
    const { hub } = fixture;
    const work = hub.safeguarding.incidents;
    for (const [id, minutesAgo] of [
      ['a', 10],
      ['b', 30],
    ] as const) {
      const i = await incident('report', minutesAgo);
      await work.apply(i.id, { type: 'acknowledge' }, 'user:cora');
      await work.apply(
        i.id,
        { type: 'close', outcome: `closed ${id}`, category: 'online-safety' },
        'user:cora',
      );
    }
    await incident('tamper', 5);
    const routed = await incident('report', 60);
    await work.apply(routed.id, { type: 'route', to: 'governor', text: SECRET_TEXT }, 'user:cora');
    await incident('report', 2 * 24 * 60); // two days earlier: outside the range
    for (const [name, roles] of [
      ['cora', ['coordinator']],
      ['hattie', ['head']],
      ['olly', ['office']],
    ] as const) {
      await hub.users.add(name, PASSWORD, [...roles], T);
      clients[name] = new StaffClient(hub.httpUrl, name, PASSWORD);
      expect((await clients[name].signIn(T)).status).toBe(200);
    }
  });

  afterAll(async () => {
    await fixture?.dispose();
  });

  it('R5: counts by category and kind, median and longest time to acknowledge, in the date range', async () => {
    const reply = await clients.cora!.get<IncidentStats>(`/api/incidents/stats?from=${DAY}&to=${DAY}`);
    const stats = data(reply);
    expect(stats.total).toBe(4);
    expect(stats.byKind).toEqual({ report: 3, tamper: 1 });
    expect(stats.acknowledge).toEqual({ count: 2, medianMs: 10 * MIN, maxMs: 30 * MIN });
    expect(stats.byCategory).toEqual([
      { category: 'online-safety', count: 2, acknowledged: 2, medianAckMs: 10 * MIN, longestAckMs: 30 * MIN },
      { category: 'not yet categorised', count: 1, acknowledged: 0, medianAckMs: null, longestAckMs: null },
      {
        category: 'tamper (not yet closed)',
        count: 1,
        acknowledged: 0,
        medianAckMs: null,
        longestAckMs: null,
      },
    ]);
    // D1, R4: figures only; no note, outcome or reference leaves the hub here.
    expect(reply.text).not.toContain(SECRET_TEXT);
    expect(reply.text).not.toContain('closed a');
  });

  it('R6: the head is not counted the concern routed to the governors', async () => {
    const stats = data(
      await clients.hattie!.get<IncidentStats>(`/api/incidents/stats?from=${DAY}&to=${DAY}`),
    );
    expect(stats.total).toBe(3);
    expect(stats.byCategory.map((c) => c.category)).not.toContain('not yet categorised');
  });

  it('S5: office staff get 403; a bad range is refused naming the field', async () => {
    expect((await clients.olly!.get(`/api/incidents/stats?from=${DAY}&to=${DAY}`)).status).toBe(403);
    const backwards = await clients.cora!.get(`/api/incidents/stats?from=${DAY}&to=2026-03-01`);
    expect(backwards.status).toBe(400);
    expect(backwards.body).toMatchObject({ error: { fields: ['/to: must not be before from'] } });
    const missing = await clients.cora!.get(`/api/incidents/stats?from=${DAY}`);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: { fields: ["/: must have required property 'to'"] } });
  });
});
