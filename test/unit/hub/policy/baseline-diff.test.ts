/** The school's policy matrix against the trust's baseline, cell by cell (P8), and the baseline document's schema. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../hub/errors.js';
import { baselineDifferences } from '../../../../hub/policy/baseline-diff.js';
import { dfe2026Policy, seedPolicy } from '../../../../hub/policy/presets.js';
import { readBaseline } from '../../../../hub/trust/trust-share.js';
import type { Policy } from '../../../../schemas/config.js';
import { check } from '../../../../schemas/validate.js';

const baselineOf = (policy: Policy) => ({ v: 1 as const, name: 'Trust phone-free day', policy });

describe('baselineDifferences', () => {
  it('P8: a school on the same matrix as the baseline has no difference', () => {
    expect(baselineDifferences(seedPolicy(), baselineOf(seedPolicy()))).toEqual([]);
  });

  it('P8: the order cells are listed in, and warning or grace minutes, are not matrix differences', () => {
    const school = { ...seedPolicy(), warningMinutes: 10, graceMinutes: 0 };
    school.matrix = [...school.matrix].reverse();
    expect(baselineDifferences(school, baselineOf(seedPolicy()))).toEqual([]);
  });

  it("P8: a cell missing from either matrix reads as 'no', as the engine reads it", () => {
    const base = seedPolicy();
    // Staff at break in a designated area is 'yes' in the seed preset; drop it from the school's matrix.
    const school: Policy = {
      ...base,
      matrix: base.matrix.filter(
        (r) => !(r.role === 'staff' && r.time === 'break' && r.zone === 'designated-phone-area'),
      ),
    };
    expect(baselineDifferences(school, baselineOf(base))).toEqual([
      { zone: 'designated-phone-area', audience: 'staff', time: 'break', school: 'no', baseline: 'yes' },
    ]);
    // Dropping a cell the baseline says 'no' to (pupils in lessons in curriculum areas) changes nothing.
    const noCell: Policy = {
      ...base,
      matrix: base.matrix.filter(
        (r) => !(r.role === 'pupil' && r.time === 'lesson' && r.zone === 'curriculum'),
      ),
    };
    expect(baselineDifferences(noCell, baselineOf(base))).toEqual([]);
    expect(baselineDifferences(base, baselineOf(noCell))).toEqual([]);
  });

  it('P1, P4, P8: a seed-preset school against a DfE 2026 baseline differs in exactly the 13 cells the presets disagree on', () => {
    const diff = baselineDifferences(seedPolicy(), baselineOf(dfe2026Policy()));
    expect(diff).toHaveLength(13);
    // P4: staff at break and lunch in designated areas: the seed allows, DfE 2026 only if unavoidable.
    expect(diff).toContainEqual({
      zone: 'designated-phone-area',
      audience: 'staff',
      time: 'lunch',
      school: 'yes',
      baseline: 'if-unavoidable',
    });
    // P1: staff in the office during lessons: seed 'if-unavoidable', DfE 2026 'no'.
    expect(diff).toContainEqual({
      zone: 'office',
      audience: 'staff',
      time: 'lesson',
      school: 'if-unavoidable',
      baseline: 'no',
    });
    // P2: the seed keeps pupils' phones stored after school; DfE 2026 leaves after-school use outside curriculum areas.
    expect(diff).toContainEqual({
      zone: 'office',
      audience: 'pupil',
      time: 'after-school',
      school: 'no',
      baseline: 'yes',
    });
    // Curriculum areas are 'no' in both at every time (P4): never a difference there.
    expect(diff.filter((d) => d.zone === 'curriculum')).toEqual([]);
    // Fixed order: pupils first, then staff.
    expect(diff.map((d) => d.audience)).toEqual([...Array(6).fill('pupil'), ...Array(7).fill('staff')]);
  });

  it('P8: the difference is the same read from either side, with school and baseline swapped', () => {
    const there = baselineDifferences(seedPolicy(), baselineOf(dfe2026Policy()));
    const back = baselineDifferences(dfe2026Policy(), baselineOf(seedPolicy()));
    expect(back).toEqual(there.map((d) => ({ ...d, school: d.baseline, baseline: d.school })));
  });
});

describe('TrustBaseline schema', () => {
  it('accepts a baseline built from a preset', () => {
    expect(check('trust-baseline', baselineOf(dfe2026Policy())).ok).toBe(true);
  });

  it('rejects an unknown version, an unknown permission and an extra field, naming each', () => {
    const bad = baselineOf(seedPolicy()) as Record<string, unknown>;
    const policy = seedPolicy();
    (policy.matrix[0] as Record<string, unknown>).phones = 'sometimes';
    const result = check('trust-baseline', { ...bad, v: 2, policy, extra: true });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.error.problems.join('\n');
    expect(text).toMatch(/\/v: must be equal to constant/);
    expect(text).toMatch(/\/policy\/matrix\/0\/phones: must be equal to one of the allowed values/);
    expect(text).toMatch(/must NOT have additional properties 'extra'/);
  });
});

describe('config/trust-baseline.example.json', () => {
  const file = join(import.meta.dirname, '..', '..', '..', '..', 'config', 'trust-baseline.example.json');

  it('P8: is a valid baseline document, the DfE 2026 preset, that a school on the same preset does not differ from', () => {
    const baseline = readBaseline(file);
    expect(baseline.policy).toEqual(dfe2026Policy());
    expect(baselineDifferences(dfe2026Policy(), baseline)).toEqual([]);
  });

  it('a file that cannot be read is refused with the reason, as a configuration problem', () => {
    expect(() => readBaseline(`${file}.missing`)).toThrow(ConfigError);
  });
});
