import { describe, expect, it } from 'vitest';
import { count } from '../../../dashboard/src/format.js';

describe('count', () => {
  it('says "1 incident" and "2 incidents"', () => {
    expect(count(1, 'incident')).toBe('1 incident');
    expect(count(0, 'incident')).toBe('0 incidents');
    expect(count(2, 'pupil report')).toBe('2 pupil reports');
    expect(count(3, 'child', 'children')).toBe('3 children');
  });
});
