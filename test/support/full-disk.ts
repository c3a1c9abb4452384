/**
 * A real full disk for fault tests: a small tmpfs mounted over a directory, and a filler file written until ENOSPC.
 * Mounting needs root (CI runs as root); where it fails the caller skips and says why.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Mounts a tmpfs of `size` (e.g. '16m') at `dir`; null when mounted, else why not. */
export function mountTmpfs(dir: string, size: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return (error as Error).message.split('\n')[0] ?? 'mount failed';
  }
}

export function unmount(dir: string): void {
  execFileSync('umount', ['-l', dir]);
}

/** Writes zeros into `dir` until ENOSPC; returns the filler's path (unlink it to give the space back). */
export function fillDisk(dir: string): string {
  const file = join(dir, 'filler.bin');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  // What is left is less than a chunk: fill it to the last byte.
  const fd2 = openSync(file, 'a');
  try {
    for (;;) writeSync(fd2, Buffer.alloc(512));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd2);
  }
  return file;
}
