/**
 * D2 on a shared InfluxDB: two schools' hubs write to one real influxd and one database (a trust's server), and one
 * school's retention run removes only its own old points. The other school's points, of every age and measurement,
 * are all still there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InfluxdHandle, startInfluxd } from '../../../../hub/influx/influxd-process.js';
import type { MetricPoint } from '../../../../hub/store/metrics-store.js';
import { demoSchool, type HubFixture, startTestHub } from '../../../support/hub-fixture.js';

const DAY = 86_400_000;
const DB = 'trust-shared';

describe('retention on a shared InfluxDB (D2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-shared-influx-'));
  let influxd: InfluxdHandle;
  let ours: HubFixture;
  let theirs: HubFixture;

  beforeAll(async () => {
    influxd = await startInfluxd({ dataDir: join(dir, 'influx'), database: DB });
    const influx = { mode: 'external' as const, url: influxd.url, database: DB };
    ours = await startTestHub({
      config: { influx, retention: { rawEventsDays: 5, aggregatesDays: 30 } },
    });
    theirs = await startTestHub({
      school: { ...demoSchool(), site: 'other-school' },
      config: { site: 'other-school', influx },
    });
  }, 60_000);

  afterAll(async () => {
    await ours?.dispose();
    await theirs?.dispose();
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const points = (site: string, now: number): MetricPoint[] => {
    const tags = { site, room: 'room-1', device: 'room-1-locker' };
    return [
      {
        measurement: 'heartbeat',
        tags,
        fields: { uptime_s: 1, queued: 0, software: '1' },
        ts: now - 10 * DAY,
      },
      { measurement: 'heartbeat', tags, fields: { uptime_s: 2, queued: 0, software: '1' }, ts: now - DAY },
      { measurement: 'compliance_lesson', tags, fields: { ratio: 0.9 }, ts: now - 10 * DAY },
      { measurement: 'compliance_lesson', tags, fields: { ratio: 0.8 }, ts: now - 40 * DAY },
    ];
  };

  it("D2: one site's retention deletes its own old points and none of the other site's", async () => {
    const now = Date.now();
    await ours.hub.store.writePoints(points('demo-school', now));
    await theirs.hub.store.writePoints(points('other-school', now));
    // A measurement only the other school has: this hub's run must not even list it.
    await theirs.hub.store.writePoints([
      {
        measurement: 'compliance_day',
        tags: { site: 'other-school', room: 'room-1' },
        fields: { ratio: 0.7 },
        ts: now - 400 * DAY,
      },
    ]);
    const count = async (site: string, m: string, field: string) =>
      (await ours.hub.store.query(`SELECT count("${field}") FROM "${m}" WHERE "site" = '${site}'`))[0]
        ?.values[0]?.[1] ?? 0;
    expect(await count('demo-school', 'heartbeat', 'uptime_s')).toBe(2);
    expect(await count('other-school', 'heartbeat', 'uptime_s')).toBe(2);

    const result = await ours.hub.safeguarding.retention?.run(now);
    expect(result?.measurementsCleared.sort()).toEqual(['compliance_lesson', 'heartbeat']);

    // Ours: past the periods gone, the rest kept (the run did delete something, so the check below can fail).
    expect(await count('demo-school', 'heartbeat', 'uptime_s')).toBe(1);
    expect(await count('demo-school', 'compliance_lesson', 'ratio')).toBe(1);
    // Theirs: every point still there.
    expect(await count('other-school', 'heartbeat', 'uptime_s')).toBe(2);
    expect(await count('other-school', 'compliance_lesson', 'ratio')).toBe(2);
    expect(await count('other-school', 'compliance_day', 'ratio')).toBe(1);
  });
});
