/**
 * Trust sign-in: password, then a TOTP code (enrolled at the first sign-in), then a session. The limits are the hub's
 * pure rules (hub/users/attempt-limits.ts): a few free attempts per account and per source address, then growing
 * delays; every check is counted before it runs and refunded when right. Counters live in memory: the trust server
 * is one process, and a restart that forgets them still leaves scrypt and the second factor in the way.
 *
 * Sessions are random 256-bit tokens held in memory (a restart signs everyone out), ended after 30 idle minutes,
 * each with its own CSRF token for the few forms that change anything.
 */
import { randomBytes } from 'node:crypto';
import { type Counter, current, describeWait, type LimitRule, waitMs } from '../hub/users/attempt-limits.js';
import { generateTotpSecret, otpauthUri, verifyTotp } from '../hub/users/totp.js';
import { TrustAccountError, type TrustAccounts } from './accounts.js';
import type { TrustRole } from './roles.js';

const MINUTE = 60_000;
/** Signed out after 10 minutes idle, as the school's dashboard (S2): the pages show incident counts. */
export const IDLE_LIMIT_MS = 10 * MINUTE;
const PENDING_MS = 5 * MINUTE;
const PENDING_ATTEMPTS = 5;
/** New-password tries one step allows: policy refusals, not guesses (the person has proved who they are). */
const NEW_PASSWORD_TRIES = 10;
const FORGET_MS = 24 * 60 * MINUTE;
const ACCOUNT_RULE: LimitRule = { freeAttempts: 5, firstDelayMs: 30_000, maxDelayMs: 15 * MINUTE };
const ADDRESS_RULE: LimitRule = { freeAttempts: 20, firstDelayMs: 30_000, maxDelayMs: 60 * MINUTE };

export interface TrustSession {
  username: string;
  roles: TrustRole[];
  csrf: string;
  lastSeen: number;
}

interface Pending {
  username: string;
  stage: 'code' | 'new-password';
  keys: string[];
  enrolSecret?: string;
  expiresAt: number;
  attempts: number;
}

export type PasswordOutcome =
  | { kind: 'code'; loginToken: string }
  | { kind: 'enrol'; loginToken: string; secret: string; otpauthUri: string }
  | { kind: 'refused'; message: string; retryAfterS?: number };

export type CodeOutcome =
  | { kind: 'session'; token: string; session: TrustSession }
  | { kind: 'new-password'; loginToken: string }
  | {
      kind: 'refused';
      message: string;
      retryAfterS?: number;
      again?: PasswordOutcome | { kind: 'new-password'; loginToken: string };
    };

const token = () => randomBytes(32).toString('base64url');

export class TrustSignIn {
  private readonly sessions = new Map<string, TrustSession>();
  private readonly pending = new Map<string, Pending>();
  private readonly counters = new Map<string, Counter>();
  /** Refused sign-in steps, for the log and a test: bad input is counted. */
  refusals = 0;

  constructor(
    private readonly accounts: TrustAccounts,
    private readonly issuer: string,
  ) {}

  /** Counts an attempt against every key; refuses (without counting) while any key is still waiting. */
  private reserve(keys: string[], now: number): { waitMs: number } {
    let wait = 0;
    for (const key of keys) {
      const rule = key.startsWith('addr:') ? ADDRESS_RULE : ACCOUNT_RULE;
      wait = Math.max(wait, waitMs(current(this.counters.get(key), now, FORGET_MS), rule, now));
    }
    if (wait > 0) return { waitMs: wait };
    for (const key of keys) {
      const c = current(this.counters.get(key), now, FORGET_MS);
      this.counters.set(key, { failures: (c?.failures ?? 0) + 1, lastAt: now });
    }
    return { waitMs: 0 };
  }

  private refund(keys: string[]): void {
    for (const key of keys) {
      const c = this.counters.get(key);
      if (c) this.counters.set(key, { ...c, failures: Math.max(0, c.failures - 1) });
    }
  }

  private refused(
    message: string,
    retryAfterMs?: number,
  ): { kind: 'refused'; message: string; retryAfterS?: number } {
    this.refusals += 1;
    return retryAfterMs
      ? { kind: 'refused', message, retryAfterS: Math.ceil(retryAfterMs / 1000) }
      : { kind: 'refused', message };
  }

