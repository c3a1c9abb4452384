/**
 * Keeps the hub's private influxd running (D5, R1). Two things stop it for good without a supervisor, both seen:
 *
 * - It exits (a crash, the kernel's OOM killer on a small Pi): until the hub itself restarted, every compliance point
 *   waited in the outbox.
 * - Its disk filled. influxd 1.6 then answers every write with HTTP 500 "engine: error writing WAL entry: … no space
 *   left on device", and keeps doing so after the space is back, until it is restarted (bench/RESULTS.md, disk-full).
 *
 * So it is started again after an unexpected exit (after 1 s, doubling to 60 s while starts keep failing) and, after
 * a write failed for lack of disk, once its disk has room again. A restart asks for the same ports, so the store's
 * address normally stays; `url` is always the current one. Points wait in the outbox meanwhile; none is lost.
 * A hung influxd (SIGSTOP) is left alone: it answers again when resumed, and a restart would not make it faster.
 */
import { statfs } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger, silentLogger } from '../log.js';
import { type InfluxdHandle, type InfluxdOptions, startInfluxd } from './influxd-process.js';

export interface InfluxdSupervisorOptions extends InfluxdOptions {
  /** First wait before starting again after an unexpected exit; doubles per failed start. Default 1 s. */
  restartDelayMs?: number;
  /** Longest such wait. Default 60 s. */
  maxRestartDelayMs?: number;
  /** Free bytes on influxd's disk before a restart after a storage fault. Default 32 MB (three WAL segments). */
  roomBytes?: number;
  /** How often the disk is looked at while waiting for that room. Default 1 s. */
  roomPollMs?: number;
}

export type RestartReason = 'exited' | 'disk full';

export interface InfluxdSupervision {
  /** Starts since the first, each after an exit or a storage fault. */
  restarts: number;
  lastRestart: { at: number; reason: RestartReason } | null;
  /** Why a restart is due and has not happened yet (waiting for room, or for its delay), else null. */
  pending: RestartReason | null;
}

/** A write failure that says influxd could not write to its own disk: it will not recover until restarted. */
export function isStorageFault(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /no space left on device|disk quota exceeded|read-only file system|input\/output error/i.test(
    message,
  );
}

/** The wait before start number `failedStarts + 1` after an exit: base, doubled per failed start, capped. */
export function restartDelay(failedStarts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(failedStarts, 30));
}

export class SupervisedInfluxd implements InfluxdHandle {
  readonly database: string;
  readonly dataDir: string;
  readonly logFile: string;
  private readonly state: InfluxdSupervision = { restarts: 0, lastRestart: null, pending: null };
  private stopped = false;
  /** Cuts short the waits of a restart when the hub stops. */
  private readonly stopping = new AbortController();
  /** The restart under way, if any: one at a time. */
  private restarting: Promise<void> | null = null;
  /** Storage faults with no successful write between them: a disk that shows room but still fails backs off. */
  private faultsInARow = 0;
  private readonly log: Logger;

  private constructor(
    private current: InfluxdHandle,
    private readonly opts: InfluxdSupervisorOptions,
    private readonly now: () => number,
  ) {
    this.database = current.database;
    this.dataDir = current.dataDir;
    this.logFile = current.logFile;
    this.log = opts.log ?? silentLogger;
    this.watch(current);
  }

  /** Starts influxd (a failure here fails the hub's start, as before) and supervises it from then on. */
  static async start(
    opts: InfluxdSupervisorOptions,
    now: () => number = Date.now,
  ): Promise<SupervisedInfluxd> {
    return new SupervisedInfluxd(await startInfluxd(opts), opts, now);
  }

  get url(): string {
    return this.current.url;
  }
  get pid(): number {
    return this.current.pid;
  }
  get ports() {
    return this.current.ports;
  }
  /** The current process's exit. */
  get exited() {
    return this.current.exited;
  }
  get supervision(): Readonly<InfluxdSupervision> {
    return this.state;
  }

  kill(signal?: NodeJS.Signals): void {
    this.current.kill(signal);
  }

  /** Stops influxd for good: no restart after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.restarting;
    await this.current.stop();
  }

  /** Told of every failed write to the store; a storage fault schedules a restart once the disk has room. */
  noteWriteFailure(err: unknown): void {
    if (this.stopped || this.restarting || !isStorageFault(err)) return;
    this.faultsInARow += 1;
    this.log.error({ err }, 'influxd cannot write to its disk: it restarts once the disk has room');
    this.begin('disk full', async () => {
      await this.waitForRoom();
      if (this.faultsInARow > 1)
        await this.pause(restartDelay(this.faultsInARow - 2, this.baseDelay, this.maxDelay));
      if (this.stopped) return;
      await this.current.stop(); // a planned stop: not an "unexpected exit"
      await this.startAgain('disk full');
    });
  }

  /** Told of every successful write. */
  noteWriteOk(): void {
    this.faultsInARow = 0;
  }

  private get baseDelay(): number {
    return this.opts.restartDelayMs ?? 1_000;
  }
  private get maxDelay(): number {
    return this.opts.maxRestartDelayMs ?? 60_000;
  }

  private watch(handle: InfluxdHandle): void {
    void handle.exited.then(() => {
      if (this.stopped || this.restarting || handle !== this.current) return;
      this.begin('exited', () => this.startAgain('exited'));
    });
  }

  private begin(reason: RestartReason, run: () => Promise<void>): void {
    this.state.pending = reason;
    this.restarting = run()
      .catch((err) => this.log.error({ err }, 'influxd restart gave up'))
      .finally(() => {
        this.restarting = null;
        this.state.pending = null;
      });
  }

  /** Starts a new influxd on the same directory and ports, retrying with growing waits until it is up or stopped. */
  private async startAgain(reason: RestartReason): Promise<void> {
    for (let failed = 0; !this.stopped; failed++) {
      if (reason === 'exited' || failed > 0)
        await this.pause(restartDelay(failed, this.baseDelay, this.maxDelay));
      if (this.stopped) return;
      try {
        const next = await startInfluxd({ ...this.opts, ports: this.current.ports });
        if (this.stopped) {
          await next.stop();
          return;
        }
        this.current = next;
        this.state.restarts += 1;
        this.state.lastRestart = { at: this.now(), reason };
        this.log.warn({ influxdPid: next.pid, url: next.url, reason }, 'influxd started again');
        this.watch(next);
        return;
      } catch (err) {
        this.log.error({ err, reason, attempt: failed + 1 }, 'influxd did not start again; retrying');
      }
    }
  }

  /** A wait that ends early, quietly, when the supervisor stops. */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  /** Until influxd's disk has `roomBytes` free (or the supervisor stops). Unknown (no statfs) counts as room. */
  private async waitForRoom(): Promise<void> {
    const want = this.opts.roomBytes ?? 32 * 1024 * 1024;
    while (!this.stopped) {
      try {
        const fs = await statfs(this.dataDir);
        if (fs.bavail * fs.bsize >= want) return;
      } catch {
        return;
      }
      await this.pause(this.opts.roomPollMs ?? 1_000);
    }
  }
}
