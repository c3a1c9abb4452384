/**
 * config/grafana/phones-away.json against a real private influxd: every query in the dashboard (each panel's, and
 * the site variable's) is expanded as Grafana's InfluxDB data source expands it ($timeFilter, $__interval, $site),
 * run, and checked against data seeded with the hub's own point builders (the names Grafana reads are the names the
 * hub writes). Another site's data is seeded too and must not show.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollUpPoint } from '../../../hub/compliance/compliance-recorder.js';
import { type InfluxdHandle, startInfluxd } from '../../../hub/influx/influxd-process.js';
import { heartbeatPoint, reportPoint } from '../../../hub/ingest/metric-points.js';
import { InfluxStore } from '../../../hub/store/influx-store.js';
import type { MetricPoint, Series } from '../../../hub/store/metrics-store.js';
import { parse } from '../../../schemas/validate.js';
import { repoRoot } from '../../support/hub-fixture.js';

interface Target {
  refId: string;
  query: string;
  rawQuery: boolean;
  resultFormat: string;
}
interface Panel {
  id: number;
  title: string;
  targets: Target[];
}
const dashboard = JSON.parse(
  readFileSync(join(repoRoot, 'config', 'grafana', 'phones-away.json'), 'utf8'),
) as {
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string }[] };
};
const panel = (title: string) => {
  const p = dashboard.panels.find((x) => x.title === title);
  if (!p) throw new Error(`no panel '${title}'`);
  return p;
};

const MIN = 60_000;
const DAY = 86_400_000;
const SITE = 'demo-school';
const OTHER = 'other-school';
// A fixed recent Monday 00:00 UTC, four weeks before this week's: the data sits inside Grafana's default 30 days.
const thisMonday = (() => {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY;
})();
const weeks = [3, 2, 1].map((n) => thisMonday - n * 7 * DAY);
const now = Date.now();
const range = { from: weeks[0]! - DAY, to: now };

/** What Grafana's InfluxDB (InfluxQL) data source does to a raw query before sending it. */
function expand(query: string, interval: string, site = SITE): string {
  return query
    .replaceAll('$timeFilter', `time >= ${range.from}ms and time <= ${range.to}ms`)
    .replaceAll('$__interval', interval)
    .replaceAll('$site', site.replace(/[\\^$*+?.()|[\]{}/-]/g, '\\$&'));
}

let dir: string;
let influxd: InfluxdHandle;
let store: InfluxStore;
const run = (query: string, interval = '1m', site = SITE): Promise<Series[]> =>
  store.query(expand(query, interval, site));

// Seeded figures, in the hub's units.
const DUE = 300; // minutes due per room per day
const lockedMin = (room: number, day: number) => DUE - 10 * room - 5 * day;
/** This site's heartbeats: [first, last] time of each device's. */
const beats: [number, number][] = [];
const reportsPerWeek = [
  { normal: 2, urgent: 1 },
  { normal: 0, urgent: 0 },
  { normal: 4, urgent: 2 },
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pa-grafana-'));
  influxd = await startInfluxd({ dataDir: join(dir, 'influx'), database: 'phones-away' });
  store = new InfluxStore({ url: influxd.url, database: 'phones-away' });
  const points: MetricPoint[] = [];
  // Compliance: three school weeks, Monday to Friday, two rooms, as the recorder rolls each day up.
  for (const [site, rooms] of [
    [SITE, ['room-1', 'room-2']],
    [OTHER, ['lab']],
  ] as const) {
    for (const monday of weeks)
      for (let day = 0; day < 5; day++)
        rooms.forEach((room, r) => {
          const locked = lockedMin(r, day);
          points.push(
            rollUpPoint('compliance_day', { site, room }, monday + day * DAY, {
              lessons: 5,
              scheduledMin: DUE,
              lockedClosedMin: locked,
              exemptMin: 0,
              offlineMin: 0,
              breachMin: DUE - locked,
              tamperCount: 0,
              graceMet: 5,
              graceDue: 5,
              ratio: locked / DUE,
            }),
          );
        });
  }
  // Heartbeats: the last 30 minutes, one a minute per device; room-2's device goes offline 10 minutes ago, with
  // reports piling up in its journal before it does.
  const hbStart = Math.floor(now / MIN) * MIN - 30 * MIN;
  for (const [site, device, room, until] of [
    [SITE, 'room-1-locker', 'room-1', 30],
    [SITE, 'room-2-locker', 'room-2', 20],
    [SITE, 'office-locker', 'office', 30],
    [OTHER, 'lab-locker', 'lab', 30],
  ] as const) {
    if (site === SITE) beats.push([hbStart, hbStart + (until - 1) * MIN]);
    for (let m = 0; m < until; m++) {
      const ts = hbStart + m * MIN;
      const hb = parse('heartbeat', {
        v: 1,
        id: `${device}:${m + 1}`,
        seq: m + 1,
        ts,
        uptimeS: m * 60,
        queued: device === 'room-2-locker' ? Math.max(0, m - 15) : 0,
        software: '0.1.0',
        board: 'emulated-uno',
        clockSynced: true,
      });
      points.push(heartbeatPoint({ site, room, device }, hb, ts));
    }
  }
  // Reports: per week as in reportsPerWeek, on Tuesdays and Thursdays; the other site has many.
  let seq = 0;
  weeks.forEach((monday, w) => {
    for (const urgency of ['normal', 'urgent'] as const)
      for (let i = 0; i < (reportsPerWeek[w]?.[urgency] ?? 0); i++) {
        const ts = monday + (1 + 2 * (i % 2)) * DAY + 10 * 3600_000 + i * MIN;
        const report = parse('report', {
          v: 1,
          id: `room-1-locker:${seq + 1}`,
          seq: ++seq,
          ts,
          urgency,
          pressMs: 150,
          queuedMs: 0,
        });
        points.push(reportPoint({ site: SITE, room: 'room-1', device: 'room-1-locker' }, report, ts));
      }
    const ts = monday + DAY;
    for (let i = 0; i < 5; i++) {
      const report = parse('report', {
        v: 1,
        id: `lab-locker:${seq + 1}`,
        seq: ++seq,
        ts: ts + i,
        urgency: 'normal',
        pressMs: 150,
        queuedMs: 0,
      });
      points.push(reportPoint({ site: OTHER, room: 'lab', device: 'lab-locker' }, report, ts + i));
    }
  });
  await store.writePoints(points);
});

