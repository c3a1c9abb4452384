import { describe, expect, it } from 'vitest';
import { passwordProblems } from '../../../../hub/users/password-policy.js';

describe('password strength', () => {
  it('S1: accepts a long passphrase', () => {
    expect(passwordProblems('jsmith', 'tulip lantern orbit 42')).toEqual([]);
  });
  it.each([
    ['short', 'Sh0rt!pass', 'at least 12'],
    ['common', 'Password1234', 'too common'],
    ['repetitive', 'abababababab', 'too repetitive'],
    ['containing the username', 'jsmith-is-my-login', 'username'],
  ])('S1: refuses a %s password', (_name, password, problem) => {
    expect(passwordProblems('jsmith', password).join()).toContain(problem);
  });
});
