/**
 * Whether a freshly installed version may start, pure: (pending update, running version, now) → decision.
 *
 * A new version gets `maxStarts` starts and `selfCheckMs` from its first start to reach the hub and pass its
 * self-check; after either, the device switches back to the version it came from. Counting starts here (before the
 * device program is even loaded) is what catches a version that crashes at start: systemd restarts it, and each
 * restart passes through this guard.
 */

export interface PendingUpdate {
  /** The offer (update command id) that brought the new version. */
  offer: string;
  from: string;
  to: string;
  /** Starts of `to` so far. */
  attempts: number;
  /** Set on the first start of `to`. */
  deadline: number | null;
}

export interface GuardLimits {
  selfCheckMs: number;
  maxStarts: number;
}

export const GUARD_DEFAULTS: GuardLimits = { selfCheckMs: 120_000, maxStarts: 3 };

export type BootDecision =
  | { kind: 'run'; clearPending: boolean }
  | { kind: 'trial'; pending: PendingUpdate }
  | { kind: 'roll-back'; reason: string };

export function decideBoot(
  pending: PendingUpdate | null,
  running: string,
  now: number,
  limits: GuardLimits,
): BootDecision {
  if (!pending) return { kind: 'run', clearPending: false };
  // The switch never happened, or was already undone: nothing is on trial.
  if (running !== pending.to) return { kind: 'run', clearPending: true };
  if (pending.attempts >= limits.maxStarts)
    return {
      kind: 'roll-back',
      reason: `version ${pending.to} did not start (${pending.attempts} attempts)`,
    };
  if (pending.deadline !== null && now > pending.deadline)
    return { kind: 'roll-back', reason: missedDeadline(pending.to, limits) };
  return {
    kind: 'trial',
    pending: {
      ...pending,
      attempts: pending.attempts + 1,
      deadline: pending.deadline ?? now + limits.selfCheckMs,
    },
  };
}

export const missedDeadline = (version: string, limits: GuardLimits) =>
  `version ${version} did not reach the hub and pass its self-check within ${Math.round(limits.selfCheckMs / 1000)} s`;
