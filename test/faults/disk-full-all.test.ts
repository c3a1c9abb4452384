/**
 * One SD card full (R1): the whole data directory (the hub's database, the broker's, influxd's data, the config and
 * school files) on one small tmpfs that a filler file then fills while devices stream events and reports. Nothing
 * acknowledged may be lost, before or after a restart, and the devices' chains stay whole. The hub's own log goes
 * elsewhere, as on a Pi (journald): with its stdout on the full disk too, the hub stopped answering (seen once).
 * Needs root for `mount -t tmpfs`; elsewhere the test is skipped and says so.
 */
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillDisk, mountTmpfs, unmount } from '../support/full-disk.js';
import type { ChainReport } from '../support/hub-entry.js';
import { HubProcess } from '../support/hub-process.js';
import { publishFaultTable, settle, startDevices, stream, verify } from './fault-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('faults: the whole data directory on a full disk', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'phones-away-fullcard-'));
  const logDir = mkdtempSync(join(tmpdir(), 'phones-away-fullcard-log-'));
  let mountError: string | null = 'not tried';
  let hub: HubProcess | undefined;

  beforeAll(async () => {
    mountError = mountTmpfs(dataDir, '160m');
    if (!mountError) hub = await HubProcess.start({ dataDir, logFile: join(logDir, 'hub-process.log') });
  }, 120_000);

  afterAll(async () => {
    await hub?.dispose();
    if (!mountError) unmount(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
    publishFaultTable('disk-full-all', 'the whole data directory on a full disk');
  });

  it('R1, R3, R7: every database full at once; after space returns and a restart, all stored exactly once', async (ctx) => {
    if (!hub) return ctx.skip(`cannot mount a tmpfs here (${mountError})`);
    const devices = await startDevices(hub, 'fullcard', 4, { chained: true });
    let filler = '';
    await stream(devices, 120, 10, async () => {
      filler = fillDisk(dataDir);
    });
    await sleep(1_500);
    // Refusing writes, not crashed: the hub still answers while the card is full.
    const during = await hub.stats();
    expect(during.storage.refusing).toBe(true);
    const unconfirmed = devices.reduce((n, d) => n + d.pending.size, 0);
    unlinkSync(filler);
    await settle(devices, 90_000);
    const v = await verify(
      hub,
      devices,
      'whole data directory full, then space returns',
      `${unconfirmed} held on devices; the hub refused writes while full`,
    );
    expect(v.missingInIncidents).toEqual([]);
    expect(v.duplicatedInIncidents).toEqual([]);
    expect(v.missingInInflux).toEqual([]);
    await hub.restart();
    for (const d of devices) d.lockerEvent('locked', 0);
    await settle(devices, 90_000);
    const chain = await hub.request<ChainReport>({ cmd: 'chain' });
    const restarted = await verify(
      hub,
      devices,
      'whole data directory full, space returns, then a restart',
      'read again from disk',
    );
    await Promise.all(devices.map((d) => d.stop()));
    expect(restarted.missingInIncidents).toEqual([]);
    expect(restarted.duplicatedInIncidents).toEqual([]);
    expect(restarted.missingInInflux).toEqual([]);
    expect(chain).toEqual({ gaps: 0, breaks: 0, open: 0 });
  }, 300_000);
});
