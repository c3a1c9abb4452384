/** D2: the retention job deletes what is past its period in the real InfluxDB and the hub DB, and audits the run. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClock, zonedTime } from '../../../../hub/policy/calendar.js';
import { type HubFixture, startTestHub } from '../../../support/hub-fixture.js';

const DAY = 86_400_000;

describe('retention (D2)', () => {
  let fixture: HubFixture;

  beforeAll(async () => {
    fixture = await startTestHub({
      config: { retention: { rawEventsDays: 5, aggregatesDays: 30, closedIncidentsDays: 30 } },
    });
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  async function incident(n: number) {
    const { hub } = fixture;
    const { incident, ops } = await hub.incidents.prepare({
      kind: 'report',
      site: 'demo-school',
      room: 'room-1',
      device: 'room-1-locker',
      eventId: `room-1-locker:${n}`,
      urgency: 'normal',
      reportedAt: Date.now(),
      receivedAt: Date.now() + n,
    });
    await hub.db.batch(ops, { sync: true });
    return incident;
  }

  it('D2: deletes raw events and aggregates past their periods, keeps the rest', async () => {
    const { hub } = fixture;
    const now = Date.now();
    const tags = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
    await hub.store.writePoints([
      {
        measurement: 'heartbeat',
        tags,
        fields: { uptime_s: 1, queued: 0, software: '1' },
        ts: now - 10 * DAY,
      },
      { measurement: 'heartbeat', tags, fields: { uptime_s: 2, queued: 0, software: '1' }, ts: now - DAY },
      { measurement: 'compliance_lesson', tags, fields: { ratio: 0.9 }, ts: now - 10 * DAY },
      { measurement: 'compliance_lesson', tags, fields: { ratio: 0.8 }, ts: now - 40 * DAY },
    ]);
    const result = await hub.safeguarding.retention?.run(now);
    expect(result?.measurementsCleared).toEqual(expect.arrayContaining(['heartbeat', 'compliance_lesson']));
    const count = async (m: string) =>
      (await hub.store.query(`SELECT count("${m === 'heartbeat' ? 'uptime_s' : 'ratio'}") FROM "${m}"`))[0]
        ?.values[0]?.[1];
    expect(await count('heartbeat')).toBe(1);
    expect(await count('compliance_lesson')).toBe(1);
  });

  it('D2, R3: deletes incidents closed longer ago than the period, never open ones, and audits the run', async () => {
    const { hub } = fixture;
    const closed = await incident(1);
    const open = await incident(2);
    const service = hub.safeguarding.incidents;
    await service.apply(closed.id, { type: 'acknowledge' }, 'user:coord');
    await service.apply(closed.id, { type: 'close', outcome: 'Resolved.', category: 'other' }, 'user:coord');

    expect((await hub.safeguarding.retention?.run(Date.now() + 29 * DAY))?.incidentsDeleted).toBe(0);
    const result = await hub.safeguarding.retention?.run(Date.now() + 31 * DAY);
    expect(result?.incidentsDeleted).toBe(1);
    expect(await hub.incidents.get(closed.id)).toBeUndefined();
    expect(await hub.incidents.getByRef(closed.ref)).toBeUndefined();
    expect(await hub.incidents.get(open.id)).toMatchObject({ status: 'reported' });

    const actions = (await hub.audit.list({ limit: 20 })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['retention.run', 'incident.retention-delete']));
    expect(await hub.audit.verify()).toMatchObject({ ok: true });
  });

  it('D2: runs once a day at retention.runAt (03:00 school time by default), and a missed day is caught up once', async () => {
    const { hub } = fixture;
    const retention = hub.safeguarding.retention;
    const tz = hub.school.timetable.timezone;
    // Days well after the runs above (which moved the clock a month on), before the clocks change.
    const at = (date: string, clock: string) => zonedTime(date, parseClock(clock), tz);
    const runs = async () =>
      (await hub.audit.list({ limit: 500 })).filter((e) => e.action === 'retention.run').length;
    const before = await runs();

    expect(await retention.tick(at('2031-03-10', '02:59'))).toBeNull();
    expect((await retention.tick(at('2031-03-10', '03:00')))?.at).toBe(at('2031-03-10', '03:00'));
    expect(await retention.tick(at('2031-03-10', '23:59'))).toBeNull();
    expect(await retention.tick(at('2031-03-11', '02:30'))).toBeNull();
    expect((await retention.tick(at('2031-03-11', '03:40')))?.at).toBe(at('2031-03-11', '03:40'));
    // The hub was down all of the 12th: the 13th's first check after 03:00 runs once, the next does not.
    expect((await retention.tick(at('2031-03-13', '10:00')))?.at).toBe(at('2031-03-13', '10:00'));
    expect(await retention.tick(at('2031-03-13', '11:00'))).toBeNull();
    expect(await runs()).toBe(before + 3);
  });
});
