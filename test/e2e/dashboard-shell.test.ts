/**
 * The dashboard shell's error boundary: a page that throws while rendering shows a plain-words message in its place,
 * never a blank screen, while the header and navigation keep working; another page, and the same page once its data
 * is sound again, render as usual. The page is made to throw the way it would in the field: the hub's answer for the
 * school model (GET /api/policy) arrives in a shape the Today page does not expect.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../support/browser.js';
import { axeViolations, describeViolations, ensureDashboardBuilt, signIn } from '../support/dashboard.js';
import { type HubFixture, startTestHub } from '../support/hub-fixture.js';

const office = { username: 'olly', password: 'office-pass-phrase-0417' };

describe('dashboard shell: a page that throws', () => {
  let fixture: HubFixture;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureDashboardBuilt();
    fixture = await startTestHub();
    await fixture.hub.users.add(office.username, office.password, ['office'], Date.now());
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && message.text().startsWith('page failed to render'))
        pageErrors.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await fixture?.dispose();
  });

  it('shows a plain-words message in place of the page, keeps the navigation, and recovers on another page', async () => {
    await signIn(page, fixture.hub.httpUrl, office);
    await page.getByTestId('now').waitFor(); // Today, rendered from the real school model

    // The school model arrives without the parts Today reads (today, now): rendering it throws.
    await page.route('**/api/policy', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ data: { rooms: [] } }),
      }),
    );
    await page.reload();
    const failed = page.getByTestId('page-error');
    await failed.waitFor();
    await expect(failed.getByRole('heading').textContent()).resolves.toBe('This page could not be shown');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Nothing you saved has been lost');
    expect(pageErrors.length).toBeGreaterThan(0);
    // The shell is still there: header, live indicator and navigation.
    await expect(page.getByTestId('live').isVisible()).resolves.toBe(true);
    await expect(page.getByRole('navigation', { name: 'Main' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'dashboard-page-error');
    const violations = await axeViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);

    // Another page renders: the boundary starts afresh for each route.
    await page.getByRole('link', { name: 'Your account' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await expect(failed.count()).resolves.toBe(0);

    // Sound data again: Today renders as usual.
    await page.unroute('**/api/policy');
    await page.getByRole('link', { name: 'Today' }).click();
    await page.getByTestId('now').waitFor();
    await expect(failed.count()).resolves.toBe(0);
  });
});
