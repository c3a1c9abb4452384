/**
 * S2: the dashboard locks after the idle limit, with a visible warning first, and the hub's session is gone too. The
 * hub's idle limit is shortened for this file (startTestHub's sessionIdleMs); the dashboard reads it from the session,
 * so the same code path runs as with the real 10 minutes. A second hub keeps the default limit, and the page's clock is
 * faked (Playwright's clock) to prove the real 10 minutes in the browser.
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

describe('dashboard: idle lock at the default 10 minutes, fake clock in the page (S2)', () => {
  let fixture: HubFixture;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ensureDashboardBuilt();
    fixture = await startTestHub(); // the hub's own default limit
    await fixture.hub.users.add(office.username, office.password, ['office'], Date.now());
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.clock.install(); // the page's timers and Date, moved only by this test (and real time)
  });

  afterAll(async () => {
    await browser?.close();
    await fixture?.dispose();
  });

  it('S2: no warning before 9 minutes idle, the warning in the last minute, locked at 10 minutes', async () => {
    await signIn(page, fixture.hub.httpUrl, office);
    const session = await page.evaluate(async () => (await (await fetch('/api/session')).json()) as never);
    expect(session).toMatchObject({ data: { idleLimitMs: 10 * 60_000 } });
    const warning = page.getByTestId('idle-warning');
    const lock = page.getByTestId('lock-screen');

    await page.clock.runFor(8 * 60_000 + 50_000); // 8 min 50 s idle
    await expect(warning.count()).resolves.toBe(0);
    await expect(lock.count()).resolves.toBe(0);

    await page.clock.runFor(20_000); // 9 min 10 s: the last minute
    await warning.waitFor();
    await expect(lock.count()).resolves.toBe(0);

    await page.clock.runFor(45_000); // 9 min 55 s: still not locked
    await expect(lock.count()).resolves.toBe(0);

    await page.clock.runFor(10_000); // 10 min 5 s
    await lock.waitFor();
    await page.getByRole('heading', { name: 'Screen locked' }).waitFor();
    await expect(page.getByText('Locked after 10 minutes').count()).resolves.toBeGreaterThan(0);
    expect(await page.evaluate(async () => (await fetch('/api/session')).status)).toBe(401);
  });
});
