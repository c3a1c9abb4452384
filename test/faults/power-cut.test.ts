/**
 * A power cut (R1, R3, R7): the hub, its influxd and the disk all stop at once, mid-stream, and the hub boots again
 * from what the disk kept (test/support/crash-disk.ts: ext4 on a loop device, its image copied at the cut, so every
 * write that was not synced is gone, unlike a kill -9, where the kernel still writes them). Every report and event
 * the hub acknowledged must be there after the boot, once, and the devices' chains whole. Needs root for losetup and
 * mount; elsewhere the test is skipped and says why.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CrashDisk } from '../support/crash-disk.js';
import type { ChainReport } from '../support/hub-entry.js';
import { HubProcess } from '../support/hub-process.js';
import {
  expectExactlyOnce,
  publishFaultTable,
  settle,
  startDevices,
  stream,
  verify,
} from './fault-support.js';

describe('faults: a power cut', () => {
  let disk: CrashDisk | undefined;
  let hub: HubProcess | undefined;

  afterAll(async () => {
    await hub?.dispose();
    disk?.dispose();
    publishFaultTable('power-cut', 'a power cut');
  });

  it('R1, R3, R7: power cut mid-stream: after the boot every acknowledged report and event is there, once; chains whole', async (ctx) => {
    const made = CrashDisk.create(256);
    if (typeof made === 'string') return ctx.skip(`cannot make a loop disk here (${made})`);
    disk = made;
    const running = await HubProcess.start({ dataDir: disk.dir });
    hub = running;
    const devices = await startDevices(running, 'powercut', 6, { chained: true });
    // A school's hub has been running a while when the power goes: its set-up is long on the disk.
    disk.settle();
    let acknowledgedAtCut = 0;
    await stream(devices, 240, 10, async () => {
      await running.request({ cmd: 'influxd', signal: 'SIGKILL' });
      await running.kill('SIGKILL');
      const sent = devices.reduce((n, d) => n + d.sent.lockers.length + d.sent.reports.length, 0);
      acknowledgedAtCut = sent - devices.reduce((n, d) => n + d.pending.size, 0);
      made.powerCut();
      await running.restart();
    });
    await settle(devices, 90_000);
    const chain = await running.request<ChainReport>({ cmd: 'chain' });
    const v = await verify(
      running,
      devices,
      'power cut mid-stream (hub, influxd and disk at once), then a boot from what the disk kept',
      `${acknowledgedAtCut} acknowledged before the cut; chain: ${chain.gaps} gaps, ${chain.breaks} breaks, ${chain.open} open`,
    );
    await Promise.all(devices.map((d) => d.stop()));
    expectExactlyOnce(v);
    expect(chain).toEqual({ gaps: 0, breaks: 0, open: 0 });
  }, 300_000);
});
