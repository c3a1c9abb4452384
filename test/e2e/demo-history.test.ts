/**
 * The demo as a new user starts it (`phones-away demo`, its own process, a fresh data directory): at the first
 * sign-in the Compliance page already shows four school weeks, built through the hub on the first start, and Reports
 * shows a worked example. (That a second start builds nothing again is checked on a hub restart in
 * test/integration/cli/demo-history.test.ts: a second demo here would start four more emulated boards.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyPlan } from '../../cli/history/history-plan.js';
import { localClock } from '../../hub/policy/calendar.js';
import { launchBrowser, screenshot } from '../support/browser.js';
import { ensureDashboardBuilt, signIn } from '../support/dashboard.js';
import { demoSchool, repoRoot } from '../support/hub-fixture.js';

interface Demo {
  process: ChildProcess;
  output: string;
  url: string;
}

/** Starts the demo and resolves once it says it is ready (its last line before waiting for Ctrl+C). */
function startDemo(dataDir: string): Promise<Demo> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'cli', 'main.ts'), 'demo', '--data-dir', dataDir],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const demo: Demo = { process: child, output: '', url: '' };
  return new Promise((resolve, reject) => {
    const take = (chunk: Buffer) => {
      demo.output += chunk.toString();
      const url = /^Dashboard: (\S+)$/m.exec(demo.output);
      if (url && demo.output.includes('Press Ctrl+C to stop.')) {
        demo.url = url[1] as string;
        resolve(demo);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${demo.output}`)));
  });
}

function stopDemo(demo: Demo | undefined): Promise<void> {
  if (!demo || demo.process.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    demo.process.once('exit', () => resolve());
    demo.process.kill('SIGINT');
  });
}

describe('the demo at its first sign-in', () => {
  let dataDir: string;
  let demo: Demo | undefined;
  let browser: Browser;
  let page: Page;
  const school = demoSchool();
  const today = localClock(Date.now(), school.timetable.timezone).date;
  // The school days of the last four weeks, as the demo's timetable has them (term dates and all).
  const pastDays = historyPlan(school, today).dates.filter((d) => d < today);
  const password = (name: string) => readFileSync(join(dataDir, `${name}-password.txt`), 'utf8').trim();

  beforeAll(async () => {
    ensureDashboardBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'phones-away-demo-'));
    demo = await startDemo(dataDir);
    browser = await launchBrowser();
    page = await browser.newPage();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stopDemo(demo);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('D5: the Compliance page shows a row per room for every school day of the last four weeks', async () => {
    expect(demo?.output).toMatch(/Building the past four school weeks/);
    await signIn(page, demo?.url as string, { username: 'head', password: password('head') });
    await page.goto(`${demo?.url}/#/compliance`);
    const table = page.getByRole('table', { name: /^Compliance by day/ });
    await table.waitFor();
    const rooms = new Set(school.devices.map((d) => d.room)).size;
    const bodyRows = table.locator('tbody tr');
    await expect
      .poll(() => bodyRows.count(), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(pastDays.length * rooms);
    const dates = new Set(await table.locator('tbody tr td:first-child').allTextContents());
    for (const day of pastDays) expect(dates, day).toContain(day);
    await expect(page.getByRole('img', { name: /^Line chart of compliance/ }).count()).resolves.toBe(1);
    await screenshot(page, 'demo-compliance');
  });

  it('R3, R4: Reports shows a worked example: a report acknowledged, noted and closed with its category', async () => {
    const dslPage = await browser.newPage();
    await signIn(dslPage, demo?.url as string, { username: 'dsl', password: password('dsl') });
    await dslPage.goto(`${demo?.url}/#/reports`);
    const inbox = dslPage.getByRole('table', { name: 'Incidents, newest first' });
    // Open: the latest report, acknowledged with its category, still being followed up.
    await inbox.getByRole('cell', { name: 'Acknowledged', exact: true }).waitFor();
    await dslPage.getByRole('radio', { name: 'Closed' }).check();
    await expect
      .poll(() => inbox.getByRole('cell', { name: 'Closed', exact: true }).count(), { timeout: 10_000 })
      .toBe(2);
    await screenshot(dslPage, 'demo-reports');
    // The worked example: its chronology from the press to the close.
    await inbox.getByRole('row').nth(2).getByRole('link').first().click();
    await dslPage.getByText('Class talk given; no further concern raised.').first().waitFor();
    await dslPage.close();
  });
});
