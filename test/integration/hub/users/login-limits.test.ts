/**
 * Sign-in limits attacked for real (S1, S3): hundreds of parallel requests over HTTP against a real hub (aedes,
 * LevelDB, private influxd), from several loopback source addresses (127.0.0.x), a real SMTP server for the alert,
 * and a restart on the same data directory. Checks are counted by the hub's own /metrics.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode, totpStep } from '../../../../hub/users/totp.js';
import { type HubFixture, startTestHub, waitFor } from '../../../support/hub-fixture.js';
import { type SmtpCapture, startSmtpCapture } from '../../../support/smtp-capture.js';
import { data, StaffClient } from '../../../support/staff-client.js';

const PASSWORD = 'tulip lantern orbit 42';
const BURST = 300;

/** The scrape token /metrics asks for (hub config metrics.credentialsFile). */
const METRICS_TOKEN = 'login-limits-scrape-token-0123';
const metricsDir = mkdtempSync(join(tmpdir(), 'pa-login-metrics-'));
writeFileSync(join(metricsDir, 'metrics.token'), `${METRICS_TOKEN}\n`, { mode: 0o600 });

async function checks(baseUrl: string): Promise<{ password: number; code: number; heldBack: number }> {
  const response = await fetch(`${baseUrl}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  const read = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
  return {
    password: read(/^phones_away_login_checks_total\{factor="password"\} (\d+)$/m),
    code: read(/^phones_away_login_checks_total\{factor="code"\} (\d+)$/m),
    heldBack: read(/^phones_away_login_held_back_total (\d+)$/m),
  };
}

describe('sign-in limits under attack (S1, S3)', () => {
  let smtp: SmtpCapture;
  let fixture: HubFixture;
  let config: Parameters<typeof startTestHub>[0];
  /** Kept from the first start: a restarted hub has no first-run account to report. */
  let admin: { username: string; password: string };

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    config = {
      config: {
        notifications: {
          dashboardUrl: 'https://hub.school.example/',
          email: {
            host: '127.0.0.1',
            port: smtp.port,
            from: 'hub@school.example',
            to: { admin: ['it@school.example'], dsl: ['dsl@school.example'] },
          },
          retryDelaySeconds: 1,
        },
        metrics: { credentialsFile: join(metricsDir, 'metrics.token') },
        // A long first wait, so the hub's restart below happens well inside it even on a loaded machine.
        login: { account: { firstDelaySeconds: 600, maxDelaySeconds: 3600 } },
      },
    };
    fixture = await startTestHub(config);
    admin = fixture.hub.firstRunAdmin as { username: string; password: string };
    const { users } = fixture.hub;
    for (const name of ['burstpw', 'spray-target']) await users.add(name, PASSWORD, ['teacher'], Date.now());
    for (const name of ['burstcode']) await users.add(name, PASSWORD, ['coordinator'], Date.now());
    await users.add('head1', PASSWORD, ['head'], Date.now());
  });

  afterAll(async () => {
    await fixture?.dispose();
    await smtp?.close();
  });

  it(`S1: ${BURST} passwords at once, the right one at 150: no session, and only 5 checked`, async () => {
    const url = fixture.hub.httpUrl;
    const before = await checks(url);
    const client = new StaffClient(url, 'burstpw', PASSWORD, { source: '127.0.0.10' });
    const replies = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        client.post('/api/login', {
          username: 'burstpw',
          password: i === 149 ? PASSWORD : `wrong password ${i}`,
        }),
      ),
    );
    const after = await checks(url);
    expect(replies.filter((r) => r.status === 200)).toHaveLength(0);
    expect(after.password - before.password).toBe(5);
    expect(replies.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    // The client sees the same: five answers say the password was wrong, the rest were never looked at.
    const message = (r: (typeof replies)[number]) => (r.body.status === 'error' ? r.body.error.message : '');
    expect(replies.filter((r) => message(r).startsWith('wrong username or password'))).toHaveLength(5);
    expect(after.heldBack - before.heldBack).toBe(BURST - 5);
    expect(client.cookies.has('pa_session')).toBe(false);
    expect((await client.get('/api/session')).status).toBe(401);
  });

  it(`S3: ${BURST + 1} codes at once on one sign-in, the right one at 150: no session, only 5 checked, token dead`, async () => {
    const url = fixture.hub.httpUrl;
    const enrolled = new StaffClient(url, 'burstcode', PASSWORD, { source: '127.0.0.11' });
    expect((await enrolled.signIn()).status).toBe(200);
    const secret = enrolled.totpSecret as string;
    const client = new StaffClient(url, 'burstcode', PASSWORD, { source: '127.0.0.12' });
    const first = data(
      await client.post<{ loginToken: string }>('/api/login', { username: 'burstcode', password: PASSWORD }),
    );
    // The next 30-s step: valid now, and not yet used.
    const right = totpCode(secret, Date.now() + 30_000);
    const wrong = (i: number) => {
      const code = String((Number(right) + 1 + i) % 1_000_000).padStart(6, '0');
      return code === right ? '000000' : code;
    };
    const before = await checks(url);
    const replies = await Promise.all(
      Array.from({ length: BURST + 1 }, (_, i) =>
        client.post('/api/login/totp', { loginToken: first.loginToken, code: i === 149 ? right : wrong(i) }),
      ),
    );
    const after = await checks(url);
    expect(replies.filter((r) => r.status === 200)).toHaveLength(0);
    expect(after.code - before.code).toBe(5);
    expect(client.cookies.has('pa_session')).toBe(false);
    // The token stopped working at its fifth code: the right code is refused with it now.
    expect(
      (await client.post('/api/login/totp', { loginToken: first.loginToken, code: right })).body,
    ).toMatchObject({ error: { code: 'E_LOGIN_EXPIRED' } });
  });

  it('S1: one address trying many usernames is held back; other addresses are not', async () => {
    const url = fixture.hub.httpUrl;
    const sprayer = new StaffClient(url, 'x', PASSWORD, { source: '127.0.0.13' });
    const statuses: number[] = [];
    for (let i = 0; i < 22; i += 1)
      statuses.push((await sprayer.post('/api/login', { username: `guess${i}`, password: PASSWORD })).status);
    expect(statuses.slice(0, 19)).toEqual(Array(19).fill(401));
    expect(statuses.slice(19)).toEqual([429, 429, 429]);
    const held = await sprayer.post('/api/login', { username: 'spray-target', password: PASSWORD });
    expect(held.body).toMatchObject({ error: { code: 'E_THROTTLED' } });
    const elsewhere = new StaffClient(url, 'spray-target', PASSWORD, { source: '127.0.0.14' });
    expect((await elsewhere.signIn()).status).toBe(200);
  });

  it("S1, S3: the attacker's address is held back while the head's remembered browser signs in; admins and the DSL are alerted once; a restart keeps it all", async () => {
    const url = fixture.hub.httpUrl;
    // The head's own browser signs in once: the hub remembers it (device cookie).
    const headBrowser = new StaffClient(url, 'head1', PASSWORD, { source: '127.0.0.20' });
    expect((await headBrowser.signIn()).status).toBe(200);
    expect(headBrowser.cookies.get('pa_device')).toMatch(/^[\w-]{43}$/);
    expect((await headBrowser.post('/api/logout')).status).toBe(200);

    // The attacker, from another address, guesses: five are checked, then every try is held back unchecked.
    const attacker = new StaffClient(url, 'head1', PASSWORD, { source: '127.0.0.21' });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1)
      statuses.push(
        (await attacker.post('/api/login', { username: 'head1', password: `xyzzy attempt ${i}` })).status,
      );
    expect(statuses).toEqual([401, 401, 401, 401, ...Array(8).fill(429)]);
    const before = await checks(url);
    const right = await attacker.post('/api/login', { username: 'head1', password: PASSWORD });
    expect(right.status).toBe(429);
    expect(right.body).toMatchObject({ error: { code: 'E_LOCKED' } });
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await checks(url)).password).toBe(before.password);

    // A browser the head never used is held back too, and told what to do.
    const newBrowser = new StaffClient(url, 'head1', PASSWORD, { source: '127.0.0.22' });
    const refused = await newBrowser.post('/api/login', { username: 'head1', password: PASSWORD });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      error: { message: expect.stringContaining('a browser you have used before') },
    });

    // The remembered browser signs in (the next 30-s step: the first one is spent).
    const secondAt = Date.now() + 30_000;
    expect((await headBrowser.signIn(secondAt)).status).toBe(200);
    expect(data(await headBrowser.get<{ username: string }>('/api/session')).username).toBe('head1');

    // One alert, to the admins and the DSL, in plain words and with no password in it.
    const notifier = fixture.hub.safeguarding.notifier;
    if (!notifier) throw new Error('no notifier');
    const alert = await waitFor(() => smtp.mails.find((m) => m.raw.includes('head1')), 'the alert email');
    await notifier.flush();
    expect(smtp.mails.filter((m) => m.raw.includes('head1'))).toHaveLength(1);
    expect(alert.to.sort()).toEqual(['dsl@school.example', 'it@school.example']);
    const unfolded = alert.raw.replace(/\r?\n[ \t]+/g, ' ');
    expect(unfolded).toContain('Subject: [phones-away] Someone may be trying to guess the password of head1');
    expect(alert.raw).not.toContain(PASSWORD);
    expect(alert.raw).not.toContain('xyzzy');

    // Restart on the same data directory: the counts and the remembered browser are still there.
    const dataDir = fixture.dataDir;
    await fixture.stop();
    fixture = await startTestHub({ ...config, dataDir });
    const url2 = fixture.hub.httpUrl;
    const attacker2 = new StaffClient(url2, 'head1', PASSWORD, { source: '127.0.0.21' });
    expect((await attacker2.post('/api/login', { username: 'head1', password: PASSWORD })).status).toBe(429);
    const newBrowser2 = new StaffClient(url2, 'head1', PASSWORD, { source: '127.0.0.22' });
    expect((await newBrowser2.post('/api/login', { username: 'head1', password: PASSWORD })).status).toBe(
      429,
    );
    expect((await checks(url2)).password).toBe(0);

    const headBrowser2 = new StaffClient(url2, 'head1', PASSWORD, { source: '127.0.0.20' });
    headBrowser2.totpSecret = headBrowser.totpSecret;
    headBrowser2.cookies.set('pa_device', headBrowser.cookies.get('pa_device') as string);
    // The step used above is spent: wait for the clock to allow a later one (at most one 30-s step).
    await waitFor(() => totpStep(Date.now()) >= totpStep(secondAt), 'the next TOTP step', 40_000);
    expect((await headBrowser2.signIn(Date.now() + 30_000)).status).toBe(200);

    // Still one alert: the restart did not start a new attack window.
    await fixture.hub.safeguarding.notifier?.flush();
    expect(smtp.mails.filter((m) => m.raw.includes('head1'))).toHaveLength(1);
  });

  it("S1, S3: after an admin's reset the user enrols again and chooses a new password before any session opens", async () => {
    const url = fixture.hub.httpUrl;
    // An account that reads no report, so the admin's resets take effect at once (a report reader's wait for the head
    // or DSL to approve: separation-of-duties.test.ts).
    await fixture.hub.users.add('resetme', PASSWORD, ['admin'], Date.now());
    expect((await new StaffClient(url, 'resetme', PASSWORD, { source: '127.0.0.40' }).signIn()).status).toBe(
      200,
    );
    const adminClient = new StaffClient(url, admin.username, admin.password, { source: '127.0.0.41' });
    expect((await adminClient.signIn()).status).toBe(200);

    // Second factor reset: enrol a new one, then choose a new password; no session until both are done.
    expect(data(await adminClient.post('/api/users/resetme/reset-totp'))).toMatchObject({
      totpEnrolled: false,
      mustChangePassword: true,
    });
    const user = new StaffClient(url, 'resetme', PASSWORD, { source: '127.0.0.40' });
    const enrol = data(
      await user.post<{ needsTotpEnrolment: boolean; loginToken: string; secret: string }>('/api/login', {
        username: 'resetme',
        password: PASSWORD,
      }),
    );
    expect(enrol.needsTotpEnrolment).toBe(true);
    const next = data(
      await user.post<{ needsNewPassword: boolean; loginToken: string }>('/api/login/totp', {
        loginToken: enrol.loginToken,
        code: totpCode(enrol.secret, Date.now()),
      }),
    );
    expect(next).toEqual({ needsNewPassword: true, loginToken: expect.any(String) });
    expect(user.cookies.has('pa_session')).toBe(false);
    const weak = await user.post('/api/login/password', { loginToken: next.loginToken, password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body).toMatchObject({
      error: { code: 'E_WEAK_PASSWORD', fields: ['password: at least 12 characters'] },
    });
    const same = await user.post('/api/login/password', { loginToken: next.loginToken, password: PASSWORD });
    expect(same.body).toMatchObject({ error: { code: 'E_SAME_PASSWORD' } });
    const chosen = 'pebble orchard tuba 64';
    const signed = await user.post('/api/login/password', { loginToken: next.loginToken, password: chosen });
    expect(signed.status).toBe(200);
    expect(data(await user.get<{ username: string }>('/api/session')).username).toBe('resetme');
    expect((await fixture.hub.users.get('resetme'))?.mustChangePassword).toBeUndefined();

    // Password reset by the admin: the temporary password and the user's own code, then a new password.
    const temporary = 'temporary fjord 1234';
    expect((await adminClient.post('/api/users/resetme/password', { password: temporary })).status).toBe(200);
    const listed = data(
      await adminClient.get<{ username: string; mustChangePassword: boolean }[]>('/api/users'),
    );
    expect(listed.find((u) => u.username === 'resetme')?.mustChangePassword).toBe(true);
    // The reset ended the session.
    expect((await user.get('/api/session')).status).toBe(401);
    const step1 = data(
      await user.post<{ needsTotp: boolean; loginToken: string }>('/api/login', {
        username: 'resetme',
        password: temporary,
      }),
    );
    expect(step1, JSON.stringify(step1)).toMatchObject({ needsTotp: true });
    const step2 = data(
      await user.post<{ needsNewPassword: boolean; loginToken: string }>('/api/login/totp', {
        loginToken: step1.loginToken,
        code: totpCode(enrol.secret, Date.now() + 30_000),
      }),
    );
    expect(step2.needsNewPassword).toBe(true);
    expect((await user.get('/api/session')).status).toBe(401);
    const final = 'second choice lagoon 87';
    expect(
      (await user.post('/api/login/password', { loginToken: step2.loginToken, password: final })).status,
    ).toBe(200);
    expect((await user.post('/api/login', { username: 'resetme', password: temporary })).status).toBe(401);
  });
});
