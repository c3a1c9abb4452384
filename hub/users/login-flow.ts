/**
 * Staff sign-in (S1, S3): password, then a TOTP code for every role that can see incidents or change policy, then a
 * new password when a reset asked for one. Steps:
 *
 *   POST /api/login           {username, password}  → a session, or {needsTotp, loginToken},
 *                                                      or {needsTotpEnrolment, loginToken, secret, otpauthUri},
 *                                                      or {needsNewPassword, loginToken}
 *   POST /api/login/totp      {loginToken, code}     → a session, or {needsNewPassword, loginToken}
 *   POST /api/login/password  {loginToken, password} → a session (the new password stored, the demand cleared)
 *
 * Limits (attempt-guard.ts): every check of a password or code is counted before it runs and refunded when right,
 * so no burst gets more checks than the limits allow. A browser that signed in to the account before (device cookie)
 * is limited on its own; any other is limited per account and per source address, with growing delays. A loginToken
 * is single-use, expires after 5 minutes and allows 5 codes: it stops working the moment its fifth code is taken.
 */
import { randomBytes } from 'node:crypto';
import type { LoginConfig } from '../../schemas/config.js';
import type { HubDb } from '../db/hub-db.js';
import { KeyedQueue } from '../ingest/keyed-queue.js';
import { AttemptGuard, type LimitKey, type LimitKind, type Reservation } from './attempt-guard.js';
import { type Counter, describeWait, type LimitRule } from './attempt-limits.js';
import { DeviceCookies } from './device-cookies.js';
import type { StaffRole } from './roles.js';
import { generateTotpSecret, otpauthUri, verifyTotp } from './totp.js';
import { type PublicUser, UserError, type UserStore } from './user-store.js';

/** S3: roles that can see incidents or change policy, accounts or devices. */
export const TOTP_ROLES: readonly StaffRole[] = ['coordinator', 'dsl', 'head', 'admin', 'governor'];
export const requiresTotp = (roles: readonly StaffRole[]) => roles.some((r) => TOTP_ROLES.includes(r));

export interface LoginLimits {
  /** Browsers never signed in to the account, from any address. */
  account: LimitRule;
  /** One source address, across usernames (password spraying). */
  address: LimitRule;
  /** One remembered browser on one account. */
  device: LimitRule;
  /** Counters quiet this long are forgotten; at most one alert per account in this time. */
  forgetMs: number;
  /** A remembered browser is forgotten after this long unused. */
  deviceMaxAgeMs: number;
  pendingMs: number;
  /** Codes one loginToken allows. */
  pendingAttempts: number;
}

const MINUTE = 60_000;
export const DEFAULT_LIMITS: LoginLimits = {
  account: { freeAttempts: 5, firstDelayMs: 30_000, maxDelayMs: 15 * MINUTE },
  address: { freeAttempts: 20, firstDelayMs: 30_000, maxDelayMs: 60 * MINUTE },
  device: { freeAttempts: 5, firstDelayMs: 30_000, maxDelayMs: 15 * MINUTE },
  forgetMs: 24 * 60 * MINUTE,
  deviceMaxAgeMs: 180 * 24 * 60 * MINUTE,
  pendingMs: 5 * MINUTE,
  pendingAttempts: 5,
};

/** The hub config's `login` section (seconds, minutes, days) as limits; absent values keep the defaults. */
export function limitsFromConfig(config: LoginConfig | undefined): LoginLimits {
  const rule = (base: LimitRule, c: LoginConfig['account']): LimitRule => ({
    freeAttempts: c?.freeAttempts ?? base.freeAttempts,
    firstDelayMs: c?.firstDelaySeconds !== undefined ? c.firstDelaySeconds * 1000 : base.firstDelayMs,
    maxDelayMs: c?.maxDelaySeconds !== undefined ? c.maxDelaySeconds * 1000 : base.maxDelayMs,
  });
  return {
    ...DEFAULT_LIMITS,
    account: rule(DEFAULT_LIMITS.account, config?.account),
    address: rule(DEFAULT_LIMITS.address, config?.address),
    device: rule(DEFAULT_LIMITS.device, config?.device),
    ...(config?.forgetAfterMinutes ? { forgetMs: config.forgetAfterMinutes * MINUTE } : {}),
    ...(config?.rememberBrowserDays ? { deviceMaxAgeMs: config.rememberBrowserDays * 24 * 60 * MINUTE } : {}),
  };
}

