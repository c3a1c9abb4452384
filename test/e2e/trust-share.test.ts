/**
 * The trust tier, the schools' side, with real parts: three hubs with different sites (real aedes, LevelDB, HTTP),
 * their own store on one real influxd (sites scope it), and the trust's shared store on a second real influxd, both
 * started by this test. Each hub shares numbers only, every point tagged with its site; incident counts only when the
 * school opted in; a shared-store outage (SIGSTOP), with a hub restart in the middle of it, is caught up without loss;
 * a trust account is refused by every hub; and the trust's own view (the real trust server, read in Chromium) shows
 * what these hubs shared, school by school. Sizes are bounded: three demo-sized schools, one school day's lessons.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InfluxdHandle, startInfluxd } from '../../hub/influx/influxd-process.js';
import { silentLogger } from '../../hub/log.js';
import { addDays, localClock, zonedTime } from '../../hub/policy/calendar.js';
import { dfe2026Policy } from '../../hub/policy/presets.js';
import { createInfluxStore } from '../../hub/store/influx-store.js';
import type { MetricsStore } from '../../hub/store/metrics-store.js';
import { weekStartMs } from '../../hub/trust/trust-points.js';
import { totpCode } from '../../hub/users/totp.js';
import type { BaselineView } from '../../schemas/api.js';
import type { HubConfig, SchoolModel } from '../../schemas/config.js';
import type { ReportAck } from '../../schemas/messages.js';
import { topics } from '../../schemas/topics.js';
import type { TrustBaseline } from '../../schemas/trust.js';
import { startTrust } from '../../trust/main.js';
import { launchBrowser } from '../support/browser.js';
import { axeViolations, describeViolations, ruleIdsShown } from '../support/dashboard.js';
import { connectClient, demoSchool, type HubFixture, startTestHub, waitFor } from '../support/hub-fixture.js';
import { data, StaffClient } from '../support/staff-client.js';

const TZ = 'Europe/London';
const LOCAL_DB = 'schools-own';
const TRUST_DB = 'trust-shared';
const PASSWORD = 'heron quartz meadow 57';
const OPS_TOKEN = 'trust-share-ops-token-0123456789';
/** Free text a member of staff writes on an incident: none of it may ever reach the shared store (D1, R4). */
const NOTE_TEXT = 'Trustshare note: spoke to the form tutor about the group chat';
const OUTCOME_TEXT = 'Trustshare outcome: parents informed, chat reported';

/** The next school weekday after today, so the test needs no fake clock and runs on any date. */
function nextSchoolDay(): string {
  let date = addDays(localClock(Date.now(), TZ).date, 1);
  while ([0, 6].includes(new Date(`${date}T12:00:00Z`).getUTCDay())) date = addDays(date, 1);
  return date;
}
const DAY = nextSchoolDay();
const at = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return zonedTime(DAY, h * 60 + m, TZ);
};

interface School {
  site: string;
  name: string;
  shareIncidentCounts: boolean;
  model: SchoolModel;
}

/** Three schools that differ in every figure the trust sees: name, rooms, devices, policy, incident sharing. */
function schools(): School[] {
  const base = demoSchool();
  const term = { name: 'Test term', start: addDays(DAY, -30), end: addDays(DAY, 60) };
  const model = (site: string, name: string, rooms: number, policy = base.policy): SchoolModel => {
    const kept = base.rooms.slice(0, rooms);
    const ids = new Set(kept.map((r) => r.id));
    return {
      ...structuredClone(base),
      site,
      name,
      rooms: kept,
      devices: base.devices.filter((d) => ids.has(d.room)),
      timetable: { ...base.timetable, terms: [term], insetDays: [] },
      policy,
    };
  };
  return [
    {
      site: 'north-school',
      name: 'North Academy',
      shareIncidentCounts: true,
      model: model('north-school', 'North Academy', 5),
    },
    {
      site: 'south-school',
      name: 'South Academy',
      shareIncidentCounts: true,
      model: model('south-school', 'South Academy', 2),
    },
    // East is on the baseline's own matrix, and keeps its incident counts to itself.
    {
      site: 'east-school',
      name: 'East Academy',
      shareIncidentCounts: false,
      model: model('east-school', 'East Academy', 3, dfe2026Policy()),
    },
  ];
}

