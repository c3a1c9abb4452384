/**
 * Keeps the hub's private influxd running (D5, R1). Three things stop it for good without a supervisor, two seen:
 *
 * - It exits (a crash, the kernel's OOM killer on a small Pi): until the hub itself restarted, every compliance point
 *   waited in the outbox.
 * - Its disk filled. influxd 1.6 then answers every write with HTTP 500 "engine: error writing WAL entry: … no space
 *   left on device", and keeps doing so after the space is back, until it is restarted (bench/RESULTS.md,
 *   disk-full-all).
 * - It hangs: alive, answering nothing (a deadlock; in tests, SIGSTOP).
 *
 * So it is started again after an unexpected exit (after 1 s, doubling to 60 s while starts keep failing); after a
 * write failed for lack of disk, once its disk has room again; and after it has answered neither a ping nor a write
 * for 5 minutes (killed first). A pause shorter than that is waited out: it answers again by itself. A restart asks
 * for the same ports, so the store's address normally stays; `url` is always the current one. Points wait in the
 * outbox meanwhile; none is lost.
 */
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger, silentLogger } from '../log.js';
import { InfluxStore } from '../store/influx-store.js';
import {
  freePorts,
  type InfluxdHandle,
  type InfluxdOptions,
  type InfluxdPorts,
  InfluxdStartError,
  influxdLogFile,
  startInfluxd,
} from './influxd-process.js';

export interface InfluxdSupervisorOptions extends InfluxdOptions {
  /** First wait before starting again after an unexpected exit; doubles per failed start. Default 1 s. */
  restartDelayMs?: number;
  /** Longest such wait. Default 60 s. */
  maxRestartDelayMs?: number;
  /** Free bytes on influxd's disk before a restart after a storage fault. Default 32 MB (three WAL segments). */
  roomBytes?: number;
  /** How often the disk is looked at while waiting for that room. Default 1 s. */
  roomPollMs?: number;
  /** Silence (no ping or write answered) after which a running influxd counts as hung. Default 5 minutes. */
  hungAfterMs?: number;
  /** How often influxd is pinged to find out. Default 30 s. */
  pingEveryMs?: number;
}

export type RestartReason = 'exited' | 'disk full' | 'hung' | 'start failed';

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
  /** When influxd last answered a ping or took a write (monotonic ms: the hub's clock may be moved, this must not). */
  private lastAnswer = performance.now();
  private readonly watchdog: NodeJS.Timeout;
  /** A ping on its way: the next tick does not send another. */
  private pinging = false;
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
    this.watchdog = setInterval(() => void this.checkAnswering(), opts.pingEveryMs ?? 30_000);
    this.watchdog.unref();
  }

  /** Starts influxd (a failure here fails the hub's start, as before) and supervises it from then on. */
  static async start(
    opts: InfluxdSupervisorOptions,
    now: () => number = Date.now,
  ): Promise<SupervisedInfluxd> {
    const [http, rpc] = opts.ports ? [opts.ports.http, opts.ports.rpc] : await freePorts(2);
    const ports = { http: http as number, rpc: rpc as number };
    try {
      return new SupervisedInfluxd(await startInfluxd({ ...opts, ports }), opts, now);
    } catch (error) {
      // Not installed: a set-up problem, said at once. Anything else (it hung or died while starting, as after a
      // power cut) must not keep the hub from taking pupils' reports: it runs without influxd and keeps trying.
      if (!(error instanceof InfluxdStartError)) throw error;
      const supervisor = new SupervisedInfluxd(notRunning(opts, ports), opts, now);
      supervisor.log.error({ err: error }, 'influxd did not start: the hub runs without it and tries again');
      supervisor.begin('start failed', () => supervisor.startAgain('start failed'));
      return supervisor;
    }
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
    clearInterval(this.watchdog);
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
    this.lastAnswer = performance.now();
  }

  /** Pings influxd; one that has answered nothing for `hungAfterMs` is killed and started again. */
  private async checkAnswering(): Promise<void> {
    if (this.stopped || this.restarting || this.pinging) return;
    const pinged = this.current;
    this.pinging = true;
    const answered = await new InfluxStore({ url: pinged.url, database: this.database, pingTimeoutMs: 2_000 })
      .ping()
      .finally(() => {
        this.pinging = false;
      });
    if (answered) {
      this.lastAnswer = performance.now();
      return;
    }
    const silentMs = performance.now() - this.lastAnswer;
    if (silentMs < (this.opts.hungAfterMs ?? 300_000) || this.stopped || this.restarting) return;
    if (pinged !== this.current) return;
    this.log.error(
      { influxdPid: pinged.pid, silentMs: Math.round(silentMs) },
      'influxd answers nothing: killing it',
    );
    this.begin('hung', async () => {
      pinged.kill('SIGKILL');
      await pinged.exited;
      await this.startAgain('hung');
    });
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
      if (reason === 'exited' || reason === 'start failed' || failed > 0)
        await this.pause(restartDelay(failed, this.baseDelay, this.maxDelay));
      if (this.stopped) return;
      try {
        const next = await startInfluxd({ ...this.opts, ports: this.current.ports });
        if (this.stopped) {
          await next.stop();
          return;
        }
        this.current = next;
        this.lastAnswer = performance.now();
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

/** Stands in for an influxd that did not start: its address is the one it will have; nothing runs to stop or kill. */
function notRunning(opts: InfluxdOptions, ports: InfluxdPorts): InfluxdHandle {
  const dataDir = resolve(opts.dataDir);
  return {
    url: `http://127.0.0.1:${ports.http}`,
    database: opts.database,
    pid: 0,
    ports,
    dataDir,
    logFile: influxdLogFile(dataDir),
    exited: new Promise(() => {}),
    stop: async () => {},
    kill: () => {},
  };
}
