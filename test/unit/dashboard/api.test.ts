/** fieldErrors: the hub's `path: message` problems keyed by field, so the dashboard shows each beside its input. */
import { describe, expect, it } from 'vitest';
import { ApiError, fieldErrors } from '../../../dashboard/src/api.js';

const fail = (fields: string[], message = 'invalid') => new ApiError(400, 'E_VALIDATION', message, fields);

describe('fieldErrors', () => {
  it('turns Ajv paths into dotted keys, nested and indexed', () => {
    expect(
      fieldErrors(fail(['/periods/0/start: must be a 24-hour time such as 09:05', '/referral/agency: bad'])),
    ).toEqual({ 'periods.0.start': 'must be a 24-hour time such as 09:05', 'referral.agency': 'bad' });
  });

  it('names a missing property by itself, at the top level and nested', () => {
    expect(
      fieldErrors(
        fail(["/: must have required property 'to'", "/referral: must have required property 'date'"]),
      ),
    ).toEqual({
      to: "must have required property 'to'",
      'referral.date': "must have required property 'date'",
    });
  });

  it('joins two problems with one field, and keeps a whole-body problem under "_"', () => {
    expect(
      fieldErrors(fail(['/rooms: cannot remove room A', '/rooms: cannot remove room B', '/: too big'])),
    ).toEqual({
      rooms: 'cannot remove room A; cannot remove room B',
      _: 'too big',
    });
  });

  it('reads a field from the message when the hub sent no list', () => {
    expect(fieldErrors(new ApiError(400, 'E_VALIDATION', 'text: must not be empty'))).toEqual({
      text: 'must not be empty',
    });
    expect(fieldErrors(new ApiError(400, 'E_VALIDATION', 'invalid incident'))).toEqual({});
  });

  it('is empty for anything that is not an API error (a network failure)', () => {
    expect(fieldErrors(new TypeError('fetch failed'))).toEqual({});
  });
});
