/**
 * The audit log (S6): who changed what, when, with the before and after. Append-only and hash-chained: each entry
 * carries the previous entry's hash and its own, so altering, removing or reordering a stored row is detected by
 * recomputing the chain. Entries are committed in the same atomic LevelDB batch as the change they describe: every
 * domain service passes its change's ops to commit(), so a crash or a full disk leaves both or neither. There is no
 * other way in (no bus event, no route), so nothing can be changed now and audited later.
 */
import { createHash } from 'node:crypto';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import type { AuditRecord } from '../event-bus.js';
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';

export const GENESIS = '0'.repeat(64);

export interface AuditEntry extends AuditRecord {
  seq: number;
  at: number;
  prev: string;
  hash: string;
}

/** The chain's head: how many entries were ever written (the last sequence number) and the last entry's hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** A head sent off the hub (audit-anchor.ts), kept so the chain can be checked against it later. */
export interface SentAnchor extends ChainHead {
  sentAt: number;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** The first entry that does not match the chain, and why. */
  broken?: { seq: number; reason: string };
  /** Set when retention removed the oldest entries: the chain is verified from this anchor on (D2). */
  anchor?: { seq: number; hash: string };
  /** The head as it stands now (what a daily anchor sends). */
  head: ChainHead;
  /** The last head sent off the hub, when there is one. */
  lastSent?: SentAnchor;
  /**
   * A saved head the chain was checked against: `matched`, or why not. A chain cut short or rewritten from some
   * point on still links up within itself; only a head kept elsewhere shows it.
   */
  against?: ChainHead & { result: 'matched' | 'truncated' | 'rewritten' | 'pruned' };
}

const SENT_KEY = 'audit/anchor-sent';

const key = (seq: number) => seq.toString().padStart(12, '0');

/** JSON with sorted keys, so the hash does not depend on the order properties were written in. */
export function canonical(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, actor, action, target, before, after, prev } = entry;
  return createHash('sha256')
    .update(canonical({ seq, at, actor, action, target, before, after, prev }))
    .digest('hex');
}

export class AuditLog implements HubExtension {
  readonly name = 'audit';
  private head: { seq: number; hash: string } | null = null;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: HubDb,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** Nothing to start: commit() works from construction on, so a change made early in start-up is still audited. */
  async start(): Promise<void> {}

  async stop(): Promise<void> {
    await this.tail.catch(() => undefined);
  }

  private async loadHead(): Promise<{ seq: number; hash: string }> {
    if (this.head) return this.head;
    for await (const [, entry] of this.db.entries<AuditEntry>('audit', { reverse: true, limit: 1 })) {
      this.head = { seq: entry.seq, hash: entry.hash };
      return this.head;
    }
    const anchor = await this.db.get<{ seq: number; hash: string }>('meta', 'audit/anchor');
    this.head = anchor ?? { seq: 0, hash: GENESIS };
    return this.head;
  }

  /**
   * Appends entries and commits them together with `ops` (the change being audited) in one fsynced batch.
   * Serialised, so the chain never forks under concurrent requests.
   */
  commit(records: AuditRecord[], ops: BatchOp[] = []): Promise<AuditEntry[]> {
    const run = this.tail.then(async () => {
      const head = await this.loadHead();
      let { seq, hash } = head;
      const at = this.now();
      const entries: AuditEntry[] = [];
      for (const record of records) {
        seq += 1;
        const base: Omit<AuditEntry, 'hash'> = {
          seq,
          at,
          actor: record.actor,
          action: record.action,
          target: record.target,
          ...(record.before !== undefined ? { before: record.before } : {}),
          ...(record.after !== undefined ? { after: record.after } : {}),
          prev: hash,
        };
        hash = entryHash(base);
        entries.push({ ...base, hash });
      }
      await this.db.batch(
        [
          ...ops,
          ...entries.map((e) => ({
            type: 'put' as const,
            sublevel: 'audit' as const,
            key: key(e.seq),
            value: e,
          })),
        ],
        { sync: true },
      );
      this.head = { seq, hash };
      return entries;
    });
    this.tail = run.catch((error) => {
      this.head = null; // reload from disk: the failed batch wrote nothing
      this.log.error({ err: error }, 'audit commit failed');
    });
    return run;
  }

  async record(record: AuditRecord): Promise<AuditEntry> {
    const [entry] = await this.commit([record]);
    return entry as AuditEntry;
  }

  async list(options: { beforeSeq?: number; limit?: number; reverse?: boolean } = {}): Promise<AuditEntry[]> {
    return this.db.values<AuditEntry>('audit', {
      ...(options.beforeSeq !== undefined ? { lt: key(options.beforeSeq) } : {}),
      limit: Math.min(options.limit ?? 200, 1000),
      reverse: options.reverse ?? true,
    });
  }

