/**
 * A trustee or a member of trust IT who leaves (S1, S5): the leader disables their account on the Accounts page, and
 * their open session ends at once and their next sign-in is refused; enabled again, they sign in. Before, a trust
 * account could never be disabled: a departed trustee kept reading the trust's figures. On the real trust server over
 * HTTP, with sessions opened by the trust's own sign-in steps. The shared store is a closed port: nothing here reads it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../hub/log.js';
import { totpCode } from '../../../hub/users/totp.js';
import type { TrustConfig } from '../../../schemas/trust.js';
import { startTrust, type TrustServer } from '../../../trust/main.js';

const TRUSTEE = { username: 'tess', password: 'a trustee passphrase 2026' };

describe('disabling a trust account (S1, S5)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-trust-disable-'));
  let trust: TrustServer;

  /** A session through the trust's own steps (password, then enrolling the authenticator): its cookie and form token. */
  async function sessionOf(username: string, password: string) {
    const first = await trust.signIn.password(username, password, '127.0.0.1', Date.now());
    if (first.kind !== 'enrol') throw new Error(`sign-in of ${username}: ${first.kind}`);
    const done = await trust.signIn.code(first.loginToken, totpCode(first.secret, Date.now()), Date.now());
    if (done.kind !== 'session') throw new Error(`code of ${username}: ${done.kind}`);
    return { cookie: `pa_trust=${done.token}`, csrf: done.session.csrf };
  }
  const get = (path: string, cookie: string) =>
    fetch(`${trust.url}${path}`, { headers: { cookie }, redirect: 'manual' });
  /** A page answered for the session (its figures may be unavailable: the store is a closed port), not a sign-in. */
  const signedIn = async (cookie: string) => (await get('/compliance', cookie)).status !== 303;
  const setDisabled = (
    as: { cookie: string; csrf: string },
    username: string,
    disabled: boolean,
    csrf = as.csrf,
  ) =>
    fetch(`${trust.url}/accounts/${username}/disabled`, {
      method: 'POST',
      headers: { cookie: as.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, disabled: String(disabled) }).toString(),
      redirect: 'manual',
    });

  beforeAll(async () => {
    const config: TrustConfig = {
      v: 1,
      name: 'Riverside Learning Trust',
      dataDir: join(dir, 'trust'),
      http: { host: '127.0.0.1', port: 0 },
      store: { url: 'http://127.0.0.1:9', database: 'trust' },
      schools: [{ site: 'north-school', name: 'North School' }],
    };
    trust = await startTrust(config, { log: silentLogger });
    await trust.accounts.add(TRUSTEE.username, TRUSTEE.password, ['trustee'], Date.now());
  });

  afterAll(async () => {
    await trust?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('S1, S5: disabled, the trustee loses the open session and cannot sign in; enabled, signs in again', async () => {
    const leaderAccount = trust.firstRunLeader;
    if (!leaderAccount) throw new Error('no first-run leader');
    // The first-run password is replaced at first sign-in: the leader's account as it would be after it.
    const leader = await (async () => {
      const first = await trust.signIn.password(
        leaderAccount.username,
        leaderAccount.password,
        '127.0.0.1',
        Date.now(),
      );
      if (first.kind === 'enrol') {
        const done = await trust.signIn.code(
          first.loginToken,
          totpCode(first.secret, Date.now()),
          Date.now(),
        );
        if (done.kind === 'session') return { cookie: `pa_trust=${done.token}`, csrf: done.session.csrf };
        if (done.kind === 'new-password') {
          const saved = await trust.signIn.newPassword(
            done.loginToken,
            'copper lantern orchard 77',
            Date.now(),
          );
          if (saved.kind === 'session')
            return { cookie: `pa_trust=${saved.token}`, csrf: saved.session.csrf };
        }
      }
      throw new Error('leader sign-in did not open a session');
    })();
    const trustee = await sessionOf(TRUSTEE.username, TRUSTEE.password);
    expect(await signedIn(trustee.cookie)).toBe(true);

    // A forged form (no session token) and the leader's own account are refused; nothing changes.
    expect((await setDisabled(leader, TRUSTEE.username, true, 'guessed')).status).toBe(403);
    expect((await setDisabled(leader, leaderAccount.username, true)).status).toBe(400);
    expect((await setDisabled(trustee, TRUSTEE.username, true)).status).toBe(403); // a trustee manages no account
    expect(await signedIn(trustee.cookie)).toBe(true);

    const disabled = await setDisabled(leader, TRUSTEE.username, true);
    expect(disabled.status).toBe(200);
    expect(await disabled.text()).toContain(`Account ${TRUSTEE.username} disabled`);
    // The open session ended: sent to sign in.
    const after = await get('/compliance', trustee.cookie);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/login');
    expect(
      (await trust.signIn.password(TRUSTEE.username, TRUSTEE.password, '127.0.0.1', Date.now())).kind,
    ).toBe('refused');

    expect((await setDisabled(leader, TRUSTEE.username, false)).status).toBe(200);
    const back = await trust.signIn.password(
      TRUSTEE.username,
      TRUSTEE.password,
      '127.0.0.1',
      Date.now() + 30_000,
    );
    expect(back.kind).toBe('code');
  });
});
