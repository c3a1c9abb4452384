/**
 * Settings → Policy shows, in plain words, how the school's policy differs from its trust's baseline (P8), in real
 * headless Chromium against a real hub whose trust share is configured. The shared store is not running (a closed
 * port): the hub and its dashboard work regardless, the trust's points waiting in the hub's outbox. axe-core on the
 * page; no rule id anywhere on it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dfe2026Policy } from '../../hub/policy/presets.js';
import type { TrustBaseline } from '../../schemas/trust.js';
import { launchBrowser, screenshot } from '../support/browser.js';
import { axeViolations, describeViolations, ensureDashboardBuilt, signIn } from '../support/dashboard.js';
import { type HubFixture, startTestHub } from '../support/hub-fixture.js';

/** A loopback port nothing listens on: bound, read and closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('dashboard: the policy compared with the trust baseline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-trust-baseline-'));
  const baselineFile = join(dir, 'baseline.json');
  let fixture: HubFixture;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ensureDashboardBuilt();
    const baseline: TrustBaseline = { v: 1, name: 'Trust phone-free day', policy: dfe2026Policy() };
    writeFileSync(baselineFile, JSON.stringify(baseline));
    fixture = await startTestHub({
      config: {
        trust: { store: { url: `http://127.0.0.1:${await closedPort()}`, database: 'trust' }, baselineFile },
      },
    });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
    await signIn(page, fixture.hub.httpUrl, fixture.hub.firstRunAdmin!);
  });

  afterAll(async () => {
    await browser?.close();
    await fixture?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('P8: a seed-policy school sees where it differs from a DfE 2026 baseline, in plain words', async () => {
    await page.goto(`${fixture.hub.httpUrl}/#/settings/policy`);
    const table = page.getByTestId('baseline-differences');
    await table.waitFor();
    await expect(table.locator('tbody tr').count()).resolves.toBe(13);
    await expect(page.getByTestId('trust-baseline').textContent()).resolves.toContain(
      "differs from the trust's baseline, Trust phone-free day, in 13 places",
    );
    // Staff in the office during lessons: "not if avoidable" here, "no" in the baseline (P1).
    const row = table.locator('tbody tr', { hasText: 'Staff, visitors and volunteers' }).filter({
      hasText: /Office\s*Lessons/,
    });
    await expect(row.locator('td').allTextContents()).resolves.toEqual([
      'Office',
      'Lessons',
      'Not if avoidable',
      'No',
    ]);
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).not.toMatch(/\b[PRSD][1-9]\b/);
    await screenshot(page, 'dashboard-trust-baseline');
    const violations = await axeViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    // The shared store is down: what the hub shares waits in its outbox.
    expect(await fixture.hub.trust?.outbox.pending()).toBeGreaterThan(0);
  });

  it('P8: once the school takes the baseline preset, the page says it is the same', async () => {
    await page.getByLabel('Preset').selectOption('dfe-2026');
    await page.getByRole('button', { name: /Apply preset/ }).click();
    await page.getByTestId('preset').getByText('dfe-2026').waitFor();
    await page.getByTestId('baseline-same').getByText("the same as the trust's baseline").waitFor();
    await expect(page.getByTestId('baseline-differences').count()).resolves.toBe(0);
  });

  it('P8: a baseline file that is not a baseline is refused with its reasons, counted, and the page says so', async () => {
    const bad = { v: 1, name: 'Broken baseline', policy: { ...dfe2026Policy(), preset: 'strict' } };
    writeFileSync(baselineFile, JSON.stringify(bad));
    // The file is read again at each change of the school model.
    await page.getByLabel('Preset').selectOption('seed');
    await page.getByRole('button', { name: /Apply preset/ }).click();
    await page.getByTestId('preset').getByText('seed').waitFor();
    const problem = page.getByTestId('baseline-problem');
    await problem.getByText('/policy/preset: must be equal to one of the allowed values').waitFor();
    expect(fixture.hub.rejects.snapshot()['trust baseline invalid']).toBe(1);
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).not.toMatch(/\b[PRSD][1-9]\b/);
    const violations = await axeViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
  });
});
