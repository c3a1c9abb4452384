/**
 * A power cut just after the daily backup (D3, D2): the newest archive has been written, renamed to its name, and the
 * rotation has deleted the older one, each step audited in an fsynced batch. The hub's own fsyncs commit ext4's
 * journal, and with it the rename and the delete; an archive whose bytes were still in the page cache would then be
 * an empty file under the newest name, with the older archive gone: no backup at all. hub/backup/online-backup.ts
 * syncs the archive before its rename and the directory after it, so whatever name survives the cut is a whole
 * archive. The disk is ext4 on a loop device (test/support/crash-disk.ts), its image copied at the cut. Needs root
 * for losetup and mount; elsewhere that test is skipped and says why.
 *
 * And a hub killed in the middle of a backup: its staging copy (a whole copy of the databases) and half-written
 * archive must not stay in the backup directory for ever, one more each such night, until the disk is full.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBackup } from '../../hub/backup/backup.js';
import { PARTIAL_SUFFIX, STAGING_PREFIX } from '../../hub/backup/online-backup.js';
import { CrashDisk } from '../support/crash-disk.js';
import { waitFor } from '../support/hub-fixture.js';
import { HubProcess } from '../support/hub-process.js';
import { settle, startDevices, stream } from './fault-support.js';

const DAY = 86_400_000;

describe('faults: a backup cut short, or followed by a power cut', () => {
  let disk: CrashDisk | undefined;
  let hub: HubProcess | undefined;

  let killed: HubProcess | undefined;

  afterAll(async () => {
    await hub?.dispose();
    disk?.dispose();
    await killed?.dispose();
    if (killed) rmSync(killed.dataDir, { recursive: true, force: true });
  });

  it('D3, D2: a power cut right after a backup and its rotation leaves a whole archive under the newest name', async (ctx) => {
    const made = CrashDisk.create(256);
    if (typeof made === 'string') return ctx.skip(`cannot make a loop disk here (${made})`);
    disk = made;
    const backups = join(made.dir, 'backups');
    // runAt late in the day, so the schedule does not start a run of its own at most times of day (if it does, the
    // 'backup' request waits for it).
    const running = await HubProcess.start({
      dataDir: made.dir,
      config: { backup: { dir: backups, keep: 1, runAt: '23:59' } },
    });
    hub = running;
    // Something worth backing up: events and reports from a few devices.
    const devices = await startDevices(running, 'backupcut', 3, { chained: true });
    await stream(devices, 60, 10);
    await settle(devices);
    await Promise.all(devices.map((d) => d.stop()));

    const first = await running.request<{ file: string }>({ cmd: 'backup', at: Date.now() }, 120_000);
    made.settle(); // yesterday's archive, long on the disk
    const second = await running.request<{ file: string }>({ cmd: 'backup', at: Date.now() + DAY }, 120_000);
    expect(second.file).not.toBe(first.file);
    expect(readdirSync(backups).filter((f) => f.endsWith('.tar.gz'))).toEqual([second.file]);

    // The power goes at once: nothing the kernel still holds reaches the disk.
    await running.request({ cmd: 'influxd', signal: 'SIGKILL' });
    await running.kill('SIGKILL');
    made.powerCut();

    const kept = readdirSync(backups).filter((f) => f.endsWith('.tar.gz'));
    const sizes = kept.map((f) => `${f}: ${statSync(join(backups, f)).size} bytes`).join(', ');
    // The rotation was committed (its audit entry was fsynced), so only the newest archive is there ...
    expect(kept, sizes).toEqual([second.file]);
    // ... and it must be whole: it extracts, and its manifest names the hub's database.
    const staged = await readBackup(join(backups, second.file)).catch((error: Error) => {
      throw new Error(`the newest archive after the cut is not whole (${sizes}): ${error.message}`);
    });
    try {
      expect(staged.manifest.dataDirEntries, sizes).toContain('hub-db');
      expect(staged.manifest.influx).toBe('portable');
    } finally {
      staged.dispose();
    }
  }, 300_000);

  it('D3: a hub killed in the middle of a backup leaves nothing of it behind once it has started again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'phones-away-backup-kill-'));
    const backups = join(dataDir, 'backups');
    const running = await HubProcess.start({
      dataDir,
      config: { backup: { dir: backups, keep: 2, runAt: '23:59' } },
    });
    killed = running;
    const influxdPid = running.ready?.influxdPid;
    if (!influxdPid) throw new Error('no private influxd to hold the backup at');
    // influxd paused: the backup's `influxd backup` waits on it, with the staging copy of the databases made.
    process.kill(influxdPid, 'SIGSTOP');
    const taking = running.request({ cmd: 'backup', at: Date.now() }, 120_000).catch(() => 'hub gone');
    const staging = await waitFor(
      () => readdirSync(backups).find((f) => f.startsWith(STAGING_PREFIX)),
      'the backup to stage its copy',
      60_000,
    );
    await running.kill('SIGKILL');
    expect(await taking).toBe('hub gone');
    // Everything of the old run goes, as in a power cut: influxd and the backup client the hub had started.
    process.kill(influxdPid, 'SIGKILL');
    spawnSync('pkill', ['-9', '-f', backups]);
    // A half-written archive from another such night, and files of the same shapes that are not a backup's.
    writeFileSync(join(backups, `phones-away-20261201T020000Z.tar.gz${PARTIAL_SUFFIX}`), 'half');
    const strangers = ['notes.partial', `${STAGING_PREFIX}keep-me`, 'phones-away-old.tar.gz'];
    for (const name of strangers) writeFileSync(join(backups, name), 'not a backup of this hub');

    await running.restart();
    expect(readdirSync(backups).sort()).toEqual([...strangers].sort());
    const log = readFileSync(join(dataDir, 'hub-process.log'), 'utf8');
    expect(log).toContain(staging);
    expect(log).toContain('removed what an interrupted backup left');
    // And the next backup is taken as usual.
    const next = await running.request<{ file: string }>({ cmd: 'backup', at: Date.now() }, 120_000);
    expect(readdirSync(backups)).toContain(next.file);
  }, 300_000);
});
