/**
 * influxd cannot start when the hub boots (R1, D5): as after a power cut that left its files broken, or any fault
 * of its own. Reports must be taken all the same. The hub used to give up its whole start after influxd's; now it
 * runs without it, keeps trying, and delivers the compliance records once influxd is up. influxd here is a wrapper
 * that dies at start until the test lets it run the real one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HubProcess } from '../support/hub-process.js';
import {
  expectExactlyOnce,
  publishFaultTable,
  settle,
  startDevices,
  stream,
  verify,
  waitForStats,
} from './fault-support.js';

describe('faults: influxd cannot start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phones-away-noinflux-'));
  const allow = join(dir, 'allow');
  const wrapper = join(dir, 'influxd');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nif [ -f ${allow} ]; then exec /usr/bin/influxd "$@"; fi\necho "run: open server: broken on purpose" >&2\nexit 3\n`,
    { mode: 0o755 },
  );
  let hub: HubProcess | undefined;

  afterAll(async () => {
    await hub?.dispose();
    rmSync(dir, { recursive: true, force: true });
    publishFaultTable('influxd-start-failed', 'influxd cannot start');
  });

  it('R1, D5: the hub starts without it, takes every report, and delivers the records once influxd is back', async () => {
    const before = process.env.PHONES_AWAY_INFLUXD;
    process.env.PHONES_AWAY_INFLUXD = wrapper; // the hub process inherits it
    try {
      hub = await HubProcess.start();
    } finally {
      if (before === undefined) delete process.env.PHONES_AWAY_INFLUXD;
      else process.env.PHONES_AWAY_INFLUXD = before;
    }
    const running = hub;
    const down = await running.stats();
    expect(down.influxd).toMatchObject({ restarts: 0, pending: 'start failed' });

    const devices = await startDevices(running, 'noinflux', 3);
    await stream(devices, 60, 10);
    await settle(devices); // every report acknowledged, every event stored, with no influxd
    const stored = await running.stats();
    expect(stored.ingest.reportsStored).toBe(devices.reduce((n, d) => n + d.sent.reports.length, 0));
    expect(stored.influxd?.pending).toBe('start failed');

    writeFileSync(allow, '');
    await waitForStats(running, (s) => s.influxd?.restarts === 1 && s.influxd.pending === null, 'influxd');
    const v = await verify(
      running,
      devices,
      'influxd dies at every start, then starts',
      'reports acknowledged while it could not start; records delivered once it did',
    );
    await Promise.all(devices.map((d) => d.stop()));
    expectExactlyOnce(v);
  }, 180_000);
});
