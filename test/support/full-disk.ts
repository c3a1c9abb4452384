/**
 * A real full disk for fault tests: a small tmpfs mounted over a directory, and a filler file written until ENOSPC.
 * Mounting needs root (CI runs as root); where it fails the caller skips and says why.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

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

/**
 * Writes zeros into `dir` until ENOSPC, in ever smaller chunks down to one byte, so not even a page is left; returns
 * the filler's path (unlink it to give the space back).
 */
export function fillDisk(dir: string): string {
  const file = join(dir, 'filler.bin');
  const fd = openSync(file, 'w');
  try {
    for (const size of [64 * 1024, 4096, 1]) {
      const chunk = Buffer.alloc(size);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

/**
 * A tmpfs of `size` for one test file's tests: mounted before them at `dir`, unmounted and removed after.
 * `notMounted()` is why it could not be mounted (a test then skips and says so), or null.
 */
export function tmpfsForTests(
  prefix: string,
  size: string,
): { dir: string; notMounted: () => string | null } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const dir = join(root, 'disk');
  let mountError: string | null = 'not tried';
  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    mountError = mountTmpfs(dir, size);
  });
  afterAll(() => {
    if (!mountError) unmount(dir);
    rmSync(root, { recursive: true, force: true });
  });
  return { dir, notMounted: () => mountError };
}
