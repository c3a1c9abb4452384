/** S8: out of date means older than the version the hub expects, never "older than the newest in the fleet". */
import { describe, expect, it } from 'vitest';
import { compareVersions, isOutOfDate, softwareStatus } from '../../../../hub/devices/software-version.js';

const fleet = (versions: (string | undefined)[]) =>
  versions.map((software, i) => ({ id: `d${i}`, software }));

describe('S8: device software against the expected version', () => {
  it('S8: an all-old fleet is all flagged against the hub version', () => {
    expect(softwareStatus(fleet(['0.9.0', '0.9.0', '0.9.0']), '1.2.0')).toEqual({
      expected: '1.2.0',
      source: 'hub',
      outOfDate: ['d0', 'd1', 'd2'],
    });
  });

  it('S8: a configured expected version wins over the hub version; current and newer devices are not flagged', () => {
    const status = softwareStatus(fleet(['1.1.9', '1.2.0', '1.3.0', undefined]), '9.9.9', '1.2.0');
    expect(status).toEqual({ expected: '1.2.0', source: 'configured', outOfDate: ['d0'] });
  });

  it('S8: versions compare by number, not text (1.10.0 is newer than 1.9.2)', () => {
    expect(compareVersions('1.10.0', '1.9.2')).toBeGreaterThan(0);
    expect(isOutOfDate('1.9.2', '1.10.0')).toBe(true);
    expect(isOutOfDate('1.10.0', '1.10.0')).toBe(false);
    expect(isOutOfDate(undefined, '1.0.0')).toBe(false); // never reported: unknown, not flagged
  });
});
