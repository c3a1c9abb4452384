/**
 * The hub's durable database: one LevelDB (classic-level, prebuilt binaries, happy on a Pi) with a sublevel per kind.
 * Multi-sublevel batches are atomic, which is what makes "stored exactly once" possible: an incident, its dedupe key
 * and its outbox points land together or not at all.
 */
import { mkdirSync } from 'node:fs';
import { Level } from 'level';
import { type SnapshotSource, snapshotLevel } from './level-snapshot.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const SUBLEVELS = [
  'devices',
  'dedupe',
  'incidents',
  'outbox',
  'outbox-dead',
  'trust-outbox',
  'trust-outbox-dead',
  'chain',
  'chain-links',
  'users',
  'sessions',
  'meta',
  'audit',
  'notify',
  'enrolment',
  'exemptions',
  'emergencies',
  'storage-releases',
  'compliance',
  'confiscations',
  'policy-sent',
  'approvals',
  'login-limits',
  'login-devices',
  'releases',
  'rollouts',
] as const;
export type SublevelName = (typeof SUBLEVELS)[number];

export type BatchOp =
  | { type: 'put'; sublevel: SublevelName; key: string; value: unknown }
  | { type: 'del'; sublevel: SublevelName; key: string };

/**
 * Callers merged into one LevelDB write at most. A durable event is a handful of small ops, so a full group is a few
 * thousand ops, written in milliseconds: one fsync for a thousand devices' events when that many are waiting.
 */
const GROUP_MAX = 1024;

interface PendingBatch {
  ops: BatchOp[];
  sync: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * A group's ops without those a later op in the same group overwrites (same sublevel and key). The group is one
 * atomic LevelDB write applied in order, so the result on disk is the same; what is saved is the encoding and the
 * writing of values nobody would ever read: a device's chain state is rewritten with each of its events, and a
 * group holds many of one device's events.
 */
export function lastWriteWins(ops: BatchOp[]): BatchOp[] {
  // Keys seen per sublevel: no string built per op (a group holds thousands; this runs for every group commit).
  const seen = new Map<SublevelName, Set<string>>();
  const kept: BatchOp[] = [];
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i] as BatchOp;
    let keys = seen.get(op.sublevel);
    if (!keys) {
      keys = new Set();
      seen.set(op.sublevel, keys);
    }
    if (keys.has(op.key)) continue;
    keys.add(op.key);
    kept.push(op);
  }
  return kept.reverse();
}

/** An op whose key and value are already what LevelDB stores (no encoding left to do). */
export type EncodedOp = { type: 'put'; key: string; value: string | Buffer } | { type: 'del'; key: string };

/** classic-level's native batch: reads each op's type, key and value, and the sync option. */
interface NativeBatch {
  status: string;
  _batch?(ops: EncodedOp[], options: { sync: boolean }): Promise<void>;
  batch(ops: EncodedOp[], options: object): Promise<void>;
}

/**
 * Writes already-encoded ops straight to classic-level's native batch (_batch, the implementation abstract-level's
 * public batch() ends in) once the database is open: the public call copies and re-encodes every op, which was a
 * tenth of the hub's CPU while it stored a resend of thousands of events (bench/RESULTS.md, f). Only for databases
 * with no prewrite hooks nor write listeners (the hub sets none); before open, the public call queues as usual.
 */
export function writeEncoded(db: object, ops: EncodedOp[], sync: boolean): Promise<void> {
  const native = db as NativeBatch;
  if (native.status === 'open' && typeof native._batch === 'function') return native._batch(ops, { sync });
  return native.batch(ops, { sync, valueEncoding: 'buffer' });
}

export class HubDb {
  private constructor(private readonly db: Level<string, string>) {}

  static async open(dir: string): Promise<HubDb> {
    mkdirSync(dir, { recursive: true });
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    await db.open();
    return new HubDb(db);
  }

  private readonly subs = new Map<SublevelName, ReturnType<HubDb['makeSub']>>();

  private makeSub(name: SublevelName) {
    return this.db.sublevel<string, string>(name, { valueEncoding: 'utf8' });
  }

  /** Sublevel handles are made once, not per call: each sublevel() call allocates a new object. */
  private sub(name: SublevelName) {
    let sub = this.subs.get(name);
    if (!sub) {
      sub = this.makeSub(name);
      this.subs.set(name, sub);
    }
    return sub;
  }

