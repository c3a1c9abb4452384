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
 * Large enough that a group commit is never starved (a group takes up to HubDb's group size of what is waiting).
 */
const MAX_PENDING = 20_000;

export class DurableWrites {
  /** Event id → the write that holds it, from submission until that write settles. */
  private readonly claimed = new Map<string, Promise<unknown>>();
  /** Callers of room() waiting for the pending count to fall below the bound. */
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly db: HubDb,
    private readonly maxPending = MAX_PENDING,
  ) {}

  /** Resolves at once while fewer than the bound are pending; otherwise when enough writes have settled. */
  room(): Promise<void> | undefined {
    if (this.claimed.size < this.maxPending) return undefined;
    return new Promise((resolve) => this.waiting.push(resolve));
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
  submit<T>(eventId: string, ops: BatchOp[], result: T): Promise<T> {
    const written = this.db.batch(ops, { sync: true }).then(() => result);
    this.claimed.set(eventId, written);
    const release = () => {
      if (this.claimed.get(eventId) === written) this.claimed.delete(eventId);
      while (this.waiting.length > 0 && this.claimed.size < this.maxPending) this.waiting.shift()?.();
    };
    written.then(release, release);
    return written;
  }

  /** Ops with no event of their own (a chain state changed by a duplicate): group-committed, not fsynced. */
  write(ops: BatchOp[]): Promise<void> {
    return this.db.batch(ops);
  }
}
