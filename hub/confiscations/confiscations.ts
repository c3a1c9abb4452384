/**
 * Confiscations (P7): "Any device brought into school and used in breach of this policy will be confiscated." A
 * member of staff records that a phone was confiscated into a locker slot; it shows on the dashboard until a member
 * of staff records its return. Nothing identifies the pupil (D1): the record holds a slot, never an owner. Records
 * are never deleted by hand; the return is an appended step.
 */
import { randomUUID } from 'node:crypto';
import type { HubDb } from '../db/hub-db.js';
import { HubError } from '../errors.js';

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

export class ConfiscationStore {
  constructor(private readonly db: HubDb) {}

  async list(options: { openOnly?: boolean; limit?: number } = {}): Promise<Confiscation[]> {
    const all = await this.db.values<Confiscation>('confiscations', {
      reverse: true,
      limit: options.limit ?? 500,
    });
    return options.openOnly ? all.filter(isOpen) : all;
  }

  async record(input: {
    site: string;
    room: string;
    device: string;
    slot: number;
    slots: number;
    note: string;
    by: string;
    now: number;
  }): Promise<Confiscation> {
    if (input.slot < 0 || input.slot >= input.slots) {
      throw new ConfiscationError('E_SLOT', `/slot: this locker has slots 0–${input.slots - 1}`);
    }
    const open = (await this.list({ openOnly: true })).find(
      (c) => c.device === input.device && c.slot === input.slot,
    );
    if (open)
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
    await this.db.put('confiscations', keyOf(c), c);
    await this.db.put('meta', `confiscation/${c.id}`, keyOf(c));
    return c;
  }

  async markReturned(
    id: string,
    by: string,
    now: number,
  ): Promise<{ before: Confiscation; after: Confiscation }> {
    const key = await this.db.get<string>('meta', `confiscation/${id}`);
    const before = key ? await this.db.get<Confiscation>('confiscations', key) : undefined;
    if (!key || !before) throw new ConfiscationError('E_NOT_FOUND', 'no such confiscation');
    if (!isOpen(before)) throw new ConfiscationError('E_RETURNED', 'already returned');
    const after: Confiscation = { ...before, returnedBy: by, returnedAt: now };
    await this.db.put('confiscations', key, after);
    return { before, after };
  }
}