  async get<T>(sublevel: SublevelName, key: string): Promise<T | undefined> {
    const raw = await this.sub(sublevel).get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  async put(sublevel: SublevelName, key: string, value: unknown): Promise<void> {
    await this.sub(sublevel).put(key, JSON.stringify(value));
  }

  async del(sublevel: SublevelName, key: string): Promise<void> {
    await this.sub(sublevel).del(key);
  }

  /**
   * Atomic across sublevels. `sync` asks LevelDB to fsync before resolving: used where a pupil's report depends on it.
   *
   * Group commit: batches that arrive while a write is in flight are merged into the next single LevelDB write (one
   * fsync for many devices' events). Each caller's ops still land together or not at all, and each caller resolves
   * only after the write that holds its ops has completed.
   */
  batch(ops: BatchOp[], options: { sync?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ops, sync: options.sync ?? false, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private readonly pending: PendingBatch[] = [];
  private writing = false;
  /** LevelDB writes made by batch() and the callers' batches they held: how much the group commit groups. */
  readonly commits = { writes: 0, batches: 0 };

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const group = this.pending.splice(0, GROUP_MAX);
      try {
        await this.write(
          group.length === 1 ? group[0]!.ops : lastWriteWins(group.flatMap((g) => g.ops)),
          group.some((g) => g.sync),
        );
        this.commits.writes += 1;
        this.commits.batches += group.length;
        for (const g of group) g.resolve();
      } catch (error) {
        if (group.length === 1) {
          group[0]!.reject(error);
          continue;
        }
        // One caller's bad op must not fail its neighbours: write each caller's ops on its own.
        for (const g of group) await this.write(g.ops, g.sync).then(g.resolve, g.reject);
      }
    }
    this.writing = false;
  }

  /**
   * Keys are prefixed here with each sublevel's own prefix and written to the root database: the same keys the
   * sublevels read, without abstract-level's per-op sublevel delegation (the largest single cost of a batch in the
   * storage benchmark); values are encoded here, so the native batch takes them as they are (writeEncoded).
   */
  private async write(ops: BatchOp[], sync: boolean): Promise<void> {
    const encoded = ops.map(
      (op): EncodedOp =>
        op.type === 'put'
          ? { type: 'put', key: this.prefix(op.sublevel) + op.key, value: JSON.stringify(op.value) }
          : { type: 'del', key: this.prefix(op.sublevel) + op.key },
    );
    await writeEncoded(this.db, encoded, sync);
  }

  private prefix(name: SublevelName): string {
    return (this.sub(name) as unknown as { prefix: string }).prefix;
  }

  async *entries<T>(
    sublevel: SublevelName,
    range: { gt?: string; gte?: string; lt?: string; lte?: string; limit?: number; reverse?: boolean } = {},
  ): AsyncGenerator<[string, T]> {
    for await (const [key, raw] of this.sub(sublevel).iterator(range)) yield [key, JSON.parse(raw) as T];
  }

  /** One page of entries in a single native call (no per-entry async step): for queue-like readers such as the outbox. */
  async page<T>(
    sublevel: SublevelName,
    range: { gt?: string; gte?: string; lt?: string; lte?: string; limit: number },
  ): Promise<[string, T][]> {
    const raw = await this.sub(sublevel).iterator(range).all();
    if (raw.length === 0) return [];
    // One parse of the whole page instead of one per entry: the values are JSON, so the joined array is too.
    const values = JSON.parse(`[${raw.map(([, value]) => value).join(',')}]`) as T[];
    return raw.map(([key], i) => [key, values[i] as T]);
  }

  /**
   * Deletes every key in [gte, lte] in one native call (no per-key JS work). Not atomic with other writes: only for
   * ranges no writer can add keys to, such as outbox keys of one boot that have already been read.
   */
  async clearRange(sublevel: SublevelName, range: { gte: string; lte: string }): Promise<void> {
    await this.sub(sublevel).clear(range);
  }

  /** Number of keys in a sublevel; keys only, values are neither read into JS nor parsed. */
  async count(sublevel: SublevelName): Promise<number> {
    let n = 0;
    for await (const _ of this.sub(sublevel).keys()) n += 1;
    return n;
  }

  async values<T>(sublevel: SublevelName, range: Parameters<HubDb['entries']>[1] = {}): Promise<T[]> {
    const out: T[] = [];
    for await (const [, value] of this.entries<T>(sublevel, range)) out.push(value);
    return out;
  }

  /**
   * Compacts the whole database: LevelDB keeps overwritten values in its log and table files until a compaction, so
   * after replacing a secret in clear this is what removes the old bytes from disk.
   */
  async compact(): Promise<void> {
    // `level` resolves to classic-level on Node, which has compactRange; its browser typing does not.
    const native = this.db as unknown as { compactRange(start: string, end: string): Promise<void> };
    await native.compactRange('\x00', '\xff');
  }

  /** D3: a consistent copy of the whole database as it stands now, into a new LevelDB at `dir`; writers keep going. */
  snapshotTo(dir: string, progress?: (entries: number) => void): Promise<number> {
    return snapshotLevel(this.db as unknown as SnapshotSource, dir, progress);
  }

  async close(): Promise<void> {
    // Let grouped writes that callers are awaiting reach the disk first.
    while (this.writing || this.pending.length > 0) await new Promise((r) => setTimeout(r, 5));
    await this.db.close();
  }
}
