/**
 * S2: the dashboard locks after the idle limit, with a visible warning first, and the hub's session is gone too. The
 * hub's idle limit is shortened for this file (startTestHub's sessionIdleMs); the dashboard reads it from the session,
 * so the same code path runs as with the real 10 minutes.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../support/browser.js';
import { axeViolations, describeViolations, ensureDashboardBuilt, signIn } from '../support/dashboard.js';
import { type HubFixture, startTestHub } from '../support/hub-fixture.js';

// Warning shows for the last third (2 s): long enough for a loaded CI machine to click in time.
const IDLE_MS = 6000;
const office = { username: 'olly', password: 'office-pass-phrase-0417' };

describe('dashboard: idle lock (S2)', () => {
  let fixture: HubFixture;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ensureDashboardBuilt();
    fixture = await startTestHub({ sessionIdleMs: IDLE_MS });
    await fixture.hub.users.add(office.username, office.password, ['office'], Date.now());
    browser = await launchBrowser();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await fixture?.dispose();
  });

  it('S2: warns before locking, keeps the session on activity, then locks and the hub forgets the session', async () => {
    await signIn(page, fixture.hub.httpUrl, office);
    const warning = page.getByTestId('idle-warning');
    await warning.waitFor();
    // Activity (the warning's own button) keeps the user signed in.
    await page.getByRole('button', { name: 'Stay signed in' }).click();
    await warning.waitFor({ state: 'hidden' });
    await expect(page.getByTestId('lock-screen').count()).resolves.toBe(0);

    // Then nothing: the warning returns and the screen locks.
    await warning.waitFor();
    await screenshot(page, 'dashboard-idle-warning');
    await page.getByTestId('lock-screen').waitFor();
    await page.getByRole('heading', { name: 'Screen locked' }).waitFor();
    await screenshot(page, 'dashboard-idle-locked');
    const violations = await axeViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    const status = await page.evaluate(async () => (await fetch('/api/session')).status);
    expect(status).toBe(401);

    // Signing in again returns to the same page.
    await page.getByLabel('Username').fill(office.username);
    await page.getByLabel('Password').fill(office.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('live').waitFor();
    await expect(page.getByTestId('lock-screen').count()).resolves.toBe(0);
  });
});