afterAll(async () => {
  await influxd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Grafana dashboard over the real InfluxDB', () => {
  it('D5: every panel has raw InfluxQL queries, and every one of them parses and returns series', async () => {
    const targets = dashboard.panels.flatMap((p) => p.targets.map((t) => [p.title, t] as const));
    expect(targets.length).toBe(5);
    for (const [title, target] of targets) {
      expect(target.rawQuery, title).toBe(true);
      const series = await run(target.query);
      expect(series.length, title).toBeGreaterThan(0);
    }
  });

  it('the site variable lists the sites that report', async () => {
    const variable = dashboard.templating.list.find((v) => v.name === 'site');
    const [series] = await store.query(variable?.query ?? '');
    expect(series?.values.map((v) => v[1]).sort()).toEqual([SITE, OTHER]);
  });

  it('D5: compliance per room per day is locked-and-closed over due minutes, for this site only', async () => {
    const series = await run(panel('Compliance per room (%)').targets[0]!.query);
    expect(series.map((s) => s.tags?.room).sort()).toEqual(['room-1', 'room-2']);
    for (const s of series) {
      const r = s.tags?.room === 'room-1' ? 0 : 1;
      const byTime = new Map(s.values.map((v) => [v[0] as number, v[1] as number]));
      expect(byTime.size).toBe(15); // five school days in each of three weeks: no empty weekend rows
      for (const monday of weeks)
        for (let day = 0; day < 5; day++)
          expect(byTime.get(monday + day * DAY)).toBeCloseTo((lockedMin(r, day) / DUE) * 100, 6);
    }
  });

  it('D5: the range table weighs each room by minutes over the whole range', async () => {
    const series = await run(panel('Compliance per room over the range').targets[0]!.query);
    const room2 = series.find((s) => s.tags?.room === 'room-2');
    const locked = [0, 1, 2, 3, 4].reduce((sum, day) => sum + lockedMin(1, day), 0) * 3;
    expect(room2?.values[0]?.[1]).toBeCloseTo((locked / (DUE * 15)) * 100, 6);
    expect(room2?.values[0]?.[2]).toBe(DUE * 15 - locked);
  });

  it('devices online counts, in each interval, the devices with a heartbeat in it', async () => {
    const FIVE = 5 * MIN;
    const series = await run(panel('Devices online').targets[0]!.query, '5m');
    const rows = series[0]?.values ?? [];
    expect(rows.length).toBeGreaterThan(6);
    for (const [t, online] of rows as [number, number | null][]) {
      const expected = beats.filter(([start, end]) => start < t + FIVE && end >= t).length;
      expect(online ?? 0, new Date(t).toISOString()).toBe(expected);
    }
    expect(Math.max(...rows.map((r) => (r[1] as number | null) ?? 0))).toBe(3);
  });

  it('R1: outbox depth shows the reports waiting on the device that lost the hub', async () => {
    const series = await run(panel('Outbox depth per device').targets[0]!.query, '1m');
    const depth = (device: string) =>
      Math.max(...(series.find((s) => s.tags?.device === device)?.values.map((v) => v[1] as number) ?? [-1]));
    expect(depth('room-2-locker')).toBe(4);
    expect(depth('room-1-locker')).toBe(0);
    expect(series.some((s) => s.tags?.device === 'lab-locker')).toBe(false);
  });

  it('R5: reports per week are counted in Monday-to-Sunday weeks, by urgency, for this site only', async () => {
    const series = await run(panel('Reports per week').targets[0]!.query);
    for (const urgency of ['normal', 'urgent'] as const) {
      const s = series.find((x) => x.tags?.urgency === urgency);
      const byWeek = new Map(s?.values.map((v) => [v[0] as number, v[1] as number]));
      weeks.forEach((monday, w) => {
        expect(byWeek.get(monday), `${urgency} week ${w}`).toBe(reportsPerWeek[w]?.[urgency]);
      });
    }
  });
});
