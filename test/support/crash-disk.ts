/**
 * A disk that can lose power, for fault tests: ext4 on a loop device over an image file. `powerCut()` copies the image
 * as the block device holds it at that instant (what the disk would keep: fsynced writes, and whatever the kernel
 * happened to write back), then mounts the copy in its place, so ext4 replays its journal as it would at the next boot.
 * Data still in the page cache, written but never synced, is gone, as after a real power cut.
 *
 * Mounted with `commit=600` so ext4 does not commit its journal (and, in ordered mode, write back the data under it)
 * every 5 s by itself: only the programs' own fsyncs put data on the disk during a test, as on a Pi whose writeback
 * has not yet run. Needs root (losetup, mount); where it fails the caller skips and says why.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();

export class CrashDisk {
  private device: string | null = null;
  private image: string;
  private crashes = 0;
  /** The image a cut() kept, until boot() mounts it. */
  private kept: string | null = null;

  private constructor(
    private readonly root: string,
    /** Where the disk is mounted: a hub's data directory goes here. */
    readonly dir: string,
  ) {
    this.image = join(root, 'disk.img');
  }

  /** A fresh ext4 of `sizeMb` mounted at `dir`; or why it could not be made. */
  static create(sizeMb: number): CrashDisk | string {
    const root = mkdtempSync(join(tmpdir(), 'phones-away-crashdisk-'));
    const disk = new CrashDisk(root, join(root, 'mnt'));
    try {
      mkdirSync(disk.dir);
      run('truncate', ['-s', `${sizeMb}M`, disk.image]);
      run('mkfs.ext4', ['-q', '-F', disk.image]);
      disk.attach();
      return disk;
    } catch (error) {
      disk.dispose();
      return (error as Error).message.split('\n')[0] ?? 'could not make a loop disk';
    }
  }

  private attach(): void {
    this.device = run('losetup', ['--find', '--show', this.image]);
    run('mount', ['-o', 'commit=600', this.device, this.dir]);
  }

  private detach(): void {
    try {
      run('umount', [this.dir]);
    } catch {
      run('umount', ['-l', this.dir]);
    }
    if (this.device) run('losetup', ['-d', this.device]);
    this.device = null;
  }

  /** Everything written so far made durable, as on a hub that has been running a while (`syncfs`). */
  settle(): void {
    run('sync', ['-f', this.dir]);
  }

  /**
   * Every write to the disk from now on waits (`fsfreeze`), as on an SD card that has stalled: what was written before
   * is on the block device, a cut() now keeps exactly that. thaw() lets the waiting writes go on; boot() thaws first.
   */
  freeze(): void {
    run('fsfreeze', ['--freeze', this.dir]);
    this.frozen = true;
  }

  thaw(): void {
    if (!this.frozen) return;
    run('fsfreeze', ['--unfreeze', this.dir]);
    this.frozen = false;
  }

  private frozen = false;

  /**
   * The power goes: the disk keeps what its block device holds now, and boots again from it. Stop every writer to
   * `dir` first (kill -9): a process that writes after the copy writes to a disk that no longer counts.
   */
  powerCut(): void {
    this.cut();
    this.boot();
  }

  /**
   * The instant of the cut: what the block device holds now is what the disk keeps. Whatever writes after this (a
   * program being shut down in the test's own process) writes to the old disk, which boot() throws away.
   */
  cut(): void {
    this.kept = join(this.root, `crash-${++this.crashes}.img`);
    copyFileSync(this.image, this.kept);
  }

  /** Boots from what the last cut() kept, mounted at `dir` in place of the old disk. */
  boot(): void {
    if (!this.kept) throw new Error('boot() without a cut()');
    this.thaw(); // a frozen filesystem cannot be unmounted
    this.detach();
    rmSync(this.image, { force: true });
    this.image = this.kept;
    this.kept = null;
    this.attach();
  }

  dispose(): void {
    try {
      this.thaw();
      if (this.device) this.detach();
    } finally {
      rmSync(this.root, { recursive: true, force: true });
    }
  }
}
