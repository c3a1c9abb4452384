import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubDb } from '../../../../hub/db/hub-db.js';
import { type AttackAlert, type LoginClient, LoginFlow } from '../../../../hub/users/login-flow.js';
import { totpCode } from '../../../../hub/users/totp.js';
import { UserStore } from '../../../../hub/users/user-store.js';

const PASSWORD = 'tulip lantern orbit 42';
const from = (address: string, deviceToken?: string): LoginClient => ({ address, deviceToken });

describe('sign-in flow (S1, S3)', () => {
  let dir: string;
  let db: HubDb;
  let users: UserStore;
  let clock = 1_800_000_000_000;
  const now = () => clock;
  const flow = (options: ConstructorParameters<typeof LoginFlow>[3] = {}) =>
    new LoginFlow(users, db, now, options);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pa-login-'));
    db = await HubDb.open(dir);
    users = new UserStore(db);
    for (const name of ['teacher1', 'victim', 'head2', 'changer', 'burst', 'reset1'])
      await users.add(name, PASSWORD, ['teacher'], clock);
    await users.add('coord', PASSWORD, ['coordinator'], clock);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('S1: a teacher signs in with a password alone, and the browser gets a device token', async () => {
    const outcome = await flow().password('teacher1', PASSWORD, from('10.0.0.1'));
    expect(outcome).toMatchObject({ kind: 'session', deviceToken: expect.stringMatching(/^[\w-]{43}$/) });
  });

  it('S3: an incident role enrols TOTP at first sign-in, then needs a fresh code each time', async () => {
    const login = flow();
    const first = await login.password('coord', PASSWORD, from('10.0.0.2'));
    if (first.kind !== 'enrol') throw new Error(`expected enrolment, got ${first.kind}`);
    expect(first.otpauthUri).toContain(first.secret);
    expect(await login.totp(first.loginToken, '000000', from('10.0.0.2'))).toMatchObject({ status: 401 });
    const code = totpCode(first.secret, clock);
    expect(await login.totp(first.loginToken, code, from('10.0.0.2'))).toMatchObject({ kind: 'session' });
    expect((await users.get('coord'))?.totpSecret).toBe(first.secret);

    const second = await login.password('coord', PASSWORD, from('10.0.0.2'));
    if (second.kind !== 'totp') throw new Error(`expected totp, got ${second.kind}`);
    // The same code again is a replay.
    expect(await login.totp(second.loginToken, code, from('10.0.0.2'))).toMatchObject({ kind: 'refused' });
    clock += 30_000;
    expect(
      await login.totp(second.loginToken, totpCode(first.secret, clock), from('10.0.0.2')),
    ).toMatchObject({
      kind: 'session',
    });
    // A login token is single-use.
    expect(
      await login.totp(second.loginToken, totpCode(first.secret, clock + 30_000), from('10.0.0.2')),
    ).toMatchObject({ code: 'E_LOGIN_EXPIRED' });
  });

  it('S1: after five failures each further try waits longer (30 s, then 60 s); nothing is checked meanwhile', async () => {
    const login = flow();
    for (let i = 0; i < 4; i += 1)
      expect(await login.password('victim', 'wrong password!!', from(`10.1.0.${i}`))).toMatchObject({
        status: 401,
      });
    expect(await login.password('victim', 'wrong password!!', from('10.1.0.9'))).toMatchObject({
      status: 429,
      code: 'E_LOCKED',
      retryAfterS: 30,
    });
    const checks = login.stats.passwordChecks;
    // Held back, even with the right password, from any address: and not checked.
    expect(await login.password('victim', PASSWORD, from('10.1.0.10'))).toMatchObject({
      code: 'E_LOCKED',
      message: expect.stringContaining('a browser you have used before'),
    });
    expect(login.stats.passwordChecks).toBe(checks);
    clock += 30_000;
    expect(await login.password('victim', 'wrong password!!', from('10.1.0.11'))).toMatchObject({
      code: 'E_LOCKED',
      retryAfterS: 60,
    });
    clock += 59_000;
    expect(await login.password('victim', PASSWORD, from('10.1.0.12'))).toMatchObject({ code: 'E_LOCKED' });
    clock += 1_000;
    expect(await login.password('victim', PASSWORD, from('10.1.0.12'))).toMatchObject({ kind: 'session' });
    // A success clears the account's count.
    expect(await login.password('victim', 'wrong password!!', from('10.1.0.13'))).toMatchObject({
      status: 401,
    });
  });

  it('S1: a remembered browser signs in while the account is held back, under its own small limit', async () => {
    const login = flow();
    const first = await login.password('head2', PASSWORD, from('10.4.0.1'));
    if (first.kind !== 'session') throw new Error('expected a session');
    const device = first.deviceToken;
    for (let i = 0; i < 8; i += 1) await login.password('head2', 'wrong password!!', from('10.9.9.9'));
    expect(await login.password('head2', PASSWORD, from('10.4.0.1'))).toMatchObject({ code: 'E_LOCKED' });
    expect(await login.password('head2', PASSWORD, from('10.4.0.1', device))).toMatchObject({
      kind: 'session',
      deviceToken: device,
    });
    // A made-up or other account's token is no help.
    expect(await login.password('head2', PASSWORD, from('10.4.0.1', 'A'.repeat(43)))).toMatchObject({
      code: 'E_LOCKED',
    });
    for (let i = 0; i < 5; i += 1)
      await login.password('head2', 'wrong password!!', from('10.4.0.1', device));
    expect(await login.password('head2', PASSWORD, from('10.4.0.1', device))).toMatchObject({
      code: 'E_LOCKED',
      message: expect.stringContaining('this browser'),
    });
  });

  it('S1: one address spraying many usernames is throttled; others are not', async () => {
    const login = flow({
      limits: { address: { freeAttempts: 3, firstDelayMs: 30_000, maxDelayMs: 60_000 } },
    });
    for (const name of ['a1', 'a2'])
      expect(await login.password(name, 'wrong password!!', from('10.2.0.1'))).toMatchObject({ status: 401 });
    expect(await login.password('a3', 'wrong password!!', from('10.2.0.1'))).toMatchObject({
      code: 'E_THROTTLED',
    });
    expect(await login.password('teacher1', PASSWORD, from('10.2.0.1'))).toMatchObject({
      code: 'E_THROTTLED',
    });
    expect(await login.password('teacher1', PASSWORD, from('10.2.0.2'))).toMatchObject({ kind: 'session' });
  });

  it("S1: confirming the current password (own password change) shares sign-in's limits", async () => {
    const login = flow();
    expect(await login.confirm('changer', PASSWORD, from('10.3.0.1'))).toEqual({ kind: 'confirmed' });
    for (let i = 0; i < 4; i++)
      expect(await login.confirm('changer', 'not my password!', from('10.3.0.1'))).toMatchObject({
        status: 401,
      });
    expect(await login.confirm('changer', 'not my password!', from('10.3.0.1'))).toMatchObject({
      status: 429,
    });
    expect(await login.confirm('changer', PASSWORD, from('10.3.0.1'))).toMatchObject({ code: 'E_LOCKED' });
    expect(await login.password('changer', PASSWORD, from('10.3.0.9'))).toMatchObject({ code: 'E_LOCKED' });
  });

  it('S1: counters survive a restart (a new flow on the same database)', async () => {
    const before = flow();
    for (let i = 0; i < 5; i += 1) await before.password('burst', 'wrong password!!', from('10.5.0.1'));
    const after = flow();
    await after.start();
    expect(await after.password('burst', PASSWORD, from('10.5.0.2'))).toMatchObject({ code: 'E_LOCKED' });
    expect(after.stats.passwordChecks).toBe(0);
  });

  it('S1: 300 attempts at once, the right password at 150: five checks, no session', async () => {
    await users.add('burst2', PASSWORD, ['teacher'], clock);
    const login = flow();
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        login.password(
          'burst2',
          i === 149 ? PASSWORD : `wrong password ${i}`,
          from(`10.6.${i >> 8}.${i & 255}`),
        ),
      ),
    );
    expect(outcomes.filter((o) => o.kind === 'session')).toHaveLength(0);
    expect(login.stats.passwordChecks).toBe(5);
  });

  it('S1: the alert fires once per attack window, not per attempt, and only for real accounts', async () => {
    await users.add('target', PASSWORD, ['teacher'], clock);
    const alerts: AttackAlert[] = [];
    const login = flow({ onAttack: (a) => alerts.push(a) });
    for (let round = 0; round < 3; round += 1) {
      for (let i = 0; i < 6; i += 1) await login.password('target', 'wrong password!!', from(`10.7.0.${i}`));
      clock += 16 * 60_000;
    }
    expect(alerts).toEqual([{ username: 'target', failures: 5, at: expect.any(Number) }]);
    // A right password in between does not start a new window; made-up usernames never alert.
    expect(await login.password('target', PASSWORD, from('10.7.1.1'))).toMatchObject({ kind: 'session' });
    for (let i = 0; i < 6; i += 1) await login.password('target', 'wrong password!!', from(`10.7.2.${i}`));
    for (let i = 0; i < 6; i += 1)
      await login.password('nobody-here', 'wrong password!!', from(`10.7.3.${i}`));
    expect(alerts).toHaveLength(1);
  });

  it('S1: after a reset by someone else, a new password is chosen before any session; the policy applies', async () => {
    await users.setPassword('reset1', 'temporary words 77', clock, 'user:itadmin');
    expect((await users.get('reset1'))?.mustChangePassword).toBe(true);
    const login = flow();
    const first = await login.password('reset1', 'temporary words 77', from('10.8.0.1'));
    if (first.kind !== 'new-password') throw new Error(`expected new-password, got ${first.kind}`);
    expect(await login.newPassword(first.loginToken, 'short', from('10.8.0.1'))).toMatchObject({
      status: 400,
      code: 'E_WEAK_PASSWORD',
    });
    expect(await login.newPassword(first.loginToken, 'temporary words 77', from('10.8.0.1'))).toMatchObject({
      code: 'E_SAME_PASSWORD',
    });
    expect(await login.newPassword(first.loginToken, 'my own choice 2026', from('10.8.0.1'))).toMatchObject({
      kind: 'session',
    });
    expect((await users.get('reset1'))?.mustChangePassword).toBeUndefined();
    expect(await login.newPassword(first.loginToken, 'another choice 2027', from('10.8.0.1'))).toMatchObject({
      code: 'E_LOGIN_EXPIRED',
    });
    expect(await login.password('reset1', 'my own choice 2026', from('10.8.0.1'))).toMatchObject({
      kind: 'session',
    });
  });
});