  async *stream(): AsyncGenerator<AuditEntry> {
    for await (const [, entry] of this.db.entries<AuditEntry>('audit')) yield entry;
  }

  /** The chain's head now. */
  async currentHead(): Promise<ChainHead> {
    await this.tail.catch(() => undefined);
    const { seq, hash } = await this.loadHead();
    return { seq, hash };
  }

  /**
   * Records that a head has left the hub (email, webhook): verify() checks the chain against it from then on. The
   * record and the audit entry saying so are one batch.
   */
  async markSent(head: ChainHead, sentAt: number, record: AuditRecord): Promise<void> {
    const sent: SentAnchor = { seq: head.seq, hash: head.hash, sentAt };
    await this.commit([record], [{ type: 'put', sublevel: 'meta', key: SENT_KEY, value: sent }]);
  }

  async lastSent(): Promise<SentAnchor | undefined> {
    return this.db.get<SentAnchor>('meta', SENT_KEY);
  }

  /**
   * Recomputes every hash and link from the anchor (or genesis) on; reports the first break. Then checks the chain
   * against a saved head (`against`, e.g. from a daily anchor email; else the last head this hub sent): the entry
   * with that sequence number must exist and carry that hash. Cutting off the newest rows, or rewriting the chain
   * from some entry on (every hash recomputed), both fail here.
   */
  async verify(options: { against?: ChainHead } = {}): Promise<VerifyResult> {
    const anchor = await this.db.get<{ seq: number; hash: string }>('meta', 'audit/anchor');
    const lastSent = await this.lastSent();
    const against = options.against ?? lastSent;
    let expected = anchor ?? { seq: 0, hash: GENESIS };
    let checked = 0;
    let atAgainst: string | undefined;
    const extra = () => ({ ...(anchor ? { anchor } : {}), ...(lastSent ? { lastSent } : {}) });
    for await (const [k, entry] of this.db.entries<AuditEntry>('audit')) {
      const fail = (reason: string): VerifyResult => ({
        ok: false,
        checked,
        broken: { seq: entry.seq ?? Number(k), reason },
        head: { seq: expected.seq, hash: expected.hash },
        ...extra(),
      });
      if (k !== key(entry.seq)) return fail('stored under another sequence number');
      if (entry.seq !== expected.seq + 1) return fail(`sequence gap: expected ${expected.seq + 1}`);
      if (entry.prev !== expected.hash) return fail('previous-hash link does not match');
      const { hash, ...rest } = entry;
      if (entryHash(rest) !== hash) return fail('content does not match its hash');
      expected = { seq: entry.seq, hash };
      if (against && entry.seq === against.seq) atAgainst = hash;
      checked += 1;
    }
    const head = { seq: expected.seq, hash: expected.hash };
    if (!against) return { ok: true, checked, head, ...extra() };
    let result: NonNullable<VerifyResult['against']>['result'];
    if (against.seq > head.seq) result = 'truncated';
    else if (against.seq === head.seq && anchor?.seq === head.seq)
      result = head.hash === against.hash ? 'matched' : 'rewritten';
    else if (atAgainst === undefined) result = 'pruned';
    else result = atAgainst === against.hash ? 'matched' : 'rewritten';
    const checkedAgainst = { seq: against.seq, hash: against.hash, result };
    if (result === 'truncated' || result === 'rewritten') {
      const reason =
        result === 'truncated'
          ? `the log ends at entry ${head.seq}, but entry ${against.seq} was recorded in a saved fingerprint: entries were removed`
          : `entry ${against.seq} differs from the saved fingerprint: the log was rewritten`;
      return {
        ok: false,
        checked,
        broken: { seq: Math.min(against.seq, head.seq + 1), reason },
        head,
        against: checkedAgainst,
        ...extra(),
      };
    }
    return { ok: true, checked, head, against: checkedAgainst, ...extra() };
  }

  /**
   * D2: removes entries older than `before`, keeping the chain verifiable by anchoring at the last removed entry.
   * The removal itself is audited by the caller.
   */
  async prune(before: number): Promise<number> {
    const run = this.tail.then(async () => {
      const ops: BatchOp[] = [];
      let last: AuditEntry | undefined;
      for await (const [k, entry] of this.db.entries<AuditEntry>('audit')) {
        if (entry.at >= before) break;
        ops.push({ type: 'del', sublevel: 'audit', key: k });
        last = entry;
      }
      if (!last) return 0;
      ops.push({
        type: 'put',
        sublevel: 'meta',
        key: 'audit/anchor',
        value: { seq: last.seq, hash: last.hash },
      });
      await this.db.batch(ops, { sync: true });
      return ops.length - 1;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}
