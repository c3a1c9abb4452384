/**
 * The nightly backup on a nearly full disk (D3, R1): the backups kept beside the hub's data on its one SD card, with
 * less room left than a copy of the data. The backup must not start: its staging copy would fill the disk, and while
 * it is full the hub's database cannot store a report. It is refused with the reason in plain words (the dashboard
 * shows it), nothing is written, and reports arriving meanwhile are stored with no write failing. The whole data
 * directory is a real tmpfs. Needs root for `mount -t tmpfs`; elsewhere the test is skipped and says so.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountTmpfs, unmount } from '../support/full-disk.js';
import { HubProcess } from '../support/hub-process.js';
import { settle, startDevices, stream } from './fault-support.js';

describe('faults: a backup with too little room on the hub disk', () => {
  // The disk: a tmpfs holding the data directory (and, beside it, the filler that takes its room).
  const disk = mkdtempSync(join(tmpdir(), 'phones-away-backup-space-'));
  const dataDir = join(disk, 'data');
  const backups = join(dataDir, 'backups');
  let mountError: string | null = 'not tried';
  let hub: HubProcess | undefined;

  beforeAll(async () => {
    mountError = mountTmpfs(disk, '128m');
    if (!mountError) mkdirSync(dataDir);
    if (!mountError)
      hub = await HubProcess.start({
        dataDir,
        config: { backup: { dir: backups, keep: 2, runAt: '23:59' } },
      });
  });

  afterAll(async () => {
    await hub?.dispose();
    if (!mountError) unmount(disk);
    rmSync(disk, { recursive: true, force: true });
  });

  it('D3, R1: refused before it writes anything, in plain words; reports meanwhile stored with no write failing', async (ctx) => {
    if (!hub) return ctx.skip(`cannot mount a tmpfs here (${mountError})`);
    const running = hub;
    const devices = await startDevices(running, 'space', 3, { chained: true });
    await stream(devices, 300, 2);
    await settle(devices);
    // Leave less free than the data takes on the disk (du: allocated, as influxd's series files are sparse).
    const dataBytes = Number(execFileSync('du', ['-s', '-B1', dataDir], { encoding: 'utf8' }).split('\t')[0]);
    const { bavail, bsize } = statfsSync(dataDir);
    writeFileSync(
      join(disk, 'filler.bin'),
      Buffer.alloc(Math.max(0, bavail * bsize - Math.floor(dataBytes / 2))),
    );

    let refusal = '';
    await stream(devices, 90, 10, async () => {
      refusal = await running
        .request({ cmd: 'backup', at: Date.now() }, 120_000)
        .then(() => 'the backup was taken')
        .catch((error: Error) => error.message);
    });
    await settle(devices);

    expect(refusal).toMatch(
      /^(BackupError: )?not enough free space for a backup in .*backups: about [\d.]+ MB needed \(.*\), [\d.]+ MB free$/,
    );
    expect(readdirSync(backups), 'written to the backup directory').toEqual([]);
    const stats = await running.stats();
    expect(stats.storage, "the hub's database never met a full disk").toMatchObject({
      refusing: false,
      faults: 0,
    });
    expect(stats.ingest.reportsStored, 'reports stored').toBeGreaterThanOrEqual(
      devices.reduce((n, d) => n + d.sent.reports.length, 0),
    );
    await Promise.all(devices.map((d) => d.stop()));
  }, 300_000);
});
