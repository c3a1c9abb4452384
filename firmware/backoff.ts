/**
 * Reconnect delays for the hub link: exponential from `baseMs`, capped at `maxMs`, with ±`jitter` spread so a
 * classroom full of devices does not reconnect in lockstep after the hub restarts. Pure: randomness is an input.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Fraction of the delay, e.g. 0.2 for ±20 %. */
  jitter: number;
}

export const LINK_BACKOFF: Readonly<BackoffOptions> = { baseMs: 1_000, maxMs: 30_000, jitter: 0.2 };

/** Delay before reconnect attempt `attempt` (0 = the first after a loss). `random` is in [0, 1). */
export function backoffDelay(
  attempt: number,
  random: number,
  options: BackoffOptions = LINK_BACKOFF,
): number {
  const n = Math.max(0, Math.floor(attempt));
  // 2^n overflows to Infinity for large n; the cap applies either way.
  const plain = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(n, 52));
  const spread = (Math.min(Math.max(random, 0), 1) * 2 - 1) * options.jitter;
  return Math.max(1, Math.round(plain * (1 + spread)));
}
