/**
 * The hub's durable database: one LevelDB (classic-level, prebuilt binaries, happy on a Pi) with a sublevel per kind.
 * Multi-sublevel batches are atomic, which is what makes "stored exactly once" possible: an incident, its dedupe key
 * and its outbox points land together or not at all.
 */
import { mkdirSync } from 'node:fs';
import { Level } from 'level';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const SUBLEVELS = [
  'devices',
  'dedupe',
  'incidents',
  'outbox',
  'outbox-dead',
  'chain',
  'users',
  'sessions',
  'meta',
  'audit',
  'notify',
  'enrolment',
  'exemptions',
  'emergencies',
  'compliance',
] as const;
export type SublevelName = (typeof SUBLEVELS)[number];

export type BatchOp =
  | { type: 'put'; sublevel: SublevelName; key: string; value: unknown }
  | { type: 'del'; sublevel: SublevelName; key: string };

export class HubDb {
  private constructor(private readonly db: Level<string, string>) {}

  static async open(dir: string): Promise<HubDb> {
    mkdirSync(dir, { recursive: true });
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    await db.open();
    return new HubDb(db);
  }

  private sub(name: SublevelName) {
    return this.db.sublevel<string, string>(name, { valueEncoding: 'utf8' });
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

  /** Atomic across sublevels. `sync` asks LevelDB to fsync before resolving: used where a pupil's report depends on it. */
  async batch(ops: BatchOp[], options: { sync?: boolean } = {}): Promise<void> {
    await this.db.batch(
      ops.map((op) =>
        op.type === 'put'
          ? {
              type: 'put' as const,
              sublevel: this.sub(op.sublevel),
              key: op.key,
              value: JSON.stringify(op.value),
            }
          : { type: 'del' as const, sublevel: this.sub(op.sublevel), key: op.key },
      ),
      { sync: options.sync ?? false } as never,
    );
  }

  async *entries<T>(
    sublevel: SublevelName,
    range: { gt?: string; gte?: string; lt?: string; lte?: string; limit?: number; reverse?: boolean } = {},
  ): AsyncGenerator<[string, T]> {
    for await (const [key, raw] of this.sub(sublevel).iterator(range)) yield [key, JSON.parse(raw) as T];
  }

  async values<T>(sublevel: SublevelName, range: Parameters<HubDb['entries']>[1] = {}): Promise<T[]> {
    const out: T[] = [];
    for await (const [, value] of this.entries<T>(sublevel, range)) out.push(value);
    return out;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
