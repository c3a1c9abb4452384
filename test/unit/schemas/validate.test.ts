import { describe, expect, it } from 'vitest';
import { check, parse, parsePayload, ValidationError } from '../../../schemas/validate.js';

const report = {
  v: 1,
  id: 'room-1-locker:7',
  seq: 7,
  ts: 1_790_000_000_000,
  urgency: 'normal',
  pressMs: 180,
  queuedMs: 0,
};

describe('schema validation', () => {
  it('accepts a valid report and returns it unchanged', () => {
    expect(parse('report', report)).toEqual(report);
  });

  it('names every bad field as path: message', () => {
    const result = check('report', { ...report, seq: 0, urgency: 'panic', pupil: 'Alice' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(ValidationError);
    expect(result.error.problems).toEqual(
      expect.arrayContaining([
        '/seq: must be >= 1',
        '/urgency: must be equal to one of the allowed values (normal, urgent)',
        "/: must NOT have additional properties 'pupil'",
      ]),
    );
  });

  it('D1: a report has no field that could carry who pressed the button', () => {
    expect(check('report', { ...report, name: 'x' }).ok).toBe(false);
    expect(check('report', { ...report, userId: 'x' }).ok).toBe(false);
  });

  it('rejects bytes that are not JSON, and oversized payloads, with a reason', () => {
    const notJson = parsePayload('report', Buffer.from('{"v":1,'));
    expect(notJson.ok || notJson.error.problems).toEqual(['/: not valid JSON']);
    const big = parsePayload('report', Buffer.alloc(20_000, 0x20));
    expect(big.ok || big.error.problems[0]).toMatch(/too large/);
  });

  it('validates commands by kind', () => {
    expect(
      check('command', { v: 1, id: 'c1', ts: 1, kind: 'lock', locked: true, reason: 'timetable' }).ok,
    ).toBe(true);
    expect(
      check('command', { v: 1, id: 'c1', ts: 1, kind: 'lock', locked: 'yes', reason: 'timetable' }).ok,
    ).toBe(false);
    expect(check('command', { v: 1, id: 'c1', ts: 1, kind: 'explode' }).ok).toBe(false);
  });
});
