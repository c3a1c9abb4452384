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

/** P1, P5: formal school time besides lessons: registration and assembly. */
const formalTime = (time: PolicyRule['time']) =>
  time === 'lesson' || time === 'registration' || time === 'assembly';

/**
 * Seed policy (seeds 000–003). Each choice, with the seed words it rests on:
 * - Pupils: 'no' in every zone at every time, before and after school included. Seed 000: pupils' phones "will then be
 *   stored in the office"; seed 003: "stored in the school office until collection at the end of the day"; seed 002:
 *   pupils' phones "not allowed in school", used outside lessons "No". No seed lets a pupil use a phone on site, so
 *   no sign ever shows plain phones-allowed under this preset: where staff may, it shows staff-phones-only (P2-P4).
 * - Staff in curriculum areas: 'no' at every time, before and after school included. Seed 000: staff "are not
 *   permitted to use their mobile phones within curriculum areas" and "not permitted to use their mobile phone in the
 *   classroom", with no time exception (P4).
 * - Staff in lessons and formal school time (registration, assembly) outside curriculum areas: 'if-unavoidable' (seed
 *   002's "Not if avoidable"; seed 000/003: "not ... during lessons or formal school time", P1, P5).
 * - Staff at break and lunch: 'yes' in designated phone areas only (seed 001/003 "Staff may use their phones during
 *   break times"; seed 000 "Designated areas at Reception and in staff areas permit the use of phones"). The office is
 *   not a designated area, so staff there are 'if-unavoidable' all school day (seed 000: a member of staff expecting
 *   a call leaves the phone with the office).
 * - Staff before and after school, outside curriculum areas: 'yes'. The seeds are silent on these hours; we choose
 *   'yes' because seed 002 allows staff phones "outside of lessons", no pupils are taught then, and seed 000's only
 *   time-free limit is the curriculum area, which stays 'no'.
 * - 'closed' cells are never read for signage (a closed day shows 'off'); they follow the before/after-school cells.
 */
export const seedPolicy = (): Policy =>
  build('seed', (role, time, zone) => {
    if (role === 'pupil' || zone === 'curriculum') return 'no';
    if (!schoolDay(time)) return 'yes';
    if (formalTime(time)) return 'if-unavoidable';
    return zone === 'designated-phone-area' ? 'yes' : 'if-unavoidable';
  });

/**
 * DfE 2026 phone-free day (January 2026 guidance): phone-free by default through the whole school day, lessons,
 * breaks and lunch; exceptions only by exemption (P6). Staff use only where unavoidable, away from pupils. Never in a
 * curriculum area, at any hour (P4). Outside school hours the guidance is silent: phones are allowed outside
 * curriculum areas, to pupils and staff alike (the office hands pupils' phones back at home time).
 */
export const dfe2026Policy = (): Policy =>
  build('dfe-2026', (role, time, zone) => {
    // Seed 000's "not ... in the classroom" has no time exception, and DfE 2026 is stricter, never looser (P4).
    if (zone === 'curriculum') return 'no';
    if (!schoolDay(time)) return 'yes';
    if (role === 'pupil') return 'no';
    return zone === 'designated-phone-area' ? 'if-unavoidable' : 'no';
  });

export function presetPolicy(preset: 'seed' | 'dfe-2026'): Policy {
  return preset === 'seed' ? seedPolicy() : dfe2026Policy();
}
