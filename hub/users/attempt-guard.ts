/**
 * Sign-in attempt counters per account, per source address and per remembered browser (S1), kept in memory for the
 * decision and written through to the hub DB so a restart keeps them. The decision and the count happen in one
 * synchronous step (`reserve`), so requests that arrive together cannot all pass a check that none has counted yet.
 */
import type { BatchOp, HubDb } from '../db/hub-db.js';
import { type Counter, current, type LimitRule, waitMs } from './attempt-limits.js';

export type LimitKind = 'account' | 'address' | 'device';

export interface LimitKey {
  kind: LimitKind;
  id: string;
}

export interface GuardOptions {
  rules: Record<LimitKind, LimitRule>;
  /** Counters quiet this long are forgotten; also the shortest gap between two alerts about one account. */
  forgetMs: number;
  /** Counters kept at most (unknown usernames and addresses cost memory): the quietest are dropped first. */
  maxCounters?: number;
  /** An account's free attempts (from browsers never signed in on it) are used up by failures: someone may be guessing. */
  onAccountHeld?: (username: string, counter: Counter) => void;
}

export interface Reservation {
  keys: LimitKey[];
}

export type ReserveResult =
  | { ok: true; reservation: Reservation }
  | { ok: false; kind: LimitKind; waitMs: number };

const name = (key: LimitKey) => `${key.kind}:${key.id}`;

export class AttemptGuard {
  private readonly counters = new Map<string, Counter>();
  /** When each account was last alerted about. */
  private readonly alerted = new Map<string, number>();

  constructor(
    private readonly db: HubDb,
    private readonly options: GuardOptions,
  ) {}

  /** Reads the counters a previous run left; forgotten ones are deleted. */
  async load(now: number): Promise<void> {
    const stale: BatchOp[] = [];
    for await (const [key, value] of this.db.entries<Counter & { alertedAt?: number }>('login-limits')) {
      if (key.startsWith('alert:')) {
        if (value.alertedAt !== undefined && now - value.alertedAt < this.options.forgetMs)
          this.alerted.set(key.slice(6), value.alertedAt);
        else stale.push({ type: 'del', sublevel: 'login-limits', key });
      } else if (current(value, now, this.options.forgetMs)) this.counters.set(key, value);
      else stale.push({ type: 'del', sublevel: 'login-limits', key });
    }
    if (stale.length) await this.db.batch(stale);
  }

  private get(key: LimitKey, now: number): Counter | undefined {
    const found = current(this.counters.get(name(key)), now, this.options.forgetMs);
    if (!found) this.counters.delete(name(key));
    return found;
  }

  /** Milliseconds the key must wait before its next check (0 = may try now). */
  wait(key: LimitKey, now: number): number {
    return waitMs(this.get(key, now), this.options.rules[key.kind], now);
  }

  /**
   * Counts one attempt against every key, or against none when any must wait. Synchronous: callers reserve before
   * any await, so concurrent requests see each other's counts. Persist with `save` before checking the secret.
   */
  reserve(keys: LimitKey[], now: number): ReserveResult {
    let worst: { kind: LimitKind; waitMs: number } | null = null;
    for (const key of keys) {
      const wait = this.wait(key, now);
      if (wait > 0 && (!worst || wait > worst.waitMs)) worst = { kind: key.kind, waitMs: wait };
    }
    if (worst) return { ok: false, ...worst };
    for (const key of keys) {
      const before = this.get(key, now);
      this.counters.set(name(key), { failures: (before?.failures ?? 0) + 1, lastAt: now });
    }
    this.trim();
    return { ok: true, reservation: { keys } };
  }

  /** A right answer: the attempt is not a failure after all. `clear` also forgets the earlier failures of those kinds. */
  refund(reservation: Reservation, now: number, clear: readonly LimitKind[] = []): void {
    for (const key of reservation.keys) {
      const counter = this.get(key, now);
      if (!counter) continue;
      if (clear.includes(key.kind) || counter.failures <= 1) this.counters.delete(name(key));
      else this.counters.set(name(key), { ...counter, failures: counter.failures - 1 });
    }
  }

  /**
   * A counted attempt turned out wrong. When that leaves an account out of free attempts, `onAccountHeld` is called,
   * at most once per account per `forgetMs` (the attack window), however many failures follow.
   */
  failed(keys: LimitKey[], now: number): void {
    for (const key of keys) {
      if (key.kind !== 'account') continue;
      const counter = this.get(key, now);
      if (counter && counter.failures >= this.options.rules.account.freeAttempts)
        this.maybeAlert(key.id, counter, now);
    }
  }

  /** Writes the keys' current counts (group-committed with other writes; the latest call's values land last). */
  async save(keys: LimitKey[]): Promise<void> {
    const ops: BatchOp[] = keys.map((key) => {
      const counter = this.counters.get(name(key));
      return counter
        ? { type: 'put', sublevel: 'login-limits', key: name(key), value: counter }
        : { type: 'del', sublevel: 'login-limits', key: name(key) };
    });
    await this.db.batch(ops);
  }

  private maybeAlert(username: string, counter: Counter, now: number): void {
    const last = this.alerted.get(username);
    if (last !== undefined && now - last < this.options.forgetMs) return;
    this.alerted.set(username, now);
    void this.db
      .put('login-limits', `alert:${username}`, { alertedAt: now })
      .catch(() => this.alerted.delete(username));
    this.options.onAccountHeld?.(username, { ...counter });
  }

  /** Bounds memory and disk against a flood of made-up usernames or addresses. */
  private trim(): void {
    const max = this.options.maxCounters ?? 10_000;
    if (this.counters.size <= max) return;
    // Down to 90 %, so a flood sorts once per thousand new keys rather than at every attempt.
    const byAge = [...this.counters.entries()].sort(([, a], [, b]) => a.lastAt - b.lastAt);
    const drop = byAge.slice(0, this.counters.size - Math.floor(max * 0.9)).map(([key]) => key);
    for (const key of drop) this.counters.delete(key);
    void this.db
      .batch(drop.map((key) => ({ type: 'del' as const, sublevel: 'login-limits' as const, key })))
      .catch(() => undefined);
  }
}
