/**
 * Which devices a staged roll-out reaches, pure: the admin widens it one step at a time, one room, then a
 * percentage of the fleet, then everyone, and each step only adds devices. A roll-out stops by itself when more than
 * `maxRollbacks` devices have rolled back.
 */
import { createHash } from 'node:crypto';

export type RolloutStep =
  | { kind: 'room'; room: string }
  | { kind: 'percent'; percent: number }
  | { kind: 'everyone' };

const ORDER: Record<RolloutStep['kind'], number> = { room: 0, percent: 1, everyone: 2 };

/** Why `next` may not follow `steps`, or null when it may. */
export function stepProblem(steps: readonly RolloutStep[], next: RolloutStep): string | null {
  const last = steps.at(-1);
  if (!last) return next.kind === 'room' ? null : 'start with one room';
  if (last.kind === 'everyone') return 'the update is already offered to every device';
  if (ORDER[next.kind] < ORDER[last.kind])
    return 'a roll-out only widens: one room, then a percentage, then everyone';
  if (next.kind === 'room' && last.kind === 'room') return 'one room first; then a percentage of the fleet';
  if (next.kind === 'percent' && (next.percent < 1 || next.percent > 100))
    return 'a percentage from 1 to 100';
  if (next.kind === 'percent' && last.kind === 'percent' && next.percent <= last.percent)
    return `more than the ${last.percent}% already offered`;
  return null;
}

export interface FleetDevice {
  id: string;
  room: string;
}

/**
 * The devices offered the update after `steps`. A percentage is of the whole fleet, the devices already offered
 * included; the rest are picked by a hash of (roll-out id, device id): stable across calls and hub restarts, spread
 * over rooms, and each larger percentage contains the smaller one.
 */
export function targetsOf(
  rolloutId: string,
  devices: readonly FleetDevice[],
  steps: readonly RolloutStep[],
): Set<string> {
  const out = new Set<string>();
  const ranked = [...devices]
    .map((d) => ({ d, rank: createHash('sha256').update(`${rolloutId}:${d.id}`).digest('hex') }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .map((x) => x.d);
  for (const step of steps) {
    if (step.kind === 'room') for (const d of devices) if (d.room === step.room) out.add(d.id);
    if (step.kind === 'percent') {
      // The share is of the whole fleet, counting the devices already offered (the first room's among them).
      const want = Math.ceil((devices.length * step.percent) / 100);
      for (const d of ranked) {
        if (out.size >= want) break;
        out.add(d.id);
      }
    }
    if (step.kind === 'everyone') for (const d of devices) out.add(d.id);
  }
  return out;
}

export function rolledBack(progress: Readonly<Record<string, { stage: string }>>): number {
  return Object.values(progress).filter((p) => p.stage === 'rolled-back').length;
}

export function shouldHalt(
  progress: Readonly<Record<string, { stage: string }>>,
  maxRollbacks: number,
): boolean {
  return rolledBack(progress) > maxRollbacks;
}
