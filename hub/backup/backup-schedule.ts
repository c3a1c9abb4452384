/**
 * D3: the daily backup ("Has daily back-up of school data", seed 001), taken by the running hub at `runAt` in the
 * school's time zone, into `dir`, keeping the newest `keep` archives (D2: backups expire too). A run missed while the
 * hub was down happens at the next start. Each archive and each rotation is recorded in the audit log; progress of a
 * running backup is kept for the dashboard and the log. A failed run is logged and tried again at the next hourly
 * check; it never stops the hub.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BackupConfig } from '../../schemas/config.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { HubDb } from '../db/hub-db.js';
import { HubError } from '../errors.js';
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';
import { dailyRunDue } from '../policy/calendar.js';
import { DEFAULT_BACKUPS_KEPT } from '../retention/retention-defaults.js';
import { PARTIAL_SUFFIX, STAGING_PREFIX } from './online-backup.js';

/** Archive names the schedule writes, and the only files its rotation ever deletes. */
const ARCHIVE = /^phones-away-(\d{8}T\d{6}Z)\.tar\.gz$/;
const LAST_RUN = 'backup/last-run';
/** The six characters mkdtemp adds to a staging directory's prefix. */
const STAGING = /^[A-Za-z0-9]{6}$/;

export interface BackupArchive {
  file: string;
  bytes: number;
  /** From the name: when the backup started (ms). */
  at: number;
}

export interface BackupStatus {
  dir: string;
  keep: number;
  runAt: string;
  /** The latest progress line of a backup under way; null when none is running. */
  running: { startedAt: number; step: string } | null;
  lastRunAt: number | null;
  lastError: string | null;
  archives: BackupArchive[];
}

export interface BackupScheduleDeps {
  config: BackupConfig;
  timezone: string;
  /** Takes one backup into `out`, reporting progress. */
  take: (out: string, progress: (message: string) => void) => Promise<unknown>;
  db: HubDb;
  audit: AuditLog;
  now: () => number;
  log: Logger;
  intervalMs?: number;
}

const stamp = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
const fromStamp = (s: string) =>
  Date.parse(
    `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`,
  );

export class BackupSchedule implements HubExtension {
  readonly name = 'backup-schedule';
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<unknown> | null = null;
  private running: BackupStatus['running'] = null;
  private lastError: string | null = null;

  constructor(private readonly deps: BackupScheduleDeps) {}

  get keep(): number {
    return this.deps.config.keep ?? DEFAULT_BACKUPS_KEPT;
  }

  private get runAt(): string {
    return this.deps.config.runAt ?? '02:00';
  }

  async start(): Promise<void> {
    mkdirSync(this.deps.config.dir, { recursive: true, mode: 0o700 });
    this.removeLeftovers();
    const check = () => {
      this.tick(this.deps.now()).catch((error) =>
        this.deps.log.error({ err: error }, 'backup failed; will try again'),
      );
    };
    this.timer = setInterval(check, this.deps.intervalMs ?? 3_600_000);
    this.timer.unref();
    check();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.current?.catch(() => undefined);
  }

  async due(now: number): Promise<boolean> {
    const last = await this.deps.db.get<number>('meta', LAST_RUN);
    return dailyRunDue(now, this.runAt, this.deps.timezone, last, 'backup.runAt');
  }

  async tick(now: number): Promise<BackupArchive | null> {
    if (this.current || !(await this.due(now))) return null;
    return this.run(now);
  }

  /**
   * Takes a backup now, then rotates: the schedule's run (`by` unset) or an administrator's "back up now" (`by` is
   * their username, recorded in the audit entry). One at a time.
   */
  run(now: number, by?: string): Promise<BackupArchive> {
    if (this.current)
      return Promise.reject(
        new HubError('E_BACKUP_RUNNING', 'a backup is already running; wait for it to finish'),
      );
    const task = this.backup(now, by).finally(() => {
      this.current = null;
      this.running = null;
    });
    this.current = task;
    return task;
  }