/** New-password tries one loginToken allows (policy refusals, not guesses: the user has already proved who they are). */
const NEW_PASSWORD_TRIES = 10;

/** Who is signing in from where: the source address and the browser's device cookie, if it sent one. */
export interface LoginClient {
  address: string;
  deviceToken?: string | undefined;
}

export type LoginOutcome =
  | { kind: 'session'; user: PublicUser; deviceToken: string }
  | { kind: 'totp'; loginToken: string }
  | { kind: 'enrol'; loginToken: string; secret: string; otpauthUri: string }
  | { kind: 'new-password'; loginToken: string }
  | {
      kind: 'refused';
      status: 400 | 401 | 429;
      code: string;
      message: string;
      retryAfterS?: number;
      fields?: string[];
    };

type Refused = Extract<LoginOutcome, { kind: 'refused' }>;

interface Pending {
  username: string;
  stage: 'totp' | 'new-password';
  /** The limit keys of the password step's client: its codes count against the same limits. */
  keys: LimitKey[];
  enrolSecret?: string;
  expiresAt: number;
  attempts: number;
  /** Set once the token opened a session or moved on: later requests holding it are refused. */
  done: boolean;
}

export interface AttackAlert {
  username: string;
  failures: number;
  at: number;
}

export interface LoginStats {
  /** Passwords checked (scrypt runs) at sign-in and at a password change's confirmation. */
  passwordChecks: number;
  /** Second-factor codes checked. */
  codeChecks: number;
  /** Attempts refused by a limit without any check. */
  heldBack: number;
}

const expired = (): Refused => ({
  kind: 'refused',
  status: 401,
  code: 'E_LOGIN_EXPIRED',
  message: 'sign-in expired; start again',
});

export class LoginFlow {
  private readonly pending = new Map<string, Pending>();
  private readonly queue = new KeyedQueue();
  private readonly guard: AttemptGuard;
  private readonly devices: DeviceCookies;
  readonly limits: LoginLimits;
  readonly stats: LoginStats = { passwordChecks: 0, codeChecks: 0, heldBack: 0 };

  constructor(
    private readonly users: UserStore,
    db: HubDb,
    private readonly now: () => number,
    private readonly options: {
      issuer?: string;
      limits?: Partial<LoginLimits>;
      onFailure?: (reason: string) => void;
      /** An account is being guessed at from browsers that never signed in to it (once per attack window). */
      onAttack?: (alert: AttackAlert) => void;
    } = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.guard = new AttemptGuard(db, {
      rules: { account: this.limits.account, address: this.limits.address, device: this.limits.device },
      forgetMs: this.limits.forgetMs,
      onAccountHeld: (username: string, counter: Counter) =>
        options.onAttack?.({ username, failures: counter.failures, at: counter.lastAt }),
    });
    this.devices = new DeviceCookies(db, this.limits.deviceMaxAgeMs);
  }

  /** Loads the counters a previous run left (they survive a restart) and forgets stale remembered browsers. */
  async start(): Promise<void> {
    await this.guard.load(this.now());
    await this.devices.prune(this.now());
  }

  /** A remembered browser is limited on its own; any other client per account and per address. */
  private async keysFor(username: string, client: LoginClient): Promise<LimitKey[]> {
    const device = await this.devices.trusted(client.deviceToken, username, this.now());
    if (device) return [{ kind: 'device', id: device }];
    return [
      { kind: 'account', id: username },
      { kind: 'address', id: client.address },
    ];
  }

  private heldBack(kind: LimitKind, wait: number): Refused {
    this.stats.heldBack += 1;
    this.options.onFailure?.(`http: sign-in held back (${kind})`);
    const when = describeWait(wait);
    const message =
      kind === 'account'
        ? `too many failed sign-ins for this account; try again in ${when}, or sign in from a browser you have used before`
        : kind === 'address'
          ? `too many failed sign-ins from this network address; try again in ${when}`
          : `too many failed sign-ins from this browser; try again in ${when}`;
    return {
      kind: 'refused',
      status: 429,
      code: kind === 'address' ? 'E_THROTTLED' : 'E_LOCKED',
      message,
      retryAfterS: Math.max(1, Math.ceil(wait / 1000)),
    };
  }

