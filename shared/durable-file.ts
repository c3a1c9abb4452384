/**
 * Files that must survive a power cut whole: written beside their name, synced, renamed over it, and the directory
 * synced, so after the cut the name holds the old contents or the new, never an empty or half-written file. A file
 * written without this stays only in the page cache for up to half a minute, while any program's fsync on the same
 * disk commits ext4's journal, and with it the file's name and size but not its bytes: an empty file under the new
 * name (test/faults/first-boot-power-cut.test.ts, update-power-cut.test.ts show what that loses).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` durably (see above). The file is always new, so `mode` applies, less the process's umask
 * (the hub's is 077): a leftover temporary file of the same name is removed first, never reused with its own mode.
 */
export function writeFileDurably(path: string, data: string | Uint8Array, mode = 0o640): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeFileSync(fd, data); // all of it (writeSync may write part)
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(tmp);
    throw error;
  }
  closeSync(fd);
  renameSync(tmp, path);
  // The rename itself is durable only once the directory entry is on disk.
  fsyncPath(dirname(path));
}

/** As writeFileDurably, without blocking the event loop (the device program). */
export async function writeDurably(path: string, data: string | Uint8Array, mode = 0o640): Promise<void> {
  // A name of its own per call: two writes of one file may overlap here, where the synchronous one cannot.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeSynced(tmp, data, mode);
    await rename(tmp, path);
  } catch (error) {
    // A full disk leaves a half-written temporary file: removed, so it holds no space a retry needs.
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await syncDir(dirname(path));
}

/**
 * Writes a new file and syncs its bytes (not its name: sync the directory once its entries are all made). Whatever
 * was at `path` is removed first, so `mode` applies, less the umask.
 */
export async function writeSynced(path: string, data: string | Uint8Array, mode = 0o640): Promise<void> {
  await rm(path, { force: true });
  const fh = await open(path, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a file, or of a directory (its entries: a file created or renamed into it). */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * fsync of a directory, so the entries made in it (a file created, renamed in or out) are on disk. Filesystems that
 * cannot sync a directory say so with one of these codes; there the rename is as durable as that filesystem makes it.
 */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw error;
  } finally {
    await fh.close();
  }
}
