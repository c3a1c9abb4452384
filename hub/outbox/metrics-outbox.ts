/**
 * Durable outbox between ingest and InfluxDB. Points are written into the hub's LevelDB in the same atomic batch as
 * the event that produced them, then flushed to the store in order. InfluxDB down for minutes, or a hub restart,
 * loses nothing: the points wait on disk. Writes are idempotent, so a batch resent after a crash is harmless.
 *
 * Throughput (bench/RESULTS.md, storage): the flush loop is a pipeline. While one batch is on its way to InfluxDB the
 * next is already read from LevelDB (keys after the batch in flight, so it never re-reads what is not yet deleted),
 * and the previous batch's delete is committed alongside. A point is deleted only after the store accepted it.
 * Points are queued already encoded in the store's wire form when the store offers one (MetricsStore.encode): the
 * encoding is paid once per event at ingest, spread over the day, and a drain after an outage only reads strings,
 * joins them and sends them, which is what lets it keep up with influxd's own rate.
 *
 * Telemetry lane: heartbeat points are offered with offer(), held in memory and written with the next flush, without a
 * LevelDB write, read and delete each (a third of a QoS 1 heartbeat's cost in the broker benchmark). When the store
 * fails, or more than `maxTelemetry` wait, they are spilled into the durable outbox, so an InfluxDB outage loses none;
 * a hub crash loses at most the telemetry of one flush interval. Heartbeats are QoS 0 and lossy by design: no policy
 * decision, compliance record or incident depends on one (locker events and reports never use this lane).
 */
import type { BatchOp, HubDb, SublevelName } from '../db/hub-db.js';
import type { Logger } from '../log.js';
import { type MetricPoint, type MetricsStore, StoreRejectedError } from '../store/metrics-store.js';

export interface OutboxOptions {
  batchSize?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long the loop sleeps when the outbox is empty and nobody kicks it. Default 1 s. */
  idleMs?: number;
  /** Telemetry points held in memory before they are spilled to the durable outbox. Default 20,000. */
  maxTelemetry?: number;
  /**
   * Where the points wait, and where points the store refused are set aside. Default 'outbox' and 'outbox-dead'; a
   * second outbox to another store (the trust's shared store) has its own pair, so neither drain sees the other's.
   */
  sublevels?: { queue: SublevelName; dead: SublevelName };
}

/** A queued point: encoded by the store (see the file comment), or the point itself when the store cannot encode it. */
type Queued = MetricPoint | string;
type Entry = [string, Queued];
/** Batches written to the store at once: three keep both the hub and influxd busy (bench/RESULTS.md, storage). */
const WRITE_DEPTH = 3;
/** A drain() call: resolved by an empty read from the start begun after it, once its telemetry is written or on disk. */
type DrainWaiter = { after: number; telemetry: number; resolve: () => void };

export class OutboxDrainTimeoutError extends Error {
  readonly code = 'OUTBOX_DRAIN_TIMEOUT';
}

