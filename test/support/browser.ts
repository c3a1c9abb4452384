/**
 * Debian's Chromium driven by playwright-core, headless, with the flags this closed network needs. playwright's launch()
 * already gives each browser a fresh temporary profile.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { repoRoot } from './hub-fixture.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: run \`node scripts/ensure-system-deps.mjs chromium\``,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/** Screenshots are artefacts of the test run (not committed), so anyone can see what users see. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = join(repoRoot, 'artifacts', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/**
 * A screenshot the README shows: always kept with the run's artefacts, and written to docs/screenshots/ only when
 * UPDATE_SCREENSHOTS=1, so an ordinary `npm test` leaves the working tree clean.
 */
export async function docScreenshot(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  const dir = join(repoRoot, 'docs', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}