  /** Counts one attempt against the keys now (synchronously) and writes the counts before the check runs. */
  private async reserve(keys: LimitKey[]): Promise<Reservation | Refused> {
    const result = this.guard.reserve(keys, this.now());
    if (!result.ok) return this.heldBack(result.kind, result.waitMs);
    await this.guard.save(keys);
    return result.reservation;
  }

  private async refund(reservation: Reservation, clear: readonly LimitKind[] = []): Promise<void> {
    this.guard.refund(reservation, this.now(), clear);
    await this.guard.save(reservation.keys);
  }

  /** A wrong answer: the attempt stays counted. The reply says when the next try is possible, if not at once. */
  private failed(keys: LimitKey[], reason: string, message: string, knownAccount = true): Refused {
    this.options.onFailure?.(reason);
    const now = this.now();
    // Only real accounts raise the alert: guesses at made-up usernames must not become a flood of emails.
    if (knownAccount) this.guard.failed(keys, now);
    const next = keys
      .map((key) => ({ kind: key.kind, wait: this.guard.wait(key, now) }))
      .sort((a, b) => b.wait - a.wait)[0];
    if (next && next.wait > 0) {
      const held = this.heldBack(next.kind, next.wait);
      this.stats.heldBack -= 1; // this attempt was checked; only the next one waits
      return { ...held, message: `${message}; ${held.message}` };
    }
    return { kind: 'refused', status: 401, code: 'E_LOGIN', message };
  }

  private newToken(p: Omit<Pending, 'expiresAt' | 'attempts' | 'done'>): string {
    const now = this.now();
    for (const [token, entry] of this.pending) if (entry.expiresAt <= now) this.pending.delete(token);
    const token = randomBytes(24).toString('base64url');
    this.pending.set(token, { ...p, expiresAt: now + this.limits.pendingMs, attempts: 0, done: false });
    return token;
  }

  /** The token's pending sign-in when it is at this stage and still usable; else the token is dropped. */
  private live(loginToken: string, stage: Pending['stage']): Pending | undefined {
    const pending = this.pending.get(loginToken);
    if (pending?.stage === stage && pending.expiresAt > this.now() && !pending.done) return pending;
    this.pending.delete(loginToken);
    return undefined;
  }

  /** Every factor proved (and a new password chosen if one was due): the session, and this browser remembered. */
  private async signedIn(user: PublicUser, client: LoginClient): Promise<LoginOutcome> {
    const deviceToken = await this.devices.remember(client.deviceToken, user.username, this.now());
    return { kind: 'session', user, deviceToken };
  }

  /**
   * A signed-in user proves it is still them before changing their own password: the same limits as sign-in, so an
   * unattended session cannot be used to guess the password.
   */
  async confirm(
    username: string,
    password: string,
    client: LoginClient,
  ): Promise<{ kind: 'confirmed' } | Refused> {
    const keys = await this.keysFor(username, client);
    const reservation = await this.reserve(keys);
    if ('kind' in reservation) return reservation;
    this.stats.passwordChecks += 1;
    if (await this.users.verify(username, password)) {
      await this.refund(reservation);
      return { kind: 'confirmed' };
    }
    return this.failed(keys, 'http: wrong current password', 'your current password is wrong');
  }

  async password(username: string, password: string, client: LoginClient): Promise<LoginOutcome> {
    const keys = await this.keysFor(username, client);
    const reservation = await this.reserve(keys);
    if ('kind' in reservation) return reservation;
    let outcome: LoginOutcome = expired();
    await this.queue.run(username, async () => {
      this.stats.passwordChecks += 1;
      const user = await this.users.verify(username, password);
      if (!user) {
        const known = (await this.users.get(username)) !== undefined;
        outcome = this.failed(keys, 'http: failed login', 'wrong username or password', known);
        return;
      }
      const record = await this.users.get(username);
      if (requiresTotp(user.roles)) {
        // The password was right; the codes that follow are counted on their own.
        await this.refund(reservation);
        if (record?.totpSecret) {
          outcome = { kind: 'totp', loginToken: this.newToken({ username, stage: 'totp', keys }) };
          return;
        }
        // First sign-in of a TOTP role, or after a reset: enrol before any session exists.
        const secret = generateTotpSecret();
        outcome = {
          kind: 'enrol',
          loginToken: this.newToken({ username, stage: 'totp', keys, enrolSecret: secret }),
          secret,
          otpauthUri: otpauthUri(this.options.issuer ?? 'phones-away', username, secret),
        };
        return;
      }
      await this.refund(reservation, ['account', 'device']);
      outcome = record?.mustChangePassword
        ? { kind: 'new-password', loginToken: this.newToken({ username, stage: 'new-password', keys }) }
        : await this.signedIn(user, client);
    });
    return outcome;
  }

