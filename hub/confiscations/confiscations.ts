/**
 * Confiscations (P7): "Any device brought into school and used in breach of this policy will be confiscated." A
 * member of staff records that a phone was confiscated into a locker slot; it shows on the dashboard until a member
 * of staff records its return. Nothing identifies the pupil (D1): the record holds a slot, never an owner. Records
 * are never deleted by hand; the return is an appended step.
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import { HubError } from '../errors.js';
import type { AuditRecord } from '../event-bus.js';

export interface Confiscation {
  id: string;
  site: string;
  room: string;
  device: string;
  slot: number;
  note: string;
  recordedBy: string;
  recordedAt: number;
  returnedBy?: string;
  returnedAt?: number;
}

export class ConfiscationError extends HubError {}

/** Keyed by time recorded, so the register reads in order. */
const keyOf = (c: Pick<Confiscation, 'recordedAt' | 'id'>) =>
  `${c.recordedAt.toString().padStart(15, '0')}-${c.id}`;

export function isOpen(c: Confiscation): boolean {
  return c.returnedAt === undefined;
}

/**
 * The register. Open confiscations are held in memory (loaded by one full scan on first use, then kept by this store,
 * the only writer), so the open list and the same-slot check see every open record however old: the register's read
 * cap (`limit`) applies to the full history only, never to open ones. Writes are serialised, so two staff recording
 * the same slot at once cannot both succeed.
 */
export class ConfiscationStore {
  private open: Map<string, Confiscation> | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: HubDb,
    /** S6: where present, each record and return is committed with its audit entry in one batch. */
    private readonly audit?: Pick<AuditLog, 'commit'>,
  ) {}

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async openMap(): Promise<Map<string, Confiscation>> {
    if (!this.open) {
      const open = new Map<string, Confiscation>();
      for await (const [, c] of this.db.entries<Confiscation>('confiscations'))
        if (isOpen(c)) open.set(c.id, c);
      this.open = open;
    }
    return this.open;
  }

  /** Newest first. `openOnly`: every open confiscation, uncapped; otherwise the newest `limit` (default 500). */
  async list(options: { openOnly?: boolean; limit?: number } = {}): Promise<Confiscation[]> {
    if (options.openOnly) {
      const open = await this.serial(() => this.openMap());
      return [...open.values()].sort((a, b) => keyOf(b).localeCompare(keyOf(a)));
    }
    return this.db.values<Confiscation>('confiscations', { reverse: true, limit: options.limit ?? 500 });
  }

  private async commit(ops: BatchOp[], record: AuditRecord): Promise<void> {
    if (this.audit) await this.audit.commit([record], ops);
    else await this.db.batch(ops, { sync: true });
  }

  record(input: {
    site: string;
    room: string;
    device: string;
    slot: number;
    slots: number;
    note: string;
    by: string;
    now: number;
  }): Promise<Confiscation> {
    return this.serial(async () => {
      if (input.slot < 0 || input.slot >= input.slots) {
        throw new ConfiscationError('E_SLOT', `/slot: this locker has slots 0–${input.slots - 1}`);
      }
      const open = await this.openMap();
      if ([...open.values()].some((c) => c.device === input.device && c.slot === input.slot))
        throw new ConfiscationError(
          'E_SLOT_TAKEN',
          `/slot: slot ${input.slot} already holds a confiscated phone`,
        );
      const c: Confiscation = {
        id: randomUUID(),
        site: input.site,
        room: input.room,
        device: input.device,
        slot: input.slot,
        note: input.note,
        recordedBy: input.by,
        recordedAt: input.now,
      };
      await this.commit(
        [
          { type: 'put', sublevel: 'confiscations', key: keyOf(c), value: c },
          { type: 'put', sublevel: 'meta', key: `confiscation/${c.id}`, value: keyOf(c) },
        ],
        { actor: input.by, action: 'confiscation.recorded', target: c.id, after: c },
      );
      open.set(c.id, c);
      return c;
    });
  }

  /**
   * D2: returned confiscations whose return is older than `before`, as the ops that delete them (and their id index).
   * A phone not yet returned is never removed, however old its record.
   */
  async retentionPlan(before: number): Promise<{ ops: BatchOp[]; count: number }> {
    const ops: BatchOp[] = [];
    let count = 0;
    // Keyed by time recorded: nothing recorded at or after `before` can have been returned before it.
    for await (const [key, c] of this.db.entries<Confiscation>('confiscations', {
      lt: `${before.toString().padStart(15, '0')}-`,
    })) {
      if (c.returnedAt === undefined || c.returnedAt >= before) continue;
      ops.push(
        { type: 'del', sublevel: 'confiscations', key },
        { type: 'del', sublevel: 'meta', key: `confiscation/${c.id}` },
      );
      count += 1;
    }
    return { ops, count };
  }

  markReturned(id: string, by: string, now: number): Promise<{ before: Confiscation; after: Confiscation }> {
    return this.serial(async () => {
      const key = await this.db.get<string>('meta', `confiscation/${id}`);
      const before = key ? await this.db.get<Confiscation>('confiscations', key) : undefined;
      if (!key || !before) throw new ConfiscationError('E_NOT_FOUND', 'no such confiscation');
      if (!isOpen(before)) throw new ConfiscationError('E_RETURNED', 'already returned');
      const after: Confiscation = { ...before, returnedBy: by, returnedAt: now };
      const open = await this.openMap();
      await this.commit([{ type: 'put', sublevel: 'confiscations', key, value: after }], {
        actor: by,
        action: 'confiscation.returned',
        target: id,
        before,
        after,
      });
      open.delete(id);
      return { before, after };
    });
  }
}
