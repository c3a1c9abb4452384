/**
 * D2: every kind of data expires, against a real hub (aedes, LevelDB, private influxd) on a clock the test moves.
 * Old records are made through the hub's own services on the first day of the autumn term (T0, a real device
 * publishing over MQTT for the locker timeline); recent ones 100 days later (T1); then the retention pass runs and
 * each kind is checked: old gone, recent kept, and what is never removed (the last known locker state, an unreturned
 * confiscation, entries of the audit log no sent head covers) still there.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, ChainHead } from '../../../../hub/audit/audit-log.js';
import type { Confiscation } from '../../../../hub/confiscations/confiscations.js';
import { addDays, parseClock, zonedTime } from '../../../../hub/policy/calendar.js';
import type { RetentionResult } from '../../../../hub/retention/retention.js';
import type { LockerState } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import { connectClient, type HubFixture, startTestHub } from '../../../support/hub-fixture.js';

const DAY = 86_400_000;
const T0_DATE = '2026-09-02'; // Wednesday, first day of the autumn term (ends 2026-12-18)
const T1_DATE = addDays(T0_DATE, 100); // Friday 11 December, same term
const at = (date: string, hhmm: string) => zonedTime(date, parseClock(hhmm), 'Europe/London');
const T0 = at(T0_DATE, '08:35');
const T1 = at(T1_DATE, '08:35');
const PERIOD = 30; // days, every kind (15 is the least the timeline and exemptions accept)
const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const secret = 'correct-horse-battery-staple-7';

describe('retention of every kind of data (D2, real hub)', () => {
  let fixture: HubFixture;
  let device: MqttClient;
  let clock = T0;
  const made: {
    confiscations: { old?: Confiscation; open?: Confiscation; recent?: Confiscation };
    exemptions: { old?: string; recent?: string };
    heads: ChainHead[];
  } = { confiscations: {}, exemptions: {}, heads: [] };
  let run1: RetentionResult;

  const lockerState = (ts: number, locked: boolean) => {
    const state: LockerState = {
      v: 1,
      ts,
      locked,
      doorOpen: false,
      phones: 2,
      slots: 12,
      keyOn: false,
      mode: 'lesson',
    };
    return device.publishAsync(topics.state(address, 'locker'), JSON.stringify(state), { qos: 1 });
  };
  const timelineKeys = async () =>
    (
      await fixture.hub.db.page<{ ts: number }>('compliance', {
        gte: `ev:${address.device}:`,
        lt: `ev:${address.device};`,
        limit: 1000,
      })
    ).map(([, e]) => e.ts);
  const slotRecords = async () =>
    (await fixture.hub.db.page('compliance', { gte: 'lesson:', lt: 'lesson;', limit: 1000 })).map(([k]) => k);

  /** Everything a school day makes, through the hub's own services, at `date` 08:35 on. */
  async function aDayOfRecords(date: string, opts: { openConfiscation?: boolean } = {}) {
    const { hub } = fixture;
    clock = at(date, '08:35');
    await lockerState(at(date, '08:36'), false);
    await lockerState(at(date, '08:50'), true);
    await hub.policy.compliance.idle();
    const exemption = await hub.policy.exemptions.create(
      { room: 'room-2', period: 'p2', date, reason: 'Curriculum use agreed by the head' },
      'head',
      clock,
      true,
    );
    await hub.policy.exemptions.releaseAll('head', clock);
    await hub.policy.exemptions.endEmergency('head', clock + 60_000);
    await hub.policy.exemptions.releaseStorage('office', 'Trip leaves early', 'head', clock);
    await hub.policy.exemptions.relockStorage('office', 'head', clock + 60_000);
    const slot = date === T0_DATE ? 1 : 2;
    const confiscation = await hub.confiscations.record({
      ...address,
      slot,
      slots: 12,
      note: 'Used in a lesson',
      by: 'teacher',
      now: clock,
    });
    await hub.confiscations.markReturned(confiscation.id, 'office', clock + 60_000);
    const open = opts.openConfiscation
      ? await hub.confiscations.record({
          ...address,
          slot: 5,
          slots: 12,
          note: 'Not collected',
          by: 'teacher',
          now: clock,
        })
      : undefined;
    // The chain's head leaves the hub (its webhook fails: the job is kept as failed, an old notification).
    clock = at(date, '08:40');
    const anchor = hub.safeguarding.anchor;
    if (!anchor) throw new Error('anchoring is on with notifications');
    made.heads.push(await anchor.anchor(clock));
    await hub.safeguarding.notifier?.flush();
    // The day's first slots end: their records land in the hub DB.
    clock = at(date, '10:00');
    await hub.policy.compliance.tick(clock);
    await hub.outbox.drain();
    return { exemption: exemption.id, confiscation, open };
  }

  beforeAll(async () => {
    fixture = await startTestHub({
      now: () => clock,
      config: {
        retention: {
          rawEventsDays: PERIOD,
          aggregatesDays: PERIOD,
          closedIncidentsDays: PERIOD,
          auditDays: PERIOD,
          complianceTimelineDays: PERIOD,
          exemptionsDays: PERIOD,
          confiscationsDays: PERIOD,
          notificationJobsDays: PERIOD,
        },
        notifications: {
          dashboardUrl: 'https://hub.school.example/',
          // Nothing listens on the discard port: every webhook fails at once, and with no retries it is failed.
          webhook: { url: 'http://127.0.0.1:9/hook' },
          retries: 0,
        },
      },
    });
    await fixture.hub.registry.provision({
      id: address.device,
      address,
      secret,
      lockerMode: 'lesson',
      now: clock,
    });
    device = await connectClient(fixture.hub.mqttPort, {
      clientId: address.device,
      username: address.device,
      password: secret,
    });
    const old = await aDayOfRecords(T0_DATE, { openConfiscation: true });
    made.confiscations.old = old.confiscation;
    made.confiscations.open = old.open;
    made.exemptions.old = old.exemption;
    const recent = await aDayOfRecords(T1_DATE);
    made.confiscations.recent = recent.confiscation;
    made.exemptions.recent = recent.exemption;

    // 25 days after T1, 125 after T0: the cut-off is 30 days back, between them.
    clock = T1 + 25 * DAY;
    run1 = await fixture.hub.safeguarding.retention.run(clock);
  });

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
  });

  it('D2: raw device events past their period are deleted from InfluxDB, recent ones kept', async () => {
    const rows = await fixture.hub.store.query(
      `SELECT "locked" FROM "locker_state" WHERE "device" = '${address.device}'`,
    );
    const times = (rows[0]?.values ?? []).map((v) => v[0]);
    expect(times).toEqual([at(T1_DATE, '08:36'), at(T1_DATE, '08:50')]);
    expect(run1.measurementsCleared).toContain('locker_state');
  });

  it("D2: the locker timeline in the hub DB loses its old entries but keeps the locker's last known state", async () => {
    // 08:36 at T0 is superseded by 08:50 (both set locked and door): gone. 08:50 is the state the locker was in
    // before anything newer: kept. T1's entries are recent: kept.
    expect(await timelineKeys()).toEqual([at(T0_DATE, '08:50'), at(T1_DATE, '08:36'), at(T1_DATE, '08:50')]);
    expect(run1.removed.complianceTimelineDays).toBeGreaterThan(0);
  });

  it('D2, P6: exemptions, emergency and stored-phone releases expire counted from their end; recent ones stay', async () => {
    const { exemptions } = fixture.hub.policy;
    expect(exemptions.get(made.exemptions.old as string)).toBeUndefined();
    expect(exemptions.get(made.exemptions.recent as string)).toMatchObject({ status: 'granted' });
    expect(
      exemptions.emergencyHistory().map((e) => new Date(e.startedAt).toISOString().slice(0, 10)),
    ).toEqual([T1_DATE]);
    expect(exemptions.storageReleaseHistory().map((r) => r.date)).toEqual([T1_DATE]);
    // Gone from the database too, not only from memory: a reload finds the same.
    await exemptions.load();
    expect(exemptions.get(made.exemptions.old as string)).toBeUndefined();
    expect(exemptions.emergencyHistory()).toHaveLength(1);
    expect(run1.removed.exemptionsDays).toBe(3);
  });

  it('D2, P7: returned confiscations expire counted from the return; a phone never returned is kept', async () => {
    const ids = (await fixture.hub.confiscations.list()).map((c) => c.id).sort();
    expect(ids).toEqual([made.confiscations.open?.id, made.confiscations.recent?.id].sort());
    expect((await fixture.hub.confiscations.list({ openOnly: true })).map((c) => c.id)).toEqual([
      made.confiscations.open?.id,
    ]);
    expect(run1.removed.confiscationsDays).toBe(1);
  });

  it('D2: notifications that failed long ago are removed; recent failures stay listed', async () => {
    const failed = (await fixture.hub.safeguarding.notifier?.failed()) ?? [];
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((job) => (job.lastAttemptAt ?? 0) >= T1)).toBe(true);
    expect(run1.removed.notificationJobsDays).toBeGreaterThan(0);
  });

  it('D2, S6: the audit log is pruned only up to a head sent off the hub; the rest verifies from that checkpoint', async () => {
    const { audit } = fixture.hub;
    const [headT0] = made.heads;
    const verify = await audit.verify({ against: headT0 as ChainHead });
    // The checkpoint the rest is verified from is exactly the head sent at T0: a fingerprint held elsewhere too.
    expect(verify).toMatchObject({ ok: true, anchor: { seq: headT0?.seq, hash: headT0?.hash } });
    const oldest = (await audit.list({ reverse: false, limit: 1 }))[0] as AuditEntry;
    expect(oldest.seq).toBe((headT0?.seq ?? 0) + 1);
    // Age alone would have removed it (it is from T0); no sent head covered it when the run began, so it stays.
    expect(oldest.at).toBeLessThan(T1);
    const actions = (await audit.list({ limit: 100 })).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'compliance.retention-delete',
        'exemption.retention-delete',
        'confiscation.retention-delete',
        'notification.retention-delete',
        'retention.run',
      ]),
    );
  });
  it('D2: slot records stay until their term has ended, then go (a later run; last, as it removes the recent records too)', async () => {
    const before = await slotRecords();
    expect(before.some((k) => k.startsWith(`lesson:${T0_DATE}:`))).toBe(true);
    expect(before.some((k) => k.startsWith(`lesson:${T1_DATE}:`))).toBe(true);
    // 2027-02-01: 30 days back is 2 January, after the autumn term ended on 18 December.
    clock = at('2027-02-01', '08:00');
    await fixture.hub.safeguarding.retention.run(clock);
    expect(await slotRecords()).toEqual([]);
    // The last known state is still kept, however old.
    expect(await timelineKeys()).toEqual([at(T1_DATE, '08:50')]);
  });
});
