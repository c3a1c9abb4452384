/**
 * Staff sign-in (S1, S3): password, then a TOTP code for every role that can see incidents or change policy, with
 * per-username lockout and per-address throttling. Two steps:
 *
 *   POST /api/login       {username, password}  → a session, or {needsTotp, loginToken},
 *                                                  or {needsTotpEnrolment, loginToken, secret, otpauthUri}
 *   POST /api/login/totp  {loginToken, code}     → a session (and, when enrolling, the secret is stored)
 *
 * The loginToken is single-use, expires after 5 minutes and allows 5 codes. Failures of either step count towards the
 * username's lockout. Counters live in memory: a restart clears them, which is no help to an attacker who cannot
 * restart the hub.
 */
import { randomBytes } from 'node:crypto';
import { KeyedQueue } from '../ingest/keyed-queue.js';
import type { StaffRole } from './roles.js';
import { generateTotpSecret, otpauthUri, verifyTotp } from './totp.js';
import type { PublicUser, UserStore } from './user-store.js';

/** S3: roles that can see incidents or change policy, accounts or devices. */
export const TOTP_ROLES: readonly StaffRole[] = ['coordinator', 'dsl', 'head', 'admin', 'governor'];
export const requiresTotp = (roles: readonly StaffRole[]) => roles.some((r) => TOTP_ROLES.includes(r));

export interface LoginLimits {
  maxFailures: number;
  lockMs: number;
  /** Failures from one address within lockMs before it is throttled, across usernames (password spraying). */
  maxFailuresPerAddress: number;
  pendingMs: number;
  pendingAttempts: number;
}

export const DEFAULT_LIMITS: LoginLimits = {
  maxFailures: 5,
  lockMs: 15 * 60_000,
  maxFailuresPerAddress: 20,
  pendingMs: 5 * 60_000,
  pendingAttempts: 5,
};

export type LoginOutcome =
  | { kind: 'session'; user: PublicUser }
  | { kind: 'totp'; loginToken: string }
  | { kind: 'enrol'; loginToken: string; secret: string; otpauthUri: string }
  | { kind: 'refused'; status: 401 | 429; code: string; message: string; retryAfterS?: number };

type Refused = Extract<LoginOutcome, { kind: 'refused' }>;

interface Pending {
  username: string;
  enrolSecret?: string;
  expiresAt: number;
  attempts: number;
}

/** Failures within a sliding window; locked once the count reaches the limit, until the window passes. */
class FailureCounter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}
  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }
  /** Seconds until the key may try again, or 0. */
  lockedFor(key: string, now: number): number {
    const list = this.recent(key, now);
    if (list.length < this.limit) return 0;
    return Math.ceil(((list[list.length - this.limit] as number) + this.windowMs - now) / 1000);
  }
  add(key: string, now: number): void {
    this.failures.set(key, [...this.recent(key, now), now]);
  }
  clear(key: string): void {
    this.failures.delete(key);
  }
}

