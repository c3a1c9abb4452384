import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubDb } from '../../../../hub/db/hub-db.js';
import { LoginFlow } from '../../../../hub/users/login-flow.js';
import { totpCode } from '../../../../hub/users/totp.js';
import { UserStore } from '../../../../hub/users/user-store.js';

const PASSWORD = 'tulip lantern orbit 42';

describe('sign-in flow (S1, S3)', () => {
  let dir: string;
  let db: HubDb;
  let users: UserStore;
  let clock = 1_800_000_000_000;
  const now = () => clock;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pa-login-'));
    db = await HubDb.open(dir);
    users = new UserStore(db);
    await users.add('teacher1', PASSWORD, ['teacher'], clock);
    await users.add('coord', PASSWORD, ['coordinator'], clock);
    await users.add('victim', PASSWORD, ['office'], clock);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('S1: a teacher signs in with a password alone', async () => {
    const flow = new LoginFlow(users, now);
    expect(await flow.password('teacher1', PASSWORD, '10.0.0.1')).toMatchObject({ kind: 'session' });
  });

  it('S3: an incident role enrols TOTP at first sign-in, then needs a fresh code each time', async () => {
    const flow = new LoginFlow(users, now);
    const first = await flow.password('coord', PASSWORD, '10.0.0.2');
    if (first.kind !== 'enrol') throw new Error(`expected enrolment, got ${first.kind}`);
    expect(first.otpauthUri).toContain(first.secret);
    expect(await flow.totp(first.loginToken, '000000', '10.0.0.2')).toMatchObject({ status: 401 });
    const code = totpCode(first.secret, clock);
    expect(await flow.totp(first.loginToken, code, '10.0.0.2')).toMatchObject({ kind: 'session' });
    expect((await users.get('coord'))?.totpSecret).toBe(first.secret);

    const second = await flow.password('coord', PASSWORD, '10.0.0.2');
    if (second.kind !== 'totp') throw new Error(`expected totp, got ${second.kind}`);
    // The same code again is a replay.
    expect(await flow.totp(second.loginToken, code, '10.0.0.2')).toMatchObject({ kind: 'refused' });
    clock += 30_000;
    expect(await flow.totp(second.loginToken, totpCode(first.secret, clock), '10.0.0.2')).toMatchObject({
      kind: 'session',
    });
    // A login token is single-use.
    expect(
      await flow.totp(second.loginToken, totpCode(first.secret, clock + 30_000), '10.0.0.2'),
    ).toMatchObject({
      code: 'E_LOGIN_EXPIRED',
    });
  });

  it('S1: five failures lock the account for 15 minutes, even with the right password', async () => {
    const flow = new LoginFlow(users, now);
    for (let i = 0; i < 4; i += 1)
      expect(await flow.password('victim', 'wrong password!!', `10.1.0.${i}`)).toMatchObject({ status: 401 });
    expect(await flow.password('victim', 'wrong password!!', '10.1.0.9')).toMatchObject({
      status: 429,
      code: 'E_LOCKED',
    });
    expect(await flow.password('victim', PASSWORD, '10.1.0.10')).toMatchObject({ code: 'E_LOCKED' });
    clock += 15 * 60_000;
    expect(await flow.password('victim', PASSWORD, '10.1.0.10')).toMatchObject({ kind: 'session' });
  });

  it('S1: one address spraying many usernames is throttled', async () => {
    const flow = new LoginFlow(users, now, { limits: { maxFailuresPerAddress: 3 } });
    for (const name of ['a1', 'a2'])
      expect(await flow.password(name, 'wrong password!!', '10.2.0.1')).toMatchObject({ status: 401 });
    expect(await flow.password('a3', 'wrong password!!', '10.2.0.1')).toMatchObject({ code: 'E_THROTTLED' });
    expect(await flow.password('teacher1', PASSWORD, '10.2.0.1')).toMatchObject({ code: 'E_THROTTLED' });
    expect(await flow.password('teacher1', PASSWORD, '10.2.0.2')).toMatchObject({ kind: 'session' });
  });
  it("S1: confirming the current password (own password change) shares sign-in's lockout", async () => {
    await users.add('changer', PASSWORD, ['office'], clock);
    const flow = new LoginFlow(users, now);
    expect(await flow.confirm('changer', PASSWORD, '10.3.0.1')).toEqual({ kind: 'confirmed' });
    for (let i = 0; i < 4; i++) {
      expect(await flow.confirm('changer', 'not my password!', '10.3.0.1')).toMatchObject({ status: 401 });
    }
    expect(await flow.confirm('changer', 'not my password!', '10.3.0.1')).toMatchObject({ status: 429 });
    // Locked now, for confirming and for signing in alike, even with the right password.
    expect(await flow.confirm('changer', PASSWORD, '10.3.0.1')).toMatchObject({ code: 'E_LOCKED' });
    expect(await flow.password('changer', PASSWORD, '10.3.0.9')).toMatchObject({ code: 'E_LOCKED' });
  });
});
