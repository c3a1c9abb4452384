/**
 * LevelDB after a failed write. When appending a record to its log fails (ENOSPC, say), part of the record may be in
 * the file already, but LevelDB's log writer carries on as if it were whole: every later record lands where the
 * reader does not expect one, and at the next open the reader drops them all as corruption. So writes that succeeded
 * after the failure, fsynced and acknowledged, are lost at the next restart. LevelDB itself stops writing only after
 * a failed fsync, not after a failed append. (Found by the disk-full fault test: eight reports acknowledged once the
 * disk had room again were gone after a restart, and with them the chain links that made a false "events missing".)
 *
 * So from a failed write until the database has been reopened, writes are refused, with the failure as the reason.
 * Opening replays the log up to the torn record, writes what it holds to a table and starts a new log. The reopen
 * waits until the disk has room for that table (twice the log's size and a megabyte), retried with a backoff, so that
 * while the disk is still full reads keep working against the open database.
 */
import { readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';

export interface LogFault {
  /** Writes are refused until the database is reopened. */
  refusing: boolean;
  /** Failed writes that started a refusal, and reopens that ended one, since start. */
  faults: number;
  recoveries: number;
  lastError: string | null;
}

/** A write refused because an earlier write failed and the database has not been reopened yet. */
export class StorageFaultError extends Error {
  readonly code = 'STORAGE_FAULT';
}

/**
 * Errors from LevelDB's own I/O: the log may hold part of the failed write. Others (a closed database, a value that
 * cannot be encoded) are refused before anything reaches the log.
 */
function fromStorage(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === 'LEVEL_IO_ERROR' || code === 'LEVEL_CORRUPTION') return true;
  return typeof message === 'string' && /^(IO error|Corruption)/.test(message);
}

/** A write that failed or was refused because the disk could not take it: nothing of it was stored. */
export function isStorageFault(error: unknown): boolean {
  return error instanceof StorageFaultError || fromStorage(error);
}

/**
 * A new handle on a LevelDB's files, the old one closed first: opening replays the log up to a failed write's torn
 * record and starts a new log. What belonged to the old handle (sublevels, native batches) must be made again.
 */
export async function reopenLevel<K, V>(
  old: Level<K, V>,
  options: ConstructorParameters<typeof Level<K, V>>[1] = {},
): Promise<Level<K, V>> {
  if (old.status === 'open') await old.close();
  const db = new Level<K, V>(old.location, options);
  await db.open();
  return db;
}

const MIN_RETRY_MS = 200;
const MAX_RETRY_MS = 10_000;
const HEADROOM_BYTES = 1024 * 1024;

export class LogFaultGuard {
  readonly state: LogFault = { refusing: false, faults: 0, recoveries: 0, lastError: null };
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private stopped = false;

  /** `changed`: told when writes start being refused and when they are accepted again (for the hub's log). */
  constructor(
    private readonly dir: string,
    private readonly reopen: () => Promise<void>,
    private readonly changed: (state: Readonly<LogFault>) => void = () => {},
  ) {}

  get refusing(): boolean {
    return this.state.refusing;
  }

  /** Throws while writes are refused. */
  check(): void {
    if (this.state.refusing)
      throw new StorageFaultError(
        `storage refuses writes until it is reopened, after a failed write: ${this.state.lastError}`,
      );
  }

  /** Runs one write to the database unless writes are refused; a storage failure starts a refusal. */
  async write<T>(op: () => Promise<T>): Promise<T> {
    this.check();
    try {
      return await op();
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.attempt?.catch(() => undefined);
  }

  private failed(error: unknown): void {
    if (this.stopped || !fromStorage(error)) return;
    this.state.lastError = (error as Error).message;
    if (this.state.refusing) return;
    this.state.refusing = true;
    this.state.faults += 1;
    this.changed(this.state);
    this.retryIn(MIN_RETRY_MS);
  }

  private retryIn(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.attempt = this.tryReopen(ms);
    }, ms);
    this.timer.unref();
  }

  private async tryReopen(lastDelay: number): Promise<void> {
    if (this.stopped) return;
    try {
      if (await this.hasRoom()) {
        await this.reopen();
        this.state.refusing = false;
        this.state.recoveries += 1;
        this.changed(this.state);
        return;
      }
    } catch (error) {
      this.state.lastError = (error as Error).message;
    }
    this.retryIn(Math.min(MAX_RETRY_MS, lastDelay * 2));
  }

  /** Room for the table that opening writes from the log; unknown (no statfs) counts as room. */
  private async hasRoom(): Promise<boolean> {
    let free: number;
    try {
      const fs = await statfs(this.dir);
      free = fs.bavail * fs.bsize;
    } catch {
      return true;
    }
    let logBytes = 0;
    for (const name of await readdir(this.dir)) {
      if (name.endsWith('.log')) logBytes += (await stat(join(this.dir, name))).size;
    }
    return free >= 2 * logBytes + HEADROOM_BYTES;
  }
}
