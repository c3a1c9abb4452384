/**
 * The hub's durable database: one LevelDB (classic-level, prebuilt binaries, happy on a Pi) with a sublevel per kind.
 * Multi-sublevel batches are atomic, which is what makes "stored exactly once" possible: an incident, its dedupe key
 * and its outbox points land together or not at all.
 */
import { mkdirSync } from 'node:fs';
import { Level } from 'level';
import { EncodedWriter } from './encoded-batch.js';
import { type SnapshotSource, snapshotLevel } from './level-snapshot.js';
import { type LogFault, LogFaultGuard, reopenLevel } from './log-fault.js';
import { pages } from './pages.js';

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
  taken?: () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class HubDb {
  /**
   * A failed write leaves LevelDB's log indeterminate, and every later write to it is lost at the next open (see
   * log-fault.ts): from the first failure until the database is reopened, writes are refused.
   */
  private readonly guard: LogFaultGuard;

  private constructor(
    private db: Level<string, string>,
    dir: string,
    onLogFault: ((state: Readonly<LogFault>) => void) | undefined,
  ) {
    this.writer = new EncodedWriter(db);
    this.guard = new LogFaultGuard(dir, () => this.reopen(), onLogFault);
  }

  /** `onLogFault`: told when writes start being refused after a failed one, and when they are accepted again. */
  static async open(
    dir: string,
    options: { onLogFault?: (state: Readonly<LogFault>) => void } = {},
  ): Promise<HubDb> {
    mkdirSync(dir, { recursive: true });
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    await db.open();
    return new HubDb(db, dir, options.onLogFault);
  }

  /** Whether writes are refused after a failed one, how often that happened, and the last failure: for /metrics. */
  get logFault(): LogFault {
    return this.guard.state;
  }

  /** A new handle on the same files (reopenLevel); sublevel handles and the native batch are made again. */
  private async reopen(): Promise<void> {
    const db = await reopenLevel(this.db, { valueEncoding: 'utf8' });
    this.db = db;
    this.subs.clear();
    this.writer = new EncodedWriter(db);
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
    const encoded = JSON.stringify(value);
    await this.guard.write(() => this.sub(sublevel).put(key, encoded));
  }

  async del(sublevel: SublevelName, key: string): Promise<void> {
    await this.guard.write(() => this.sub(sublevel).del(key));
  }

  /**
   * Atomic across sublevels. `sync` asks LevelDB to fsync before resolving: used where a pupil's report depends on it.
   *
   * Group commit: batches that arrive while a write is in flight are merged into the next single LevelDB write (one
   * fsync for many devices' events). Each caller's ops still land together or not at all, and each caller resolves
   * only after the write that holds its ops has completed. `taken` is called once, when the ops leave the queue for a
   * LevelDB write (they are no longer ahead of anyone else's), always before the returned promise settles.
   */
  batch(ops: BatchOp[], options: { sync?: boolean; taken?: () => void } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ops, sync: options.sync ?? false, taken: options.taken, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private readonly pending: PendingBatch[] = [];
  /** The one native batch every group commit is built in (flush writes one group at a time). */
  private writer: EncodedWriter;
  private writing = false;
  /** LevelDB writes made by batch() and the callers' batches they held: how much the group commit groups. */
  readonly commits = { writes: 0, batches: 0 };

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const group = this.pending.splice(0, GROUP_MAX);
      for (const g of group) g.taken?.();
      try {
        await this.write(group);
        this.commits.writes += 1;
        this.commits.batches += group.length;
        for (const g of group) g.resolve();
      } catch (error) {
        if (group.length === 1 || this.guard.refusing) {
          // A storage failure (a full disk): nothing of the group is stored, and no write may follow it.
          for (const g of group) g.reject(error);
          continue;
        }
        // One caller's bad op must not fail its neighbours: write each caller's ops on its own.
        for (const g of group) await this.write([g]).then(g.resolve, g.reject);
      }
    }
    this.writing = false;
  }

  /**
   * The group's ops in one LevelDB write, fsynced when any caller asked for it.
   *
   * Last write wins: only the last op per key is written. The write is atomic and applied as a whole, so the result on
   * disk is the same; what is saved is the encoding and writing of values nobody would ever read (a device's chain
   * head is rewritten with each of its events, and a group holds many of one device's events). With one op per key
   * left, their order within the write no longer matters, so the ops are walked from the last one back, once.
   *
   * Keys are prefixed here with each sublevel's own prefix and written to the root database: the same keys the
   * sublevels read, without abstract-level's per-op sublevel delegation (the largest single cost of a batch in the
   * storage benchmark); values are encoded here and go straight into the native batch (encoded-batch.ts).
   */
  private async write(group: PendingBatch[]): Promise<void> {
    this.guard.check();
    const batch = this.writer;
    batch.begin();
    // Keys seen per sublevel, as the callers gave them: a third of the cost of one set of prefixed keys, which would
    // build and hash a new string for every op (measured 85 against 240 ns per op).
    const seen = new Map<SublevelName, { prefix: string; keys: Set<string> }>();
    let sync = false;
    for (let g = group.length - 1; g >= 0; g--) {
      const { ops, sync: wanted } = group[g] as PendingBatch;
      sync ||= wanted;
      for (let i = ops.length - 1; i >= 0; i--) {
        const op = ops[i] as BatchOp;
        let sub = seen.get(op.sublevel);
        if (!sub) {
          sub = { prefix: this.prefix(op.sublevel), keys: new Set() };
          seen.set(op.sublevel, sub);
        }
        if (sub.keys.has(op.key)) continue;
        sub.keys.add(op.key);
        const key = sub.prefix + op.key;
        if (op.type === 'del') {
          batch.del(key);
          continue;
        }
        // undefined (or a function) has no JSON: LevelDB would store an empty value that no read could parse.
        const value = JSON.stringify(op.value) as string | undefined;
        if (value === undefined) throw new TypeError(`no value to store at ${op.sublevel} ${op.key}`);
        batch.put(key, value);
      }
    }
    await this.guard.write(() => batch.write(sync));
  }

  private prefix(name: SublevelName): string {
    return (this.sub(name) as unknown as { prefix: string }).prefix;
  }

  async *entries<T>(
    sublevel: SublevelName,
    range: { gt?: string; gte?: string; lt?: string; lte?: string; limit?: number; reverse?: boolean } = {},
  ): AsyncGenerator<[string, T]> {
    for await (const page of pages(this.sub(sublevel).iterator(range))) {
      for (const [key, raw] of page) yield [key, JSON.parse(raw) as T];
    }
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

  /** Number of keys in a sublevel; keys only, values are neither read into JS nor parsed. */
  async count(sublevel: SublevelName): Promise<number> {
    let n = 0;
    for await (const page of pages(this.sub(sublevel).keys())) n += page.length;
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
    await this.guard.write(() => native.compactRange('\x00', '\xff'));
  }

  /** D3: a consistent copy of the whole database as it stands now, into a new LevelDB at `dir`; writers keep going. */
  snapshotTo(dir: string, progress?: (entries: number) => void): Promise<number> {
    return snapshotLevel(this.db as unknown as SnapshotSource, dir, progress);
  }

  async close(): Promise<void> {
    // Let grouped writes that callers are awaiting reach the disk first.
    while (this.writing || this.pending.length > 0) await new Promise((r) => setTimeout(r, 5));
    await this.guard.stop();
    await this.db.close();
  }
}
