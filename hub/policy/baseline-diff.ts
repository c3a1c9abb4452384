/**
 * How a school's policy matrix differs from the trust's baseline. Pure: both hub and trust
 * view read the same cells. Every role × time × zone cell is compared as the engine reads it, so a cell missing from
 * one matrix counts as 'no' (phone-free by default, P8) and two matrices that list the same cells in another order, or
 * that differ only by a missing cell the other says 'no' to, have no difference.
 */
import {
  type Permission,
  type Policy,
  ROLES,
  TIME_KINDS,
  type TimeKind,
  ZONE_KINDS,
  type ZoneKind,
} from '../../schemas/config.js';
import { permissionAt } from './policy-engine.js';

/** One cell where the school's matrix and the baseline disagree. */
export interface BaselineDifference {
  zone: ZoneKind;
  audience: (typeof ROLES)[number];
  time: TimeKind;
  school: Permission;
  baseline: Permission;
}

/** The cells where the school differs from the baseline, in a fixed order: audience, then time, then zone. */
export function baselineDifferences(
  schoolPolicy: Policy,
  baseline: { policy: Policy },
): BaselineDifference[] {
  const out: BaselineDifference[] = [];
  for (const audience of ROLES)
    for (const time of TIME_KINDS)
      for (const zone of ZONE_KINDS) {
        const school = permissionAt(schoolPolicy, audience, time, zone);
        const base = permissionAt(baseline.policy, audience, time, zone);
        if (school !== base) out.push({ zone, audience, time, school, baseline: base });
      }
  return out;
}
