/**
 * Durable outbox between ingest and InfluxDB. Points are written into the hub's LevelDB in the same atomic batch as
 * the event that produced them, then flushed to the store in order. InfluxDB down for minutes, or a hub restart,
 * loses nothing: the points wait on disk. Writes are idempotent, so a batch resent after a crash is harmless.
 */
import type { BatchOp, HubDb } from '../db/hub-db.js';
import type { Logger } from '../log.js';
import { type MetricPoint, type MetricsStore, StoreRejectedError } from '../store/metrics-store.js';

export interface OutboxOptions {
  batchSize?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class MetricsOutbox {
  private readonly bootStamp = Date.now().toString(36).padStart(9, '0');
  private counter = 0;
  private running = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private backlog = 0;
  private readonly batchSize: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  /** Points delivered since start; for operations and benchmarks. */
  delivered = 0;
  lastError: string | null = null;

  constructor(
    private readonly db: HubDb,
    private readonly store: MetricsStore,
    private readonly log: Logger,
    options: OutboxOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 5000;
    this.minBackoffMs = options.minBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  /** Batch operations that enqueue these points; the caller includes them in its own atomic batch. */
  enqueueOps(points: MetricPoint[]): BatchOp[] {
    this.backlog += points.length;
    return points.map((value) => ({ type: 'put', sublevel: 'outbox', key: this.nextKey(), value }));
  }

  /** Enqueue on its own, for points that belong to no other record. */
  async enqueue(points: MetricPoint[]): Promise<void> {
    await this.db.batch(this.enqueueOps(points));
    this.kick();
  }

  /** Keys sort in enqueue order within a boot and across boots (the boot stamp is the start time). */
  private nextKey(): string {
    this.counter += 1;
    return `${this.bootStamp}-${this.counter.toString(36).padStart(8, '0')}`;
  }

  kick(): void {
    this.wake?.();
  }

  async pending(): Promise<number> {
    let n = 0;
    for await (const _ of this.db.entries('outbox')) n += 1;
    return n;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loop;
  }

  /** Resolves when the outbox is empty (or throws after timeoutMs): for tests, backups and shutdown. */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.pending()) > 0) {
      if (Date.now() > deadline)
        throw new Error(`outbox not drained after ${timeoutMs} ms: ${this.lastError ?? ''}`);
      this.kick();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    let backoff = this.minBackoffMs;
    while (this.running) {
      const batch: [string, MetricPoint][] = [];
      for await (const entry of this.db.entries<MetricPoint>('outbox', { limit: this.batchSize }))
        batch.push(entry);
      if (batch.length === 0) {
        this.backlog = 0;
        await this.sleep(1000);
        continue;
      }
      try {
        await this.store.writePoints(batch.map(([, p]) => p));
        await this.db.batch(batch.map(([key]) => ({ type: 'del', sublevel: 'outbox', key })));
        this.delivered += batch.length;
        this.backlog = Math.max(0, this.backlog - batch.length);
        this.lastError = null;
        backoff = this.minBackoffMs;
      } catch (error) {
        if (error instanceof StoreRejectedError) {
          await this.quarantine(batch, error);
          continue;
        }
        this.lastError = (error as Error).message;
        this.log.warn(
          { err: this.lastError, pending: batch.length, retryInMs: backoff },
          'metrics store unavailable',
        );
        await this.sleep(backoff);
        backoff = Math.min(this.maxBackoffMs, backoff * 2);
      }
    }
  }

  /** A rejected batch is retried point by point; only the points the store refuses are set aside, with the reason. */
  private async quarantine(batch: [string, MetricPoint][], error: StoreRejectedError): Promise<void> {
    this.log.error(
      { err: error.message, size: batch.length },
      'store rejected a batch; retrying point by point',
    );
    for (const [key, point] of batch) {
      try {
        await this.store.writePoints([point]);
        await this.db.del('outbox', key);
        this.delivered += 1;
      } catch (pointError) {
        if (!(pointError instanceof StoreRejectedError)) return; // store went away: the main loop backs off
        await this.db.batch([
          { type: 'put', sublevel: 'outbox-dead', key, value: { point, reason: pointError.message } },
          { type: 'del', sublevel: 'outbox', key },
        ]);
      }
    }
  }
}