  /**
   * An administrator's "back up now": refused at once while a backup runs; otherwise started, and its outcome logged,
   * audited and shown in status() like the daily run's.
   */
  startNow(now: number, by: string): void {
    if (this.current)
      throw new HubError('E_BACKUP_RUNNING', 'a backup is already running; wait for it to finish');
    this.run(now, by).catch((error) => this.deps.log.error({ err: error }, 'backup failed'));
  }

  private async backup(now: number, by: string | undefined): Promise<BackupArchive> {
    const { config, take, audit, log } = this.deps;
    const file = `phones-away-${stamp(now)}.tar.gz`;
    this.running = { startedAt: now, step: 'starting' };
    log.info({ file }, 'backup started');
    try {
      await take(join(config.dir, file), (step) => {
        if (this.running) this.running.step = step;
        log.info({ file, step }, 'backup progress');
      });
    } catch (error) {
      this.lastError = (error as Error).message.slice(0, 300);
      rmSync(join(config.dir, `${file}${PARTIAL_SUFFIX}`), { force: true });
      throw error;
    }
    this.lastError = null;
    const archive: BackupArchive = { file, bytes: statSync(join(config.dir, file)).size, at: now };
    // The run's mark and its audit entry in one batch: neither without the other.
    await audit.commit(
      [{ actor: by ?? 'system:backup', action: 'backup.created', target: 'backups', after: archive }],
      [{ type: 'put', sublevel: 'meta', key: LAST_RUN, value: now }],
    );
    const removed = this.rotate();
    if (removed.length > 0)
      await audit.record({
        actor: 'system:backup',
        action: 'backup.rotated',
        target: 'backups',
        after: { removed, kept: this.keep },
      });
    log.info({ file, bytes: archive.bytes, removed: removed.length }, 'backup done');
    return archive;
  }

  /**
   * What a backup cut short by a crash or a power cut left in `dir`: its staging copy (a whole copy of the hub's
   * databases) and its half-written archive. Left there, each such night would keep another copy until the disk was
   * full. Only names a backup gives its working files are touched; no backup runs yet when this is called.
   */
  private removeLeftovers(): void {
    const dir = this.deps.config.dir;
    for (const name of readdirSync(dir)) {
      const staging = name.startsWith(STAGING_PREFIX) && STAGING.test(name.slice(STAGING_PREFIX.length));
      const partial = name.endsWith(PARTIAL_SUFFIX) && ARCHIVE.test(name.slice(0, -PARTIAL_SUFFIX.length));
      if (!staging && !partial) continue;
      rmSync(join(dir, name), { recursive: true, force: true });
      this.deps.log.warn({ file: name }, 'removed what an interrupted backup left');
    }
  }

  /** Archives in `dir`, newest first. */
  archives(): BackupArchive[] {
    return readdirSync(this.deps.config.dir)
      .flatMap((file) => {
        const match = ARCHIVE.exec(file);
        return match?.[1]
          ? [{ file, bytes: statSync(join(this.deps.config.dir, file)).size, at: fromStamp(match[1]) }]
          : [];
      })
      .sort((a, b) => b.at - a.at);
  }

  /** Deletes all but the newest `keep` archives; only files named as this schedule names them. */
  private rotate(): string[] {
    const old = this.archives().slice(this.keep);
    for (const a of old) rmSync(join(this.deps.config.dir, a.file), { force: true });
    return old.map((a) => a.file);
  }

  async status(): Promise<BackupStatus> {
    return {
      dir: this.deps.config.dir,
      keep: this.keep,
      runAt: this.runAt,
      running: this.running ? { ...this.running } : null,
      lastRunAt: (await this.deps.db.get<number>('meta', LAST_RUN)) ?? null,
      lastError: this.lastError,
      archives: this.archives(),
    };
  }
}