type Row = Record<string, unknown>;
const rowsOf = (series: Awaited<ReturnType<MetricsStore['query']>>): Row[] =>
  series.flatMap((s) =>
    s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })),
  );

describe('trust share: three hubs, one shared InfluxDB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-trust-share-'));
  const baselineFile = join(dir, 'baseline.json');
  let local: InfluxdHandle;
  let trust: InfluxdHandle;
  let trustStore: MetricsStore;
  let localStore: MetricsStore;
  const hubs = new Map<string, HubFixture>();
  const configs = new Map<string, Partial<HubConfig>>();
  const devices: MqttClient[] = [];
  const list = schools();
  /** The north head, signed in (and TOTP-enrolled) by the baseline test. */
  let head: StaffClient;

  const hubOf = (site: string) => {
    const fixture = hubs.get(site);
    if (!fixture) throw new Error(`no hub for ${site}`);
    return fixture.hub;
  };
  const trustRows = async (measurement: string, site: string) =>
    rowsOf(await trustStore.query(`SELECT * FROM "${measurement}" WHERE "site" = '${site}'`));
  const localRows = async (measurement: string, site: string) =>
    rowsOf(await localStore.query(`SELECT * FROM "${measurement}" WHERE "site" = '${site}'`));
  /** Everything each hub was asked to share so far has reached the shared store. */
  const settle = async (...sites: string[]) => {
    for (const site of sites.length ? sites : [...hubs.keys()]) {
      const hub = hubOf(site);
      await hub.policy.compliance.idle();
      await hub.trust?.idle();
      await hub.outbox.drain();
      await hub.trust?.outbox.drain();
    }
  };

  /** A pupil's report from a real device over MQTT; resolves with the incident reference the hub acknowledged. */
  async function report(site: string): Promise<string> {
    const hub = hubOf(site);
    const address = { site, room: 'room-1', device: `${site}-report-box` };
    const secret = `secret-${site}-0123456789`;
    await hub.registry.provision({
      id: address.device,
      address,
      secret,
      lockerMode: 'lesson',
      now: Date.now(),
    });
    const device = await connectClient(hub.mqttPort, {
      clientId: address.device,
      username: address.device,
      password: secret,
    });
    devices.push(device);
    const acks: ReportAck[] = [];
    device.on('message', (topic, payload) => {
      if (topic === topics.reportAck(address)) acks.push(JSON.parse(payload.toString()) as ReportAck);
    });
    await device.subscribeAsync(topics.deviceInbox(address), { qos: 1 });
    const id = `${address.device}:1`;
    const payload = { v: 1, id, seq: 1, ts: Date.now(), urgency: 'urgent', pressMs: 150, queuedMs: 0 };
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(payload), { qos: 1 });
    return (await waitFor(() => acks.find((a) => a.id === id), 'report ack')).ref;
  }

  beforeAll(async () => {
    local = await startInfluxd({ dataDir: join(dir, 'local-influx'), database: LOCAL_DB });
    trust = await startInfluxd({ dataDir: join(dir, 'trust-influx'), database: TRUST_DB });
    trustStore = createInfluxStore({ url: trust.url, database: TRUST_DB });
    localStore = createInfluxStore({ url: local.url, database: LOCAL_DB });
    const baseline: TrustBaseline = { v: 1, name: 'Trust phone-free day', policy: dfe2026Policy() };
    writeFileSync(baselineFile, JSON.stringify(baseline));
    const opsTokenFile = join(dir, 'ops.token');
    writeFileSync(opsTokenFile, OPS_TOKEN);
    chmodSync(opsTokenFile, 0o600);
    for (const school of list) {
      const config: Partial<HubConfig> = {
        site: school.site,
        influx: { mode: 'external', url: local.url, database: LOCAL_DB },
        metrics: { credentialsFile: opsTokenFile },
        trust: {
          store: { url: trust.url, database: TRUST_DB },
          shareIncidentCounts: school.shareIncidentCounts,
          baselineFile,
        },
      };
      configs.set(school.site, config);
      hubs.set(school.site, await startTestHub({ school: school.model, config }));
    }
    // The first lessons of the next school day end: every hub records them (reg and P1) and rolls them up.
    for (const school of list) await hubOf(school.site).policy.compliance.tick(at('10:01'));
    await settle();
  }, 120_000);

  afterAll(async () => {
    trust?.kill('SIGCONT');
    for (const device of devices) device.end(true);
    for (const fixture of hubs.values()) await fixture.dispose();
    await local?.stop();
    await trust?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("each school's figures arrive tagged with its own site, and only its own", async () => {
    for (const school of list) {
      const [row] = await trustRows('trust_school', school.site);
      expect(row, school.site).toMatchObject({ name: school.name, rooms: school.model.rooms.length });
      expect(await trustRows('trust_school', school.site)).toHaveLength(1);

      const [health] = await trustRows('trust_devices', school.site);
      // The devices of the school model, none of which has spoken yet.
      expect(health, school.site).toMatchObject({
        total: school.model.devices.length,
        online: 0,
        offline: school.model.devices.length,
        faults: 0,
        outdated: 0,
      });

      // D5: the week and term roll-ups are the hub's own, point for point.
      for (const measurement of ['compliance_week', 'compliance_term']) {
        const shared = await trustRows(measurement, school.site);
        const own = await localRows(measurement, school.site);
        expect(shared.length, `${school.site} ${measurement}`).toBeGreaterThan(0);
        expect(shared).toEqual(own);
        // Every room with a classroom locker, and no room without a locker to keep locked. An office locker (P2,
        // day storage) is rolled up too once an arrival-to-home-time day has ended since the hub started: that
        // depends on when the test runs (it failed on a Monday's early hours, when all of Sunday night to Tuesday
        // 10:01 lay between), so it may be there or not.
        const roomsOf = (modes: string[]) =>
          new Set(school.model.devices.filter((d) => modes.includes(d.lockerMode)).map((d) => d.room));
        const sharedRooms = new Set(shared.map((r) => r.room));
        for (const room of roomsOf(['lesson']))
          expect(sharedRooms, `${school.site} ${measurement}`).toContain(room);
        for (const room of sharedRooms)
          expect(roomsOf(['lesson', 'day-storage']), `${school.site} ${measurement}`).toContain(room);
        for (const r of shared) expect(r.lessons, `${school.site} ${measurement}`).toBeGreaterThan(0);
      }
      // Day and lesson records stay in the school.
      expect(await trustRows('compliance_day', school.site)).toEqual([]);
      expect(await trustRows('compliance_lesson', school.site)).toEqual([]);
    }
    // No series without a site, and no site but the three.
    const sites = rowsOf(await trustStore.query('SHOW TAG VALUES WITH KEY = "site"')).map((r) => r.value);
    // (one row per measurement and site)
    expect([...new Set(sites)].sort()).toEqual(['east-school', 'north-school', 'south-school']);
    const measurements = rowsOf(await trustStore.query('SHOW MEASUREMENTS')).map((r) => String(r.name));
    for (const m of measurements)
      expect(rowsOf(await trustStore.query(`SELECT * FROM "${m}" WHERE "site" = ''`)), m).toEqual([]);
  });

  it('P8: each school shows and shares how its matrix differs from the trust baseline', async () => {
    const expected = { 'north-school': 13, 'south-school': 13, 'east-school': 0 } as Record<string, number>;
    for (const school of list) {
      const [row] = await trustRows('trust_baseline', school.site);
      expect(row?.differences, school.site).toBe(expected[school.site]);
      expect(JSON.parse(String(row?.detail))).toHaveLength(expected[school.site] as number);
    }
    const hub = hubOf('north-school');
    await hub.users.add('head-north', PASSWORD, ['head'], Date.now());
    head = new StaffClient(hub.httpUrl, 'head-north', PASSWORD);
    expect((await head.signIn()).status).toBe(200);
    const view = data(await head.get<BaselineView>('/api/policy/baseline'));
    expect(view).toMatchObject({ configured: true, name: 'Trust phone-free day' });
    expect(view.differences).toHaveLength(13);
    expect(view.differences).toContainEqual({
      zone: 'office',
      audience: 'staff',
      time: 'lesson',
      school: 'if-unavoidable',
      baseline: 'no',
    });
  });

  it('R4, D1: incident counts by category for schools that opted in, and no incident text in the shared store', async () => {
    const north = hubOf('north-school');
    const ref = await report('north-school');
    await report('east-school');
    await settle('north-school', 'east-school');
    const week = weekStartMs(Date.now(), TZ);
    const count = async (site: string, category: string) =>
      (await trustRows('trust_incidents', site)).find((r) => r.category === category && r.time === week)
        ?.count;
    expect(await count('north-school', 'uncategorised')).toBe(1);
    expect(await count('north-school', 'bullying')).toBe(0);

    await north.users.add('dsl-north', PASSWORD, ['dsl'], Date.now());
    const dsl = new StaffClient(north.httpUrl, 'dsl-north', PASSWORD);
    expect((await dsl.signIn()).status).toBe(200);
    expect((await dsl.post(`/api/incidents/${ref}/acknowledge`)).status).toBe(200);
    expect((await dsl.post(`/api/incidents/${ref}/note`, { text: NOTE_TEXT })).status).toBe(200);
    expect(
      (await dsl.post(`/api/incidents/${ref}/close`, { outcome: OUTCOME_TEXT, category: 'bullying' })).status,
    ).toBe(200);
    await settle('north-school');
    // The category moved: the week's counts are re-written, the category it left lowered.
    expect(await count('north-school', 'bullying')).toBe(1);
    expect(await count('north-school', 'uncategorised')).toBe(0);
    // East keeps its counts to itself (not opted in), though it has an incident.
    expect(await trustRows('trust_incidents', 'east-school')).toEqual([]);
    expect((await hubOf('east-school').incidents.list()).length).toBe(1);

    // Every measurement, every field and tag: none carries the incident's text, reference, room name or staff name.
    const measurements = rowsOf(await trustStore.query('SHOW MEASUREMENTS')).map((r) => String(r.name));
    expect(measurements).toContain('trust_incidents');
    const everything = JSON.stringify(
      await Promise.all(
        measurements.map(async (m) => rowsOf(await trustStore.query(`SELECT * FROM "${m}"`))),
      ),
    );
    for (const secret of [
      NOTE_TEXT,
      OUTCOME_TEXT,
      'Trustshare',
      ref,
      'dsl-north',
      'head-north',
      'report-box',
    ])
      expect(everything.includes(secret), secret).toBe(false);
    // The check can fail: the same text is in the school's own database.
    expect(JSON.stringify(await north.incidents.getByRef(ref))).toContain(NOTE_TEXT);
  });

  it('the shared store hung (SIGSTOP) across a hub restart: the hub keeps working, and everything catches up once', async () => {
    const site = 'north-school';
    const before = await trustRows('compliance_week', site);
    const school = list.find((s) => s.site === site) as School;
    let own: Row[] = [];
    trust.kill('SIGSTOP');
    try {
      // P2 ends while the shared store hangs: the roll-ups are re-made for both stores.
      await hubOf(site).policy.compliance.tick(at('11:01'));
      await hubOf(site).outbox.drain(); // the hub's own store is not held up by the shared one
      own = await localRows('compliance_week', site);
      expect(own.map((r) => r.lessons)).not.toEqual(before.map((r) => r.lessons));
      const waiting = (await hubOf(site).trust?.outbox.pending()) ?? 0;
      expect(waiting).toBeGreaterThan(0);

      // The hub restarts during the outage: what waits for the shared store is on disk, not in memory.
      const fixture = hubs.get(site) as HubFixture;
      await fixture.stop();
      hubs.set(
        site,
        await startTestHub({
          dataDir: fixture.dataDir,
          school: school.model,
          config: configs.get(site) ?? {},
        }),
      );
      const hub = hubOf(site);
      // All still waiting (and the new start's own points besides).
      expect(await hub.trust?.outbox.pending()).toBeGreaterThanOrEqual(waiting);
      // Signing in again: the next TOTP step's code, as this step's was spent signing in before.
      const again = new StaffClient(hub.httpUrl, 'head-north', PASSWORD);
      again.totpSecret = head.totpSecret;
      expect((await again.signIn(Date.now() + 30_000)).status).toBe(200);
      expect(data(await again.get<BaselineView>('/api/policy/baseline')).differences).toHaveLength(13);
      // The school's own health is unaffected; the operator sees the backlog for the trust.
      const health = await fetch(`${hub.httpUrl}/healthz`, {
        headers: { authorization: `Bearer ${OPS_TOKEN}` },
      });
      expect(health.status).toBe(200);
      const body = (await health.json()) as { status: string; trust?: { outboxDepth: number } };
      expect(body.status).toBe('ok');
      expect(body.trust?.outboxDepth).toBeGreaterThanOrEqual(waiting);
      const metrics = await (
        await fetch(`${hub.httpUrl}/metrics`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } })
      ).text();
      expect(metrics).toMatch(/^phones_away_trust_outbox_depth [1-9][0-9]*$/m);
    } finally {
      trust.kill('SIGCONT');
    }
    const hub = hubOf(site);
    await hub.trust?.idle();
    await hub.trust?.outbox.drain(60_000);
    expect(await hub.trust?.outbox.pending()).toBe(0);
    expect(await hub.db.count('trust-outbox-dead')).toBe(0);
    for (const measurement of ['compliance_week', 'compliance_term'])
      expect(await trustRows(measurement, site), measurement).toEqual(await localRows(measurement, site));
    expect((await trustRows('compliance_week', site)).map((r) => r.lessons)).toEqual(
      own.map((r) => r.lessons),
    );
    // Once: one school row per start (two starts), one week roll-up per room (the hub's own rows, compared above, hold
    // every room with a classroom locker, and the office's when a storage day has ended since the start).
    expect(await trustRows('trust_school', site)).toHaveLength(2);
    const weeks = await trustRows('compliance_week', site);
    expect(weeks).toHaveLength(new Set(weeks.map((r) => r.room)).size);
    const lessonRooms = school.model.devices.filter((d) => d.lockerMode === 'lesson').map((d) => d.room);
    for (const room of lessonRooms) expect(weeks.map((r) => r.room)).toContain(room);
  }, 90_000);

  it('D5: a school that joins its trust mid-term shares the whole term so far, once', async () => {
    const site = 'west-school';
    const model = { ...(list[0] as School).model, site, name: 'West Academy' };
    const own: Partial<HubConfig> = {
      site,
      influx: { mode: 'external', url: local.url, database: LOCAL_DB },
    };
    // Before it joins: lessons recorded into its own store only.
    const before = await startTestHub({ school: model, config: own });
    hubs.set(site, before);
    await before.hub.policy.compliance.tick(at('10:01'));
    await settle(site);
    expect(before.hub.trust).toBeNull();
    const ownWeek = await localRows('compliance_week', site);
    expect(ownWeek.length).toBeGreaterThan(0);
    await before.stop();

    // It joins: the term under way reaches the shared store, the same figures as its own.
    const config = { ...own, trust: { store: { url: trust.url, database: TRUST_DB } } };
    hubs.set(
      site,
      await startTestHub({ dataDir: before.dataDir, school: model, config, trustDevicesEveryMs: 200 }),
    );
    await settle(site);
    for (const measurement of ['compliance_week', 'compliance_term']) {
      const shared = await trustRows(measurement, site);
      expect(shared.length, measurement).toBeGreaterThan(0);
      expect(shared, measurement).toEqual(await localRows(measurement, site));
    }
    const marker = `trust/term-sent/${trust.url}/${TRUST_DB}`;
    expect(await hubOf(site).db.get('meta', marker)).toBeTypeOf('number');
  }, 60_000);

  it('S8, D4: device health is sent again and again, as the live grid changes', async () => {
    // West sends its device health every 200 ms here (every 5 minutes by default).
    const site = 'west-school';
    const hub = hubOf(site);
    const [first] = await trustRows('trust_devices', site);
    expect(first).toMatchObject({ online: 0 });
    const address = { site, room: 'room-1', device: 'room-1-locker' };
    const secret = 'west-locker-secret-0123456789';
    await hub.registry.provision({
      id: address.device,
      address,
      secret,
      lockerMode: 'lesson',
      now: Date.now(),
    });
    devices.push(
      await connectClient(hub.mqttPort, {
        clientId: address.device,
        username: address.device,
        password: secret,
      }),
    );
    const online = await waitFor(async () => {
      await hub.trust?.outbox.drain();
      return (await trustRows('trust_devices', site)).find((r) => r.online === 1);
    }, 'a trust_devices point with the locker online');
    const total = (list[0] as School).model.devices.length;
    expect(online).toMatchObject({ total, online: 1, offline: total - 1 });
  });

  it('S1, S5: a trust account is refused by every hub: trust accounts live only in the trust server', async () => {
    for (const school of list) {
      const hub = hubOf(school.site);
      const trustLeader = new StaffClient(hub.httpUrl, 'trust-leader', 'trust leader password 2026');
      const reply = await trustLeader.signIn();
      expect(reply.status, school.site).toBe(401);
      expect(reply.body.status).toBe('error');
      expect((await trustLeader.get('/api/session')).status).toBe(401);
    }
  });

  it("D2: a hub's retention never deletes in the shared store, nor another school's own points", async () => {
    const count = async (store: MetricsStore, site: string) =>
      (
        await Promise.all(
          ['compliance_week', 'compliance_term', 'trust_school', 'trust_devices', 'trust_baseline'].map(
            async (m) => rowsOf(await store.query(`SELECT * FROM "${m}" WHERE "site" = '${site}'`)).length,
          ),
        )
      ).reduce((a, b) => a + b, 0);
    const shared = await Promise.all(list.map((s) => count(trustStore, s.site)));
    const southOwn = (await localRows('compliance_week', 'south-school')).length;
    const northOwn = (await localRows('compliance_week', 'north-school')).length;
    expect(northOwn).toBeGreaterThan(0);
    // Far enough ahead that every one of the north hub's own aggregates is past its period.
    const result = await hubOf('north-school').safeguarding.retention?.run(Date.now() + 800 * 86_400_000);
    expect(result?.measurementsCleared).toContain('compliance_week');
    expect(await localRows('compliance_week', 'north-school')).toEqual([]);
    expect((await localRows('compliance_week', 'south-school')).length).toBe(southOwn);
    expect(await Promise.all(list.map((s) => count(trustStore, s.site)))).toEqual(shared);
  });

  it("S3, R4, P8: the trust's own view, read in Chromium, shows what these hubs shared and nothing they kept", async () => {
    const trustServer = await startTrust(
      {
        v: 1,
        name: 'Test Learning Trust',
        dataDir: join(dir, 'trust-server'),
        http: { host: '127.0.0.1', port: 0 },
        store: { url: trust.url, database: TRUST_DB },
        schools: list.map((s) => ({ site: s.site, name: s.name, shareIncidents: s.shareIncidentCounts })),
        baselineFile,
      },
      { log: silentLogger },
    );
    const browser = await launchBrowser();
    try {
      const leader = trustServer.firstRunLeader as { username: string; password: string };
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${trustServer.url}/login`);
      await page.getByLabel('Username').fill(leader.username);
      await page.getByLabel('Password').fill(leader.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const secret = (await page.getByTestId('totp-secret').textContent())?.trim() as string;
      await page.getByLabel('Six-digit code from your authenticator app').fill(totpCode(secret, Date.now()));
      await page.getByRole('button', { name: 'Verify code' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      const readable = async () => {
        const violations = await axeViolations(page);
        expect(violations, describeViolations(violations)).toEqual([]);
        expect(await ruleIdsShown(page)).toEqual([]);
        return ((await page.locator('main').textContent()) ?? '').replace(/\s+/g, ' ');
      };
      const rowText = async (table: string, name: string) =>
        (
          await page
            .getByTestId(table)
            .getByRole('row')
            .filter({ hasText: name })
            .locator('th, td')
            .allTextContents()
        )
          .map((cell) => cell.trim())
          .join(' ');

      // Compliance and the ranking: every school the hubs shared, each with a figure.
      await page.getByTestId('compliance-table').waitFor();
      await readable();
      for (const school of list) expect(await rowText('compliance-table', school.name)).toMatch(/\d+%/);
      await page.getByRole('link', { name: 'Schools ranked' }).click();
      await page.getByTestId('rankings').waitFor();
      await readable();
      expect((await page.getByTestId('rankings').locator('tbody th').allTextContents()).sort()).toEqual(
        list.map((s) => s.name).sort(),
      );

      // Device health: each school's latest snapshot, as its hub sent it.
      await page.getByRole('link', { name: 'Device health' }).click();
      await page.getByTestId('devices-table').waitFor();
      await readable();
      for (const school of list) {
        const latest = (await trustRows('trust_devices', school.site)).at(-1) as Row;
        const figures = ['total', 'online', 'offline', 'faults', 'outdated'].map((f) => String(latest[f]));
        expect(await rowText('devices-table', school.name)).toContain(`${school.name} ${figures.join(' ')}`);
      }

      // Incident counts: North's report (closed as bullying) counted; East keeps its counts to itself.
      await page.getByRole('link', { name: 'Incident counts' }).click();
      await page.getByTestId('incidents-table').waitFor();
      const incidents = await readable();
      const head = await page.getByTestId('incidents-table').locator('thead th').allTextContents();
      const north = await page
        .getByTestId('incidents-table')
        .getByRole('row')
        .filter({ hasText: 'North Academy' })
        .locator('td')
        .allTextContents();
      expect(north[head.indexOf('Bullying') - 1]).toBe('1');
      expect(await rowText('incidents-table', 'East Academy')).toMatch(/^East Academy( not shared)+$/);
      expect(incidents).not.toContain(NOTE_TEXT);

      // The baseline: East is on it; North and South differ, by as many cells as their hubs reported.
      await page.getByRole('link', { name: 'Policy baseline' }).click();
      await page.getByRole('heading', { name: 'North Academy' }).waitFor();
      const baseline = await readable();
      expect(baseline).toMatch(/East Academy\s*Same as the baseline/);
      for (const site of ['north-school', 'south-school']) {
        const differences = Number((await trustRows('trust_baseline', site)).at(-1)?.differences);
        expect(differences).toBeGreaterThan(0);
        expect(baseline).toContain(
          `${differences} difference${differences === 1 ? '' : 's'} from the baseline`,
        );
      }
    } finally {
      await browser.close();
      await trustServer.stop();
    }
  }, 120_000);
});
