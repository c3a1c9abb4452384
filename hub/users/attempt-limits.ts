/**
 * Sign-in attempt limits (S1), pure: a few free attempts, then growing delays (OWASP "Blocking Brute Force Attacks":
 * exponential back-off instead of a fixed lock that anyone can renew on a known username such as `admin`).
 *
 * An attempt is counted *before* its password or code is checked and refunded when it turns out right, so a burst of
 * requests can never have more checks in flight than the limit allows: past the free attempts, one check per delay.
 */

export interface LimitRule {
  /** Attempts counted before any delay applies. */
  freeAttempts: number;
  /** Delay after the last free attempt; doubles with each further failure. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export interface Counter {
  /** Attempts counted (failed, or still being checked). */
  failures: number;
  /** When the last attempt was counted. */
  lastAt: number;
}

/** How long after the last counted attempt the next may be checked. */
export function delayAfter(failures: number, rule: LimitRule): number {
  if (failures < rule.freeAttempts) return 0;
  const doublings = Math.min(failures - rule.freeAttempts, 40);
  return Math.min(rule.maxDelayMs, rule.firstDelayMs * 2 ** doublings);
}

/** Milliseconds until the next attempt may be checked; 0 = now. */
export function waitMs(counter: Counter | undefined, rule: LimitRule, now: number): number {
  if (!counter) return 0;
  return Math.max(0, counter.lastAt + delayAfter(counter.failures, rule) - now);
}

/** A counter left quiet for `forgetMs` starts again from nothing. */
export function current(counter: Counter | undefined, now: number, forgetMs: number): Counter | undefined {
  return counter && now - counter.lastAt < forgetMs ? counter : undefined;
}

/** Plain words for a wait: "40 seconds", "1 minute", "15 minutes". */
export function describeWait(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
