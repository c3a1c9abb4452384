/**
 * The shared durable-write queue beneath ingest's handlers: each durable event (locker event, report, tamper) is
 * submitted here as one atomic set of ops and committed with every other device's events in one fsynced LevelDB batch
 * (HubDb's group commit), so a store costs a share of one fsync instead of a whole one.
 *
 * Why a queue and not an await per event: a device's messages are checked one at a time (ingest's KeyedQueue), but
 * once an event's ops are built the device's next event need not wait for the disk. Submission order is commit order
 * (HubDb writes its queue first in, first out), so each device's events are stored in the order it sent them; each
 * caller still resolves only after the write holding its ops is on disk, and only then is the PUBACK or ReportAck sent.
 *
 * Exactly once across that window: an event id is claimed from submission until its write settles, so a resend that
 * arrives while the original is still on its way to disk waits for that same write instead of storing a second copy
 * (the dedupe key in LevelDB answers for every resend after that).
 */
import type { BatchOp, HubDb } from '../db/hub-db.js';

/**
 * Events submitted and not yet on disk, at most. Beyond it a device's next event waits (in its own queue, so order
 * holds) until writes settle: 3,000 devices resending their journals at once must not hold every event in memory.
 * Four of HubDb's groups of 1,024, so a group commit is never starved. It was 20,000: every event waited behind
 * twenty groups (two seconds) and lived long enough to reach V8's old generation, which the 3,000 × 200 resend then
 * spent its time collecting (bench/RESULTS.md f).
 */
const MAX_PENDING = 4_096;
/**
 * Events of one device submitted and still queued for a LevelDB write, at most (those in the write being committed no
 * longer count: they are ahead of nobody). The write queue is first in, first out, so without it a device flooding
 * reports would put thousands of writes ahead of every other room's report; with it, at most this many (a fraction of
 * one group commit). A device's next event waits in its own queue until one of its queued writes is taken.
 * Measured with the report-flood fault test (10,000 reports from one device, six other rooms reporting): at 128 the
 * other rooms' acks took 123–317 ms (p50), at 16 they take 26 ms, with the flood itself as fast (2.5k/s).
 *
 * Counting what is queued rather than everything until on disk keeps that bound and lets a device fill a group while
 * its previous one is being written: counted until on disk, a device's 16 were split between the write in flight and
 * the next, so each group commit held 8 of them (10 devices × 100 events in flight: groups of 80 events, now 160;
 * bench/RESULTS.md f). A device has at most twice this many on their way to disk.
 */
const MAX_QUEUED_PER_DEVICE = 16;

export class DurableWrites {
  /** Event id → the write that holds it, from submission until that write settles. */
  private readonly claimed = new Map<string, Promise<unknown>>();
  /** Callers of room() waiting for the pending count to fall below the bound. */
  private readonly waiting: (() => void)[] = [];
  /**
   * Writes queued per device (not yet taken into a write), and the one caller per device (its queue is serial) waiting
   * for one to be taken.
   */
  private readonly perDevice = new Map<string, number>();
  private readonly deviceWaiting = new Map<string, () => void>();

  /**
   * `failed`: called with the device when one of its writes failed (nothing of it stored), before its caller hears of
   * it; whatever was cached as stored with those ops (the chain state) is then ahead of the disk.
   */
  constructor(
    private readonly db: HubDb,
    private readonly failed: (device: string) => void = () => {},
  ) {}

  /**
   * Undefined (go ahead) while the device is under its bound of writes queued and the hub under its bound of writes
   * pending; otherwise a promise that resolves once they are. Called from the device's queue before its next event is
   * checked.
   */
  room(device: string): Promise<void> | undefined {
    if (this.hasRoom(device)) return undefined;
    return this.waitForRoom(device);
  }

  private hasRoom(device: string): boolean {
    return (this.perDevice.get(device) ?? 0) < MAX_QUEUED_PER_DEVICE && this.claimed.size < MAX_PENDING;
  }

  private async waitForRoom(device: string): Promise<void> {
    while (!this.hasRoom(device)) {
      await new Promise<void>((resolve) => {
        if ((this.perDevice.get(device) ?? 0) >= MAX_QUEUED_PER_DEVICE)
          this.deviceWaiting.set(device, resolve);
        else this.waiting.push(resolve);
      });
    }
  }

  /**
   * The write that holds this event id, while it is submitted and not yet committed. Resolves with what the
   * original's submit() was given (e.g. the incident a resent report must be acknowledged with); rejects if that
   * write failed, so the resend is not acknowledged either.
   */
  inFlight<T>(eventId: string): Promise<T> | undefined {
    return this.claimed.get(eventId) as Promise<T> | undefined;
  }

  /** Number of event ids whose write is still on its way to disk (for tests and /metrics). */
  get pending(): number {
    return this.claimed.size;
  }

  /**
   * Submits an event's ops to the next fsynced group commit and claims its id until the write settles. Resolves with
   * `result` once the ops are on disk; rejects when the write failed (nothing of it stored).
   */
  submit<T>(device: string, eventId: string, ops: BatchOp[], result: T): Promise<T> {
    this.perDevice.set(device, (this.perDevice.get(device) ?? 0) + 1);
    // Called once, when a write takes the ops (possibly at once, inside batch()), before it settles.
    const dequeued = () => {
      const left = (this.perDevice.get(device) ?? 1) - 1;
      if (left > 0) this.perDevice.set(device, left);
      else this.perDevice.delete(device);
      const waiter = this.deviceWaiting.get(device);
      if (waiter) {
        this.deviceWaiting.delete(device);
        waiter();
      }
    };
    const written = this.failureNamed(device, this.db.batch(ops, { sync: true, taken: dequeued })).then(
      () => result,
    );
    this.claimed.set(eventId, written);
    const release = () => {
      if (this.claimed.get(eventId) === written) this.claimed.delete(eventId);
      while (this.waiting.length > 0 && this.claimed.size < MAX_PENDING) this.waiting.shift()?.();
    };
    written.then(release, release);
    return written;
  }

  /**
   * Ops with no event of their own (a chain state changed by a duplicate or a heartbeat): group-committed, not
   * fsynced.
   */
  write(device: string, ops: BatchOp[]): Promise<void> {
    return this.failureNamed(device, this.db.batch(ops));
  }

  /** The write as it is, with `failed` told of the device first when it rejects. */
  private failureNamed(device: string, write: Promise<void>): Promise<void> {
    return write.catch((error: unknown) => {
      this.failed(device);
      throw error;
    });
  }
}