export class MetricsOutbox {
  private readonly bootStamp = Date.now().toString(36).padStart(9, '0');
  private counter = 0;
  private running = false;
  /** Set by kick(); a sleep that starts after a kick returns at once, so no kick is lost between read and sleep. */
  private kicked = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  /** Reads from the start of the outbox begun so far; an empty one proves every earlier enqueue was delivered. */
  private fullReads = 0;
  private readonly drainWaiters = new Set<DrainWaiter>();
  /** Telemetry points offered so far, and how many of them are written or spilled to disk (FIFO, so a watermark). */
  private telemetryOffered = 0;
  private telemetryDone = 0;
  private readonly batchSize: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly idleMs: number;
  private readonly maxTelemetry: number;
  private readonly queue: SublevelName;
  private readonly dead: SublevelName;
  /** Telemetry offered and not yet written or spilled (see the file comment). */
  private telemetry: MetricPoint[] = [];
  private spilling: Promise<void> = Promise.resolve();
  /**
   * Points in the durable outbox, kept as a running estimate so /healthz and /metrics need no key scan. Raised when
   * enqueue ops are handed out (a failed caller batch leaves it high), lowered on delete, and set to 0 whenever a
   * read from the start finds the outbox empty, which corrects any drift.
   */
  private durableEstimate = 0;
  /** Points delivered since start; for operations and benchmarks. */
  delivered = 0;
  /** Telemetry points dropped because they could be neither written nor spilled (disk full). */
  telemetryDropped = 0;
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
    this.idleMs = options.idleMs ?? 1000;
    this.maxTelemetry = options.maxTelemetry ?? 20_000;
    this.queue = options.sublevels?.queue ?? 'outbox';
    this.dead = options.sublevels?.dead ?? 'outbox-dead';
  }

  /** Batch operations that enqueue these points; the caller includes them in its own atomic batch. */
  enqueueOps(points: MetricPoint[]): BatchOp[] {
    this.durableEstimate += points.length;
    return points.map((point) => ({
      type: 'put',
      sublevel: this.queue,
      key: this.nextKey(),
      value: this.encode(point),
    }));
  }

  /**
   * The store's wire form of a point, or the point itself when the store has none or refuses it: a refused point is
   * queued as it is, so the drain meets the refusal and sets it aside with its reason, as for any rejected point.
   */
  private encode(point: MetricPoint): Queued {
    if (!this.store.encode || !this.store.writeEncoded) return point;
    try {
      return this.store.encode(point);
    } catch {
      return point;
    }
  }

  /** Writes queued points: encoded ones as they are, any others (refused at enqueue, or queued by an older hub) as points. */
  private async write(queued: Queued[]): Promise<void> {
    const encoded: string[] = [];
    const points: MetricPoint[] = [];
    for (const q of queued) {
      if (typeof q === 'string') encoded.push(q);
      else points.push(q);
    }
    if (encoded.length > 0) {
      if (!this.store.writeEncoded) throw new StoreRejectedError('store cannot write encoded points');
      await this.store.writeEncoded(encoded);
    }
    if (points.length > 0) await this.store.writePoints(points);
  }

  /**
   * Telemetry (heartbeats): written with the next flush, at most `idleMs` later, without touching LevelDB unless the
   * store fails. Never for events, reports or compliance: those go through enqueueOps in their own atomic batch.
   */
  offer(point: MetricPoint): void {
    this.telemetry.push(point);
    this.telemetryOffered += 1;
    if (this.telemetry.length >= this.batchSize) this.kick();
    if (this.telemetry.length >= this.maxTelemetry) this.spillTelemetry();
  }

  /** Points waiting: durable (estimate, see durableEstimate) plus telemetry in memory. Cheap: for /healthz and /metrics. */
  waiting(): number {
    return this.durableEstimate + this.telemetry.length;
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
    this.kicked = true;
    this.wake?.();
  }

  /** Exact count of points waiting on disk (keys only) plus telemetry in memory: for tests and tools, not hot paths. */
  async pending(): Promise<number> {
    return (await this.db.count(this.queue)) + this.telemetry.length;
  }

  /**
   * Moves the telemetry held in memory into the durable outbox (store unavailable, too much held, or shutdown). If
   * even that fails (disk full) the points are dropped and counted: telemetry must not grow without bound.
   */
  private spillTelemetry(): Promise<void> {
    const points = this.telemetry;
    if (points.length === 0) return this.spilling;
    this.telemetry = [];
    this.spilling = this.spilling
      .then(() => this.db.batch(this.enqueueOps(points)))
      .then(() => {
        this.telemetryDone += points.length;
      })
      .catch((error: Error) => {
        this.telemetryDone += points.length;
        this.durableEstimate -= points.length;
        this.telemetryDropped += points.length;
        this.log.error(
          { err: error.message, dropped: points.length },
          'telemetry points dropped: outbox full',
        );
      });
    return this.spilling;
  }

  /** Writes the telemetry held in memory; on failure it is spilled to the durable outbox and the error rethrown. */
  private async flushTelemetry(): Promise<void> {
    while (this.telemetry.length > 0) {
      const points = this.telemetry.splice(0, this.batchSize);
      try {
        await this.store.writePoints(points);
        this.delivered += points.length;
        this.telemetryDone += points.length;
      } catch (error) {
        this.telemetry = points.concat(this.telemetry);
        await this.spillTelemetry();
        throw error;
      }
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // One key scan at start (a backlog left by a previous run); from here the estimate is kept as points come and go.
    void this.db.count(this.queue).then(
      (n) => {
        this.durableEstimate += n;
      },
      () => undefined,
    );
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loop;
    // Telemetry still in memory goes to disk, so a clean shutdown loses none of it.
    await this.spillTelemetry();
    // Nothing will read the outbox any more: drains still waiting fall back to counting.
    for (const waiter of this.drainWaiters) waiter.resolve();
  }

  /**
   * Resolves when everything enqueued before the call has been delivered (or throws after timeoutMs): for tests,
   * backups and shutdown. Waits for the flush loop to find the outbox empty on a read begun after this call, so it
   * costs nothing while waiting (no scans of the outbox).
   */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.running) {
      let waiter: DrainWaiter | undefined;
      let timer: NodeJS.Timeout | undefined;
      const emptied = await new Promise<boolean>((resolve) => {
        waiter = { after: this.fullReads, telemetry: this.telemetryOffered, resolve: () => resolve(true) };
        this.drainWaiters.add(waiter);
        timer = setTimeout(() => resolve(false), timeoutMs);
        this.kick();
      }).finally(() => {
        clearTimeout(timer);
        if (waiter) this.drainWaiters.delete(waiter);
      });
      if (emptied && this.running) return;
    }
    // Not running (or stopped meanwhile): nothing will flush, so only an already empty outbox counts as drained.
    while ((await this.pending()) > 0) {
      if (Date.now() > deadline)
        throw new OutboxDrainTimeoutError(
          `outbox not drained after ${timeoutMs} ms: ${this.lastError ?? ''}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sleeps up to ms; kick() and stop() cut it short. */
  private sleep(ms: number): Promise<void> {
    if (this.kicked || !this.running) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wake === done) self.wake = null;
        self.kicked = false;
        resolve();
      }
      this.wake = done;
    });
  }

  private read(after: string | undefined): Promise<Entry[]> {
    return this.db.page<Queued>(this.queue, {
      ...(after === undefined ? {} : { gt: after }),
      limit: this.batchSize,
    });
  }

  private async run(): Promise<void> {
    let backoff = this.minBackoffMs;
    /** Last key handed to the store in this pass; undefined = read from the start. */
    let cursor: string | undefined;
    let prefetch: Promise<Entry[]> | null = null;
    /** The chain of deletes of delivered batches, in delivery order; it never rejects. */
    let deleting: Promise<void> = Promise.resolve();
    /**
     * Writes sent and not yet settled, oldest first, at most WRITE_DEPTH: the next batch is serialised while the
     * store ingests the previous one. Each settles to its error or null, never rejects.
     */
    const inflight: { batch: Entry[]; done: Promise<Error | null> }[] = [];
    /** Settles the oldest `n` writes: delivered batches are deleted (in order), failed ones are returned. */
    const settle = async (n: number) => {
      const failed: { batch: Entry[]; error: Error }[] = [];
      for (const { batch, done } of inflight.splice(0, n)) {
        const error = await done;
        if (error) {
          failed.push({ batch, error });
          continue;
        }
        this.delivered += batch.length;
        // Deletes run one after another, in order, without holding up the next write (a read from the start waits
        // for all of them).
        deleting = deleting
          .then(() => this.remove(batch))
          .then(
            () => {
              this.durableEstimate = Math.max(0, this.durableEstimate - batch.length);
            },
            (deleteError: Error) => {
              // The points stay in the outbox and are resent on the next pass from the start (idempotent).
              this.lastError = deleteError.message;
              this.log.error({ err: deleteError.message, size: batch.length }, 'outbox delete failed');
            },
          );
      }
      return failed;
    };
    const restart = async () => {
      prefetch?.catch(() => undefined);
      prefetch = null;
      cursor = undefined;
      await settle(inflight.length); // writes still in flight may succeed: their points are then deleted
      await deleting;
    };
    while (this.running) {
      let batch: Entry[];
      let fullRead = 0;
      let telemetryDone = 0;
      try {
        await this.flushTelemetry();
        await this.spilling;
      } catch (error) {
        // Spilled to the durable outbox: it is delivered from there when the store is back.
        this.lastError = (error as Error).message;
        this.log.warn({ err: this.lastError, retryInMs: backoff }, 'metrics store unavailable');
        await restart();
        await this.sleep(backoff);
        backoff = Math.min(this.maxBackoffMs, backoff * 2);
        continue;
      }
      try {
        if (prefetch) batch = await prefetch;
        else {
          if (cursor === undefined) {
            // A read from the start must not see points whose write or delete is still in flight: they would be
            // resent. (A failure here is seen again when that batch is read and written anew.)
            await settle(inflight.length);
            await deleting;
            this.fullReads += 1;
            fullRead = this.fullReads;
            telemetryDone = this.telemetryDone;
          }
          batch = await this.read(cursor);
        }
      } catch (error) {
        this.lastError = (error as Error).message;
        this.log.error({ err: this.lastError }, 'outbox read failed');
        await restart();
        await this.sleep(backoff);
        backoff = Math.min(this.maxBackoffMs, backoff * 2);
        continue;
      }
      prefetch = null;
      if (batch.length === 0 && inflight.length > 0) {
        const outcome = await this.settleFailed(await settle(inflight.length), restart, backoff);
        if (outcome === 'unavailable') backoff = Math.min(this.maxBackoffMs, backoff * 2);
        continue;
      }
      if (batch.length === 0) {
        if (cursor !== undefined) {
          // End of this pass. Start over from the beginning: that also finds points that sort before the cursor
          // (a later boot whose clock was behind the previous one's).
          cursor = undefined;
          continue;
        }
        this.durableEstimate = 0;
        for (const waiter of this.drainWaiters)
          if (waiter.after < fullRead && waiter.telemetry <= telemetryDone) waiter.resolve();
        await this.sleep(this.idleMs);
        continue;
      }
      cursor = batch[batch.length - 1]![0];
      // Full batch: there is probably more, read it while this one is written.
      if (batch.length === this.batchSize) prefetch = this.read(cursor);
      inflight.push({
        batch,
        done: this.write(batch.map(([, queued]) => queued)).then(
          () => null,
          (error: Error) => error,
        ),
      });
      // More to read and room in the pipeline: send the next batch before waiting for this one.
      if (prefetch && inflight.length < WRITE_DEPTH) continue;
      const outcome = await this.settleFailed(await settle(1), restart, backoff);
      if (outcome === 'unavailable') backoff = Math.min(this.maxBackoffMs, backoff * 2);
      if (outcome !== 'delivered') continue;
      this.lastError = null;
      backoff = this.minBackoffMs;
    }
    await restart();
  }

  /**
   * After failed writes: stops the pass (restart), sets rejected batches aside point by point, and sleeps `backoff`
   * when the store was unavailable (the caller then stretches its backoff).
   */
  private async settleFailed(
    failed: { batch: Entry[]; error: Error }[],
    restart: () => Promise<void>,
    backoff: number,
  ): Promise<'delivered' | 'rejected' | 'unavailable'> {
    if (failed.length === 0) return 'delivered';
    await restart();
    let unavailable: { batch: Entry[]; error: Error } | undefined;
    for (const f of failed) {
      if (!(f.error instanceof StoreRejectedError)) {
        unavailable ??= f;
        continue;
      }
      await this.quarantine(f.batch, f.error).catch((dbError: Error) => {
        // e.g. disk full while setting a point aside: it stays in the outbox and is retried.
        this.lastError = dbError.message;
        this.log.error({ err: dbError.message }, 'outbox quarantine failed');
      });
    }
    if (!unavailable) return 'rejected';
    this.lastError = unavailable.error.message;
    this.log.warn(
      { err: this.lastError, pending: unavailable.batch.length, retryInMs: backoff },
      'metrics store unavailable',
    );
    await this.sleep(backoff);
    return 'unavailable';
  }

  /**
   * Deletes a delivered batch, key by key. Not as a range: a key is handed out when an event's ops are built
   * (enqueueOps), and another device's write with a later key can commit first, so a key inside a delivered batch's
   * range may still be on its way to disk; a range delete then removed an undelivered point (the disk-full fault test,
   * clean-clone CI on 2026-12-06: one locker event missing in InfluxDB).
   */
  private remove(batch: Entry[]): Promise<void> {
    return this.db.batch(batch.map(([key]) => ({ type: 'del', sublevel: this.queue, key })));
  }

  /** A rejected batch is retried point by point; only the points the store refuses are set aside, with the reason. */
  private async quarantine(batch: Entry[], error: StoreRejectedError): Promise<void> {
    this.log.error(
      { err: error.message, size: batch.length },
      'store rejected a batch; retrying point by point',
    );
    for (const [key, point] of batch) {
      try {
        await this.write([point]);
        await this.db.del(this.queue, key);
        this.delivered += 1;
      } catch (pointError) {
        if (!(pointError instanceof StoreRejectedError)) return; // store went away: the main loop backs off
        await this.db.batch([
          { type: 'put', sublevel: this.dead, key, value: { point, reason: pointError.message } },
          { type: 'del', sublevel: this.queue, key },
        ]);
      }
    }
  }
}
