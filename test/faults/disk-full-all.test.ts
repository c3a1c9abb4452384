/**
 * One SD card full (R1): the whole data directory (the hub's database, the broker's, influxd's data, the config and
 * school files) on one small tmpfs that a filler file then fills while devices stream events and reports. Nothing
 * acknowledged may be lost, before or after a restart, and the devices' chains stay whole; influxd, which stays failed
 * after a full disk until restarted, is started again by the hub once there is room (D5). The hub's own log is on the
 * full disk too (its stdout is a file in the data directory): lines are dropped and counted, and the hub answers on.
 * Needs root for `mount -t tmpfs`; elsewhere the test is skipped and says so.
 */
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillDisk, mountTmpfs, unmount } from '../support/full-disk.js';
import { HubProcess } from '../support/hub-process.js';
import {
  expectExactlyOnce,
  expectWholeAfterRestart,
  publishFaultTable,
  settle,
  startDevices,
  stream,
  verify,
  waitForStats,
} from './fault-support.js';

describe('faults: the whole data directory on a full disk', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'phones-away-fullcard-'));
  let mountError: string | null = 'not tried';
  let hub: HubProcess | undefined;

  beforeAll(async () => {
    mountError = mountTmpfs(dataDir, '160m');
    if (!mountError) hub = await HubProcess.start({ dataDir });
  }, 120_000);

  afterAll(async () => {
    await hub?.dispose();
    if (!mountError) unmount(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
    publishFaultTable('disk-full-all', 'the whole data directory on a full disk');
  });

  it('R1, R3, R7, D5: every database full at once; after space returns and a restart, all stored exactly once', async (ctx) => {
    if (!hub) return ctx.skip(`cannot mount a tmpfs here (${mountError})`);
    const running = hub;
    const devices = await startDevices(running, 'fullcard', 4, { chained: true });
    // A first event each, delivered: influxd has its shard, so what fails below is its WAL, which it does not get
    // over by itself (a failed shard creation it does). Then influxd is held back while 400 more arrive, so the outbox
    // holds more than the last page of influxd's WAL file can take when the card fills: influxd meets the full disk.
    for (const d of devices) d.lockerEvent('locked', 0);
    await settle(devices);
    await running.request({ cmd: 'drain', timeoutMs: 30_000 }, 40_000);
    await running.request({ cmd: 'influxd', signal: 'SIGSTOP' });
    for (let i = 0; i < 100; i++) for (const d of devices) d.lockerEvent('door-opened', i % 30);
    await settle(devices);
    let filler = '';
    await stream(devices, 120, 10, async () => {
      filler = fillDisk(dataDir);
      await running.request({ cmd: 'influxd', signal: 'SIGCONT' });
    });
    // Refusing writes, not crashed: the hub still answers while the card is full, and so does influxd's supervisor.
    const during = await waitForStats(
      running,
      (s) => s.storage.refusing && s.influxd?.pending === 'disk full',
      'the hub refusing writes and influxd waiting for room',
      30_000,
    );
    expect(during.influxd?.restarts).toBe(0); // not restarted into a full disk
    expect(during.outboxLastError).toMatch(/error writing WAL entry.*no space left on device/);
    const unconfirmed = devices.reduce((n, d) => n + d.pending.size, 0);
    unlinkSync(filler);
    await settle(devices, 90_000);
    const v = await verify(
      hub,
      devices,
      'whole data directory full, then space returns',
      `${unconfirmed} held on devices; the hub refused writes while full; influxd failed its WAL and was started again once there was room; ${(await running.stats()).logLinesDropped} of the hub's log lines dropped (its log is on the same disk)`,
    );
    expectExactlyOnce(v);
    // Without its restart influxd answers "no space left on device" for good, and the drain above times out.
    const after = await running.stats();
    expect(after.influxd).toMatchObject({ restarts: 1, pending: null, lastRestart: { reason: 'disk full' } });
    await expectWholeAfterRestart(
      running,
      devices,
      'whole data directory full, space returns, then a restart',
      'read again from disk',
    );
  }, 300_000);
});
