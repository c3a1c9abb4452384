/**
 * The demo's four weeks of history, built through a real hub (real aedes, LevelDB and private influxd): every figure
 * the compliance API answers with was computed by the hub's ingest and compliance code from the simulated classrooms'
 * messages, and read back from influxd.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildHistory,
  type HistorySummary,
  historyStart,
  historyWanted,
} from '../../../cli/history/build-history.js';
import { DemoClock } from '../../../cli/history/demo-clock.js';
import type { ComplianceResult, ComplianceRow } from '../../../hub/http/routes/compliance-routes.js';
import type { InboxView, IncidentDetail } from '../../../hub/http/routes/incident-routes.js';
import { addDays, localClock, weekStart } from '../../../hub/policy/calendar.js';
import type { SchoolModel } from '../../../schemas/config.js';
import { demoSchool, type HubFixture, startTestHub } from '../../support/hub-fixture.js';
import { data, StaffClient } from '../../support/staff-client.js';

const PASSWORD = 'correct horse battery staple 42';

describe('demo history through the real pipeline', () => {
  let fixture: HubFixture;
  let journals: string;
  let summary: HistorySummary;
  let head: StaffClient;
  let dsl: StaffClient;
  let totpSecret: string;
  // Every weekday open, so the test has four full school weeks whatever the date it runs on (no holidays in range).
  const school: SchoolModel = {
    ...demoSchool(),
    timetable: { ...demoSchool().timetable, terms: [], insetDays: [] },
  };
  const tz = school.timetable.timezone;
  const until = Date.now();
  const today = localClock(until, tz).date;
  const from = addDays(today, -27);

  const compliance = async (query: string) =>
    data(await head.get<ComplianceResult>(`/api/compliance?${query}&from=${from}&to=${today}`)).rows;
  const lesson = (rows: ComplianceRow[], date: string, device: string, period: string) => {
    const row = rows.find((r) => r.date === date && r.device === device && r.period === period);
    if (!row) throw new Error(`no lesson row for ${device} ${period} on ${date}`);
    return row;
  };

  beforeAll(async () => {
    expect(historyWanted(join(tmpdir(), 'phones-away-no-such-hub'))).toBe(true);
    const clock = new DemoClock(historyStart(school, until));
    fixture = await startTestHub({ school, now: clock.now });
    const { hub } = fixture;
    journals = mkdtempSync(join(tmpdir(), 'phones-away-journals-'));
    for (const entry of school.devices)
      await hub.registry.provision({
        id: entry.id,
        address: { site: school.site, room: entry.room, device: entry.id },
        secret: 'device-secret-123456',
        lockerMode: entry.lockerMode,
        now: clock.now(),
      });
    await hub.users.add('head', PASSWORD, ['head'], clock.now());
    await hub.users.add('dsl', PASSWORD, ['dsl', 'coordinator'], clock.now());
    const began = performance.now();
    summary = await buildHistory({
      hub,
      school,
      clock,
      journalDir: (id) => join(journals, id),
      dsl: { username: 'dsl', roles: ['dsl', 'coordinator'] },
      head: { username: 'head' },
      software: '0.0.0-test',
      until,
    });
    console.log(`history: ${summary.messages} messages in ${Math.round(performance.now() - began)} ms`);
    head = new StaffClient(hub.httpUrl, 'head', PASSWORD);
    dsl = new StaffClient(hub.httpUrl, 'dsl', PASSWORD);
    expect((await head.signIn()).status).toBe(200);
    expect((await dsl.signIn()).status).toBe(200);
    totpSecret = head.totpSecret as string;
  }, 120_000);

  afterAll(async () => {
    await fixture?.dispose();
    if (journals) rmSync(journals, { recursive: true, force: true });
  });

  it('D5: four school weeks of day rows for every room, and a row for each of those weeks', async () => {
    const pastDays = summary.plan.dates.filter((d) => d < today);
    expect(pastDays.length).toBeGreaterThanOrEqual(19);
    const days = await compliance('level=day');
    const rooms = [...new Set(school.devices.map((d) => d.room))].sort();
    for (const date of pastDays) {
      const dayRows = days.filter((r) => localClock(Number(r.time), tz).date === date);
      expect(dayRows.map((r) => r.room).sort(), date).toEqual(rooms);
    }
    const weeks = await compliance('level=week');
    const weekStarts = new Set(weeks.map((r) => localClock(Number(r.time), tz).date));
    expect([...weekStarts].sort()).toEqual([...new Set(pastDays.map(weekStart))].sort());
    expect(weekStarts.size).toBeGreaterThanOrEqual(4);
  });

  it('P1, D5: an ordinary lesson is fully compliant and locked within grace', async () => {
    const rows = await compliance('level=lesson');
    const missed = new Set(summary.plan.misses.map((m) => m.date));
    const calm = summary.plan.dates.find((d) => d < today && !missed.has(d)) as string;
    const row = lesson(rows, calm, 'room-1-locker', 'p1');
    expect(row).toMatchObject({ ratio: 1, breach_min: 0, offline_min: 0, grace: 'met' });
  });

  it('P1: a door left open shows as breach minutes in that lesson', async () => {
    const rows = await compliance('level=lesson');
    const miss = summary.plan.misses.find((m) => m.kind === 'door-left-open');
    if (miss?.kind !== 'door-left-open') throw new Error('no door-left-open miss planned');
    const row = lesson(rows, miss.date, miss.device, miss.period);
    expect(row.breach_min).toBe(miss.minutes);
    expect(row.ratio).toBeLessThan(1);
  });

  it('P1: a lock later than the grace time is recorded as grace missed, with its delay', async () => {
    const rows = await compliance('level=lesson');
    const miss = summary.plan.misses.find((m) => m.kind === 'late-lock');
    if (miss?.kind !== 'late-lock') throw new Error('no late-lock miss planned');
    const row = lesson(rows, miss.date, miss.device, miss.period);
    expect(row).toMatchObject({ grace: 'missed', lock_delay_min: miss.minutes, breach_min: miss.minutes });
  });

  it('R7, D5: a device offline for a morning shows offline minutes, never compliant ones', async () => {
    const rows = await compliance('level=lesson');
    const miss = summary.plan.misses.find((m) => m.kind === 'offline');
    if (miss?.kind !== 'offline') throw new Error('no offline miss planned');
    const offline = rows.filter((r) => r.date === miss.date && r.device === miss.device);
    const total = offline.reduce((sum, r) => sum + Number(r.offline_min), 0);
    // From 10:15 to 13:40, less the break and lunch (not lessons): 45 + 60 + 30 minutes of lessons.
    expect(total).toBe(135);
  });

  it('P6: an exempted lesson counts as exempt, not as a breach', async () => {
    const rows = await compliance('level=lesson');
    const exemption = summary.plan.exemptions[0];
    if (!exemption) throw new Error('no exemption planned');
    const device = school.devices.find((d) => d.room === exemption.room)?.id as string;
    const row = lesson(rows, exemption.date, device, exemption.period);
    expect(row).toMatchObject({ exempt_min: 60, breach_min: 0, due_min: 0 });
  });

  it('R3, R4: the reports and their workflow are in the inbox, one closed with its category', async () => {
    const inbox = data(await dsl.get<InboxView>('/api/incidents'));
    const reports = inbox.items.filter((i) => 'kind' in i && i.kind === 'report');
    expect(reports).toHaveLength(summary.plan.reports.length);
    const closed = reports.filter((i) => 'status' in i && i.status === 'closed');
    expect(closed.length).toBe(2);
    const first = closed.find((i) => 'category' in i && i.category === 'online-safety');
    if (!first) throw new Error('no closed online-safety report');
    const detail = data(await dsl.get<IncidentDetail>(`/api/incidents/${first.id}`));
    expect(detail.steps.map((s) => s.action)).toEqual(['reported', 'acknowledged', 'action-noted', 'closed']);
    expect(reports.filter((i) => 'status' in i && i.status === 'acknowledged')).toHaveLength(1);
  });

  it("R7: the history's device messages form unbroken hash chains", async () => {
    expect(summary.messages).toBeGreaterThan(0);
    expect(fixture.hub.chain.stats).toEqual({ gaps: 0, breaks: 0 });
  });

  it('a second start finds the history in place: nothing to build, the same rows', async () => {
    const before = await compliance('level=day');
    expect(historyWanted(fixture.dataDir)).toBe(false);
    await fixture.stop();
    fixture = await startTestHub({ school, dataDir: fixture.dataDir });
    head = new StaffClient(fixture.hub.httpUrl, 'head', PASSWORD);
    head.totpSecret = totpSecret;
    expect((await head.signIn(Date.now() + 30_000)).status).toBe(200);
    const after = await compliance('level=day');
    expect(after.filter((r) => localClock(Number(r.time), tz).date < today)).toEqual(
      before.filter((r) => localClock(Number(r.time), tz).date < today),
    );
  }, 120_000);
});
