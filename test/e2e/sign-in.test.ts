/**
 * Sign-in in real Chromium (S1, S3): the second step starts with an empty code field and no trace of the password in
 * the page; after an admin's reset the user chooses a new password (the policy applies) before any session opens; a
 * browser that signed in before still signs in while another address guesses at the account.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../hub/users/totp.js';
import { launchBrowser, screenshot } from '../support/browser.js';
import { axeViolations, describeViolations, ensureDashboardBuilt, signIn } from '../support/dashboard.js';
import { type HubFixture, startTestHub } from '../support/hub-fixture.js';
import { data, StaffClient } from '../support/staff-client.js';

const coord = { username: 'cora', password: 'marble kettle zephyr 31' };
const dsl = { username: 'dee', password: 'copper meadow violin 58' };
const head = { username: 'hattie', password: 'saffron glacier piano 77' };

describe('dashboard: sign-in (S1, S3)', () => {
  let fixture: HubFixture;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    ensureDashboardBuilt();
    fixture = await startTestHub();
    await fixture.hub.users.add(coord.username, coord.password, ['coordinator'], Date.now());
    await fixture.hub.users.add(dsl.username, dsl.password, ['dsl'], Date.now());
    await fixture.hub.users.add(head.username, head.password, ['head'], Date.now());
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await fixture?.dispose();
  });

  async function freshPage(): Promise<Page> {
    await context?.close();
    context = await browser.newContext();
    page = await context.newPage();
    return page;
  }

  /** Every input's current value and the whole markup: where a password left behind would be. */
  const pageText = async (p: Page) => ({
    values: await Promise.all((await p.locator('input, textarea').all()).map((field) => field.inputValue())),
    html: await p.content(),
  });

  it('S3: the code field starts empty at the second step, and the password is nowhere in the page', async () => {
    const p = await freshPage();
    await p.goto(fixture.hub.httpUrl);
    await p.getByLabel('Username').fill(coord.username);
    await p.getByLabel('Password').fill(coord.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    const code = p.getByLabel('Six-digit code from your authenticator app');
    await code.waitFor();
    expect(await code.inputValue()).toBe('');
    const seen = await pageText(p);
    expect(seen.values).not.toContain(coord.password);
    expect(seen.values.every((v) => v === '')).toBe(true);
    expect(seen.html).not.toContain(coord.password);
    await expect(p.getByLabel('Password').count()).resolves.toBe(0);
    await screenshot(p, 'sign-in-second-step');

    // A wrong code, then the right one: the field still never holds the password.
    await code.fill('000000');
    await p.getByRole('button', { name: 'Verify code' }).click();
    await p.getByRole('alert').waitFor();
    expect((await pageText(p)).html).not.toContain(coord.password);
    const secret = (await p.getByTestId('totp-secret').textContent())?.trim() as string;
    await code.fill(totpCode(secret, Date.now()));
    await p.getByRole('button', { name: 'Verify code' }).click();
    await p.getByTestId('live').waitFor();
  });

  it('S1, S3: after an admin resets the password, the user chooses a new one before any session opens', async () => {
    // The DSL enrols first, as at any first sign-in.
    const first = await freshPage();
    const secret = (await signIn(first, fixture.hub.httpUrl, dsl)) as string;
    const admin = fixture.hub.firstRunAdmin as { username: string; password: string };
    const adminClient = new StaffClient(fixture.hub.httpUrl, admin.username, admin.password);
    expect((await adminClient.signIn()).status).toBe(200);
    const temporary = 'temporary ladder 4821';
    // A reset of a report reader's account waits for a second person (S5): a deputy DSL approves it.
    const requested = await adminClient.post<{ pending: { id: string } }>(
      `/api/users/${dsl.username}/password`,
      {
        password: temporary,
      },
    );
    expect(requested.status).toBe(202);
    await fixture.hub.users.add('deputy', 'amber harbour violin 58', ['dsl'], Date.now());
    const deputy = new StaffClient(fixture.hub.httpUrl, 'deputy', 'amber harbour violin 58');
    expect((await deputy.signIn()).status).toBe(200);
    expect((await deputy.post(`/api/approvals/${data(requested).pending.id}/approve`)).status).toBe(200);

    // Signing in with the temporary password still needs the DSL's own second factor, then a new password.
    const p = await freshPage();
    await p.goto(fixture.hub.httpUrl);
    await p.getByLabel('Username').fill(dsl.username);
    await p.getByLabel('Password').fill(temporary);
    await p.getByRole('button', { name: 'Sign in' }).click();
    const code = p.getByLabel('Six-digit code from your authenticator app');
    await code.waitFor();
    // The next step's code: the enrolment spent this one.
    await code.fill(totpCode(secret, Date.now() + 30_000));
    await p.getByRole('button', { name: 'Verify code' }).click();
    await p.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    expect(await p.getByLabel('New password', { exact: true }).inputValue()).toBe('');
    expect((await pageText(p)).html).not.toContain(temporary);
    // No session yet.
    expect(await p.evaluate(async () => (await fetch('/api/session')).status)).toBe(401);
    const violations = await axeViolations(p);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(p, 'sign-in-new-password');

    // Too short: refused beside the field. The same as the temporary one: refused too.
    const save = p.getByRole('button', { name: 'Save new password and sign in' });
    await p.getByLabel('New password', { exact: true }).fill('short');
    await p.getByLabel('New password again').fill('short');
    await save.click();
    await p.locator('#new-password-error').getByText('at least 12 characters').waitFor();
    await p.getByLabel('New password', { exact: true }).fill(temporary);
    await p.getByLabel('New password again').fill(temporary);
    await save.click();
    await p.locator('#new-password-error').getByText('different from the one you were given').waitFor();
    const chosen = 'harbour lantern quilt 9';
    await p.getByLabel('New password', { exact: true }).fill(chosen);
    await p.getByLabel('New password again').fill(chosen);
    await save.click();
    await p.getByTestId('live').waitFor();
    expect((await fixture.hub.users.get(dsl.username))?.mustChangePassword).toBeUndefined();

    // The temporary password is gone; the chosen one works.
    const old = await new StaffClient(fixture.hub.httpUrl, dsl.username, temporary).post('/api/login', {
      username: dsl.username,
      password: temporary,
    });
    expect(old.status).toBe(401);
    const again = new StaffClient(fixture.hub.httpUrl, dsl.username, chosen).post('/api/login', {
      username: dsl.username,
      password: chosen,
    });
    expect((await again).body).toMatchObject({ status: 'ok', data: { needsTotp: true } });
  });

  it("S1: the head's remembered browser signs in while another address guesses at the account", async () => {
    const p = await freshPage();
    const secret = (await signIn(p, fixture.hub.httpUrl, head)) as string;
    await p.getByRole('button', { name: 'Lock' }).click();
    await p.getByTestId('lock-screen').waitFor();

    const attacker = new StaffClient(fixture.hub.httpUrl, head.username, head.password, {
      source: '127.0.0.31',
    });
    for (let i = 0; i < 7; i += 1)
      await attacker.post('/api/login', { username: head.username, password: `not it at all ${i}` });
    const held = await attacker.post('/api/login', { username: head.username, password: head.password });
    expect(held.status).toBe(429);

    // A new browser of the head's is held back too, and told why in plain words.
    const other = await (await browser.newContext()).newPage();
    await other.goto(fixture.hub.httpUrl);
    await other.getByLabel('Username').fill(head.username);
    await other.getByLabel('Password').fill(head.password);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByText('sign in from a browser you have used before').waitFor();
    await screenshot(other, 'sign-in-held-back');
    await other.context().close();

    // The browser the head signed in on before goes straight through (with the next step's code: one is spent).
    await signIn(p, fixture.hub.httpUrl, { ...head, totpSecret: secret }, 1);
    await p.getByTestId('live').waitFor();
  });
});