  async password(username: string, password: string, address: string, now: number): Promise<PasswordOutcome> {
    const keys = [`user:${username}`, `addr:${address}`];
    const { waitMs: wait } = this.reserve(keys, now);
    if (wait > 0) return this.refused(`Too many attempts. Try again in ${describeWait(wait)}.`, wait);
    const account = await this.accounts.verifyPassword(username, password);
    if (!account) return this.refused('Wrong username or password.');
    this.refund(keys);
    const loginToken = token();
    const pending: Pending = { username, stage: 'code', keys, expiresAt: now + PENDING_MS, attempts: 0 };
    this.pending.set(loginToken, pending);
    if (account.totpSealed !== undefined) return { kind: 'code', loginToken };
    pending.enrolSecret = generateTotpSecret();
    return {
      kind: 'enrol',
      loginToken,
      secret: pending.enrolSecret,
      otpauthUri: otpauthUri(this.issuer, username, pending.enrolSecret),
    };
  }

  async code(loginToken: string, code: string, now: number): Promise<CodeOutcome> {
    const pending = this.pending.get(loginToken);
    if (!pending || pending.expiresAt < now || pending.stage !== 'code') {
      this.pending.delete(loginToken);
      return this.refused('That sign-in has expired. Start again.');
    }
    const { waitMs: wait } = this.reserve(pending.keys, now);
    if (wait > 0) return this.refused(`Too many attempts. Try again in ${describeWait(wait)}.`, wait);
    pending.attempts += 1;
    if (pending.attempts >= PENDING_ATTEMPTS) this.pending.delete(loginToken);
    const account = await this.accounts.account(pending.username);
    if (!account || account.disabled) return this.refused('That sign-in has expired. Start again.');
    const secret = pending.enrolSecret ?? this.accounts.totpSecret(account);
    const step = secret ? verifyTotp(secret, code.trim(), now, account.totpLastStep ?? -1) : null;
    if (step === null) {
      const again: PasswordOutcome | undefined = !this.pending.has(loginToken)
        ? undefined
        : pending.enrolSecret
          ? {
              kind: 'enrol',
              loginToken,
              secret: pending.enrolSecret,
              otpauthUri: otpauthUri(this.issuer, pending.username, pending.enrolSecret),
            }
          : { kind: 'code', loginToken };
      return {
        ...this.refused('That code is not right. Enter the current six-digit code.'),
        ...(again ? { again } : {}),
      };
    }
    this.refund(pending.keys);
    this.pending.delete(loginToken);
    if (pending.enrolSecret) await this.accounts.enrolTotp(pending.username, pending.enrolSecret, step);
    else await this.accounts.useTotpStep(pending.username, step);
    if (account.mustChangePassword) {
      // The password the leader handed over is known to them: the holder chooses their own before any session.
      const next = token();
      this.pending.set(next, { ...pending, stage: 'new-password', expiresAt: now + PENDING_MS, attempts: 0 });
      return { kind: 'new-password', loginToken: next };
    }
    return this.open(account.username, account.roles, now);
  }

  /** The last step for an account the leader made: its holder's own password, then a session. */
  async newPassword(loginToken: string, password: string, now: number): Promise<CodeOutcome> {
    const pending = this.pending.get(loginToken);
    if (!pending || pending.expiresAt < now || pending.stage !== 'new-password') {
      this.pending.delete(loginToken);
      return this.refused('That sign-in has expired. Start again.');
    }
    pending.attempts += 1;
    if (pending.attempts >= NEW_PASSWORD_TRIES) this.pending.delete(loginToken);
    try {
      await this.accounts.setOwnPassword(pending.username, password);
    } catch (error) {
      if (!(error instanceof TrustAccountError)) throw error;
      const again = this.pending.has(loginToken)
        ? { again: { kind: 'new-password' as const, loginToken } }
        : {};
      return { ...this.refused(error.message), ...again };
    }
    this.pending.delete(loginToken);
    const account = await this.accounts.account(pending.username);
    if (!account || account.disabled) return this.refused('That sign-in has expired. Start again.');
    return this.open(account.username, account.roles, now);
  }

  private open(username: string, roles: TrustRole[], now: number): CodeOutcome {
    const session: TrustSession = { username, roles, csrf: token(), lastSeen: now };
    const sessionToken = token();
    this.sessions.set(sessionToken, session);
    return { kind: 'session', token: sessionToken, session };
  }

  /** The session of a token, refreshed; undefined when unknown or idle too long. */
  session(sessionToken: string | undefined, now: number): TrustSession | undefined {
    if (!sessionToken) return undefined;
    const session = this.sessions.get(sessionToken);
    if (!session) return undefined;
    if (now - session.lastSeen > IDLE_LIMIT_MS) {
      this.sessions.delete(sessionToken);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  end(sessionToken: string | undefined): void {
    if (sessionToken) this.sessions.delete(sessionToken);
  }

  /** A disabled account loses its sessions at once. */
  endUser(username: string): void {
    for (const [t, s] of this.sessions) if (s.username === username) this.sessions.delete(t);
  }
}