export class LoginFlow {
  private readonly pending = new Map<string, Pending>();
  private readonly byUser: FailureCounter;
  private readonly byAddress: FailureCounter;
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly users: UserStore,
    private readonly now: () => number,
    private readonly options: {
      issuer?: string;
      limits?: Partial<LoginLimits>;
      onFailure?: (reason: string) => void;
    } = {},
  ) {
    const limits = this.limits;
    this.byUser = new FailureCounter(limits.maxFailures, limits.lockMs);
    this.byAddress = new FailureCounter(limits.maxFailuresPerAddress, limits.lockMs);
  }

  private get limits(): LoginLimits {
    return { ...DEFAULT_LIMITS, ...this.options.limits };
  }

  private throttled(username: string, address: string): Refused | null {
    const now = this.now();
    const user = this.byUser.lockedFor(username, now);
    const addr = this.byAddress.lockedFor(address, now);
    const wait = Math.max(user, addr);
    if (wait === 0) return null;
    return {
      kind: 'refused',
      status: 429,
      code: user > 0 ? 'E_LOCKED' : 'E_THROTTLED',
      message:
        user > 0
          ? `too many failed sign-ins for this account; try again in ${Math.ceil(wait / 60)} min`
          : `too many failed sign-ins from this address; try again in ${Math.ceil(wait / 60)} min`,
      retryAfterS: wait,
    };
  }

  private fail(username: string, address: string, reason: string, message: string): Refused {
    const now = this.now();
    this.byUser.add(username, now);
    this.byAddress.add(address, now);
    this.options.onFailure?.(reason);
    return this.throttled(username, address) ?? { kind: 'refused', status: 401, code: 'E_LOGIN', message };
  }

  private newToken(p: Pending): string {
    for (const [token, entry] of this.pending) if (entry.expiresAt <= this.now()) this.pending.delete(token);
    const token = randomBytes(24).toString('base64url');
    this.pending.set(token, p);
    return token;
  }

  /**
   * A signed-in user proves it is still them before changing their own password: the same lockout and throttle as
   * sign-in, so an unattended session cannot be used to guess the password.
   */
  async confirm(
    username: string,
    password: string,
    address: string,
  ): Promise<{ kind: 'confirmed' } | Refused> {
    const locked = this.throttled(username, address);
    if (locked) return locked;
    if (await this.users.verify(username, password)) return { kind: 'confirmed' };
    return this.fail(username, address, 'http: wrong current password', 'your current password is wrong');
  }

  async password(username: string, password: string, address: string): Promise<LoginOutcome> {
    const locked = this.throttled(username, address);
    if (locked) return locked;
    const user = await this.users.verify(username, password);
    if (!user) return this.fail(username, address, 'http: failed login', 'wrong username or password');
    if (!requiresTotp(user.roles)) {
      this.byUser.clear(username);
      return { kind: 'session', user };
    }
    const record = await this.users.get(username);
    const expiresAt = this.now() + this.limits.pendingMs;
    if (record?.totpSecret)
      return { kind: 'totp', loginToken: this.newToken({ username, expiresAt, attempts: 0 }) };
    // First sign-in of a TOTP role (the first-run admin included): enrol before any session exists.
    const secret = generateTotpSecret();
    return {
      kind: 'enrol',
      loginToken: this.newToken({ username, enrolSecret: secret, expiresAt, attempts: 0 }),
      secret,
      otpauthUri: otpauthUri(this.options.issuer ?? 'phones-away', username, secret),
    };
  }

  async totp(loginToken: string, code: string, address: string): Promise<LoginOutcome> {
    const pending = this.pending.get(loginToken);
    const expired = () =>
      ({
        kind: 'refused',
        status: 401,
        code: 'E_LOGIN_EXPIRED',
        message: 'sign-in expired; start again',
      }) as const;
    if (!pending || pending.expiresAt <= this.now()) {
      this.pending.delete(loginToken);
      return expired();
    }
    const { username } = pending;
    const locked = this.throttled(username, address);
    if (locked) {
      this.pending.delete(loginToken);
      return locked;
    }
    // Serialised per user, so one code cannot open two sessions in a race.
    let outcome: LoginOutcome = expired();
    await this.queue.run(username, async () => {
      const record = await this.users.get(username);
      if (!record || record.disabled) {
        this.pending.delete(loginToken);
        return;
      }
      const secret = pending.enrolSecret ?? record.totpSecret;
      const step = secret ? verifyTotp(secret, code, this.now(), record.totpLastStep ?? -1) : null;
      if (step === null) {
        pending.attempts += 1;
        if (pending.attempts >= this.limits.pendingAttempts) this.pending.delete(loginToken);
        outcome = this.fail(username, address, 'http: failed totp', 'wrong or reused code');
        return;
      }
      this.pending.delete(loginToken);
      if (pending.enrolSecret) await this.users.enrolTotp(username, pending.enrolSecret, step);
      else await this.users.useTotpStep(username, step);
      this.byUser.clear(username);
      outcome = { kind: 'session', user: { username, roles: record.roles, disabled: false } };
    });
    return outcome;
  }
}
