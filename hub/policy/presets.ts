/**
 * The two shipped policy presets as data (P8: the matrix is configuration, not code). A school starts from one and
 * edits the matrix; the engine reads only the matrix.
 */
import {
  type Permission,
  type Policy,
  type PolicyRule,
  TIME_KINDS,
  ZONE_KINDS,
} from '../../schemas/config.js';

type Cell = (role: 'pupil' | 'staff', time: PolicyRule['time'], zone: PolicyRule['zone']) => Permission;

function build(preset: Policy['preset'], cell: Cell): Policy {
  const matrix: PolicyRule[] = [];
  for (const role of ['pupil', 'staff'] as const)
    for (const time of TIME_KINDS)
      for (const zone of ZONE_KINDS) matrix.push({ role, time, zone, phones: cell(role, time, zone) });
  return { preset, warningMinutes: 2, graceMinutes: 5, matrix };
}

const schoolDay = (time: PolicyRule['time']) =>
  time !== 'after-school' && time !== 'closed' && time !== 'before-school';

/**
 * Seed policy (seeds 000–003): no phone use in lessons or formal school time (P1); pupils' phones in the office all
 * day (P2); staff may use phones at break and lunch in designated areas only, never in curriculum areas (P3, P4);
 * staff in lessons "not if avoidable" outside the classroom (P8).
 */
export const seedPolicy = (): Policy =>
  build('seed', (role, time, zone) => {
    if (!schoolDay(time)) return role === 'staff' || zone !== 'curriculum' ? 'yes' : 'no';
    if (role === 'pupil') return 'no';
    if (zone === 'curriculum') return 'no';
    if (time === 'break' || time === 'lunch') return 'yes';
    return 'if-unavoidable';
  });

/**
 * DfE 2026 phone-free day (January 2026 guidance): phone-free by default through the whole school day, lessons,
 * breaks and lunch; exceptions only by exemption (P6). Staff use only where unavoidable, away from pupils.
 */
export const dfe2026Policy = (): Policy =>
  build('dfe-2026', (role, time, zone) => {
    if (!schoolDay(time)) return role === 'staff' || zone !== 'curriculum' ? 'yes' : 'no';
    if (role === 'pupil') return 'no';
    return zone === 'designated-phone-area' ? 'if-unavoidable' : 'no';
  });

export function presetPolicy(preset: 'seed' | 'dfe-2026'): Policy {
  return preset === 'seed' ? seedPolicy() : dfe2026Policy();
}
