/**
 * Files that must survive a power cut whole: written beside their name, synced, renamed over it, and the directory
 * synced, so after the cut the name holds the old contents or the new, never an empty or half-written file. A file
 * written without this stays only in the page cache for up to half a minute, while any program's fsync on the same
 * disk commits ext4's journal, and with it the file's name and size but not its bytes: an empty file under the new
 * name (test/faults/first-boot-power-cut.test.ts, update-power-cut.test.ts show what that loses).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` durably (see above). The file is always new, so `mode` applies, less the process's umask
 * (the hub's is 077): a leftover temporary file of the same name is removed first, never reused with its own mode.
 */
export function writeFileDurably(path: string, data: string | Uint8Array, mode = 0o640): void {
  const tmp = writeTempSynced(path, data, mode);
  renameSync(tmp, path);
  // The rename itself is durable only once the directory entry is on disk.
  fsyncPath(dirname(path));
}

/**
 * `data` in a new temporary file beside `path`, synced; its name is returned. A leftover of the same name (an earlier
 * process of this pid) is removed first, and the file is removed again if the write fails (a full disk).
 */
function writeTempSynced(path: string, data: string | Uint8Array, mode: number): string {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  rmSync(tmp, { force: true });
  removeLeftoverTemps(dirname(path));
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
  return tmp;
}

/**
 * As writeFileDurably, but only where nothing is at `path` yet (EEXIST otherwise, as a 'wx' write): for a file that
 * must never replace another, such as a release signing key. Linked into place, which fails on an existing name,
 * rather than renamed over it.
 */
export function createFileDurably(path: string, data: string | Uint8Array, mode = 0o640): void {
  const tmp = writeTempSynced(path, data, mode);
  try {
    linkSync(tmp, path);
  } finally {
    unlinkSync(tmp);
  }
  fsyncPath(dirname(path));
}

/** As writeFileDurably, without blocking the event loop (the device program). */
export async function writeDurably(path: string, data: string | Uint8Array, mode = 0o640): Promise<void> {
  // A name of its own per call: two writes of one file may overlap here, where the synchronous one cannot.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  removeLeftoverTemps(dirname(path));
  writing.add(tmp);
  try {
    await writeSynced(tmp, data, mode);
    await rename(tmp, path);
  } catch (error) {
    // A full disk leaves a half-written temporary file: removed, so it holds no space a retry needs.
    await unlink(tmp).catch(() => undefined);
    throw error;
  } finally {
    writing.delete(tmp);
  }
  await syncDir(dirname(path));
}

/** This process's temporary files being written now (asynchronous writes may overlap): never leftovers. */
const writing = new Set<string>();

/** The names writeFileDurably and writeDurably give their temporary files: `.<name>.<pid>[.<8 hex>].tmp`. */
const TEMP_NAME = /^\..+\.(\d+)(?:\.[0-9a-f]{8})?\.tmp$/;

/**
 * Removes the temporary files of durable writes into `dir` that no running writer owns: left by a crash, a kill or a
 * power cut between write and rename. Nothing else would ever remove them, and one may be a whole release bundle on
 * a small card. A file is a leftover when the process its name gives is not running, or when it is older than this
 * boot (after a power cut a pid is soon another process's). Called before each durable write into the directory.
 */
export function removeLeftoverTemps(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed; // no directory yet: nothing left in it
  }
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match) continue;
    const file = join(dir, name);
    if (writing.has(file)) continue;
    const pid = Number(match[1]);
    try {
      // This process's own names not being written now are an earlier process's of the same pid (no sync write is
      // ever in progress while this runs: they block).
      if (pid !== process.pid && processRunning(pid) && !olderThanBoot(file)) continue;
      rmSync(file, { force: true });
      removed.push(name);
    } catch {
      // Gone meanwhile, or not ours to remove: the write itself goes on.
    }
  }
  return removed;
}

function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Boot time in ms since the epoch (Linux: /proc/stat btime); undefined elsewhere, where no file counts as older. */
let bootTime: number | undefined | null = null;
function olderThanBoot(file: string): boolean {
  if (bootTime === null) {
    try {
      const line = readFileSync('/proc/stat', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('btime '));
      bootTime = line ? Number(line.slice(6)) * 1000 : undefined;
    } catch {
      bootTime = undefined;
    }
  }
  return bootTime !== undefined && statSync(file).mtimeMs < bootTime;
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