  async totp(loginToken: string, code: string, client: LoginClient): Promise<LoginOutcome> {
    const pending = this.live(loginToken, 'totp');
    if (!pending) return expired();
    const { username, keys } = pending;
    // Both counts are taken before any await: the token's and the limits'.
    const result = this.guard.reserve(keys, this.now());
    if (!result.ok) {
      this.pending.delete(loginToken);
      return this.heldBack(result.kind, result.waitMs);
    }
    pending.attempts += 1;
    if (pending.attempts >= this.limits.pendingAttempts) this.pending.delete(loginToken);
    await this.guard.save(keys);
    const reservation = result.reservation;
    let outcome: LoginOutcome = expired();
    // Serialised per user, so one code cannot open two sessions in a race; the state is checked again inside.
    await this.queue.run(username, async () => {
      const record = await this.users.get(username);
      if (pending.done || !record || record.disabled) {
        await this.refund(reservation);
        this.pending.delete(loginToken);
        return;
      }
      const secret = pending.enrolSecret ?? record.totpSecret;
      this.stats.codeChecks += 1;
      const step = secret ? verifyTotp(secret, code, this.now(), record.totpLastStep ?? -1) : null;
      if (step === null) {
        const last = pending.attempts >= this.limits.pendingAttempts;
        outcome = this.failed(
          keys,
          'http: failed totp',
          last ? 'wrong or reused code; start again' : 'wrong or reused code',
        );
        if (last && outcome.kind === 'refused' && outcome.code === 'E_LOGIN')
          outcome.code = 'E_LOGIN_EXPIRED';
        return;
      }
      pending.done = true;
      this.pending.delete(loginToken);
      if (pending.enrolSecret) await this.users.enrolTotp(username, pending.enrolSecret, step);
      else await this.users.useTotpStep(username, step);
      await this.refund(reservation, ['account', 'device']);
      outcome = record.mustChangePassword
        ? { kind: 'new-password', loginToken: this.newToken({ username, stage: 'new-password', keys }) }
        : await this.signedIn({ username, roles: record.roles, disabled: false }, client);
    });
    return outcome;
  }

  /** The new password a reset asked for: the password policy applies, and it must differ from the one given. */
  async newPassword(loginToken: string, password: string, client: LoginClient): Promise<LoginOutcome> {
    const pending = this.live(loginToken, 'new-password');
    if (!pending) return expired();
    pending.attempts += 1;
    if (pending.attempts >= NEW_PASSWORD_TRIES) this.pending.delete(loginToken);
    const { username } = pending;
    let outcome: LoginOutcome = expired();
    await this.queue.run(username, async () => {
      const record = await this.users.get(username);
      if (pending.done || !record || record.disabled) return;
      const refuse = (code: string, message: string, fields?: string[]) => {
        outcome = { kind: 'refused', status: 400, code, message, ...(fields ? { fields } : {}) };
      };
      if (await this.users.verify(username, password)) {
        refuse('E_SAME_PASSWORD', 'choose a password different from the one you were given', [
          'password: choose a password different from the one you were given',
        ]);
        return;
      }
      try {
        await this.users.setPassword(username, password, this.now(), `user:${username}`);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        refuse(error.code, error.message, error.problems.length ? error.problems : undefined);
        return;
      }
      pending.done = true;
      this.pending.delete(loginToken);
      outcome = await this.signedIn({ username, roles: record.roles, disabled: false }, client);
    });
    return outcome;
  }
}
