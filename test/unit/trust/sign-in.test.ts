/**
 * Trust sign-in, as logic (S1, S3): the hub's growing waits after five wrong passwords on one account, a refused code
 * leaves the step open until its fifth try, a code is not accepted twice, and a session ends after 30 idle minutes.
 * The accounts store is a fake here; the real one (LevelDB, sealed secrets) is in test/e2e/trust-view.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { totpCode } from '../../../hub/users/totp.js';
import type { TrustAccount, TrustAccounts } from '../../../trust/accounts.js';
import { IDLE_LIMIT_MS, TrustSignIn } from '../../../trust/sign-in.js';

function fakeAccounts(password: string) {
  let account: TrustAccount = {
    username: 'tess',
    roles: ['trustee'],
    passwordHash: 'x',
    disabled: false,
    createdAt: 0,
  };
  let secret: string | undefined;
  const fake = {
    verifyPassword: async (u: string, p: string) =>
      u === account.username && p === password ? account : null,
    account: async (u: string) => (u === account.username ? account : undefined),
    totpSecret: () => secret,
    enrolTotp: async (_u: string, s: string, step: number) => {
      secret = s;
      account = { ...account, totpSealed: 'sealed', totpLastStep: step };
    },
    useTotpStep: async (_u: string, step: number) => {
      account = { ...account, totpLastStep: step };
    },
  };
  return fake as unknown as TrustAccounts;
}

const T0 = Date.UTC(2026, 11, 5, 9);

describe('trust sign-in', () => {
  it('S1: after five wrong passwords the account waits, even for the right one', async () => {
    const signIn = new TrustSignIn(fakeAccounts('right password 1234'), 'Trust');
    for (let i = 0; i < 5; i++)
      expect((await signIn.password('tess', 'wrong', '10.0.0.1', T0)).kind).toBe('refused');
    const held = await signIn.password('tess', 'right password 1234', '10.0.0.1', T0 + 1000);
    expect(held).toMatchObject({ kind: 'refused', retryAfterS: 29 });
    const later = await signIn.password('tess', 'right password 1234', '10.0.0.1', T0 + 31_000);
    expect(later.kind).toBe('enrol');
  });

  it('S3: enrols at first sign-in; a wrong code leaves the step open; the same code is not accepted twice', async () => {
    const signIn = new TrustSignIn(fakeAccounts('right password 1234'), 'Trust');
    const first = await signIn.password('tess', 'right password 1234', '10.0.0.1', T0);
    if (first.kind !== 'enrol') throw new Error(first.kind);
    const wrong = await signIn.code(first.loginToken, '000000', T0);
    expect(wrong).toMatchObject({ kind: 'refused', again: { kind: 'enrol', secret: first.secret } });
    const code = totpCode(first.secret, T0);
    const ok = await signIn.code(first.loginToken, code, T0);
    expect(ok.kind).toBe('session');

    const second = await signIn.password('tess', 'right password 1234', '10.0.0.1', T0 + 1000);
    if (second.kind !== 'code') throw new Error(second.kind);
    expect((await signIn.code(second.loginToken, code, T0 + 1000)).kind).toBe('refused');
    const next = await signIn.code(second.loginToken, totpCode(first.secret, T0 + 30_000), T0 + 30_000);
    expect(next.kind).toBe('session');
    if (next.kind !== 'session') return;
    expect(IDLE_LIMIT_MS, 'S2: locked after 10 minutes idle').toBe(10 * 60_000);
    expect(signIn.session(next.token, T0 + 30_000 + IDLE_LIMIT_MS)?.username).toBe('tess');
    expect(signIn.session(next.token, T0 + 30_000 + 2 * IDLE_LIMIT_MS + 1)).toBeUndefined();
  });
});
