/**
 * Helpers for the dashboard's browser tests: a fresh build of dashboard/ when its sources changed, sign-in through the
 * real form (password, then a TOTP code computed with the hub's own implementation), and axe-core run inside the page.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { totpCode } from '../../hub/users/totp.js';
import { repoRoot } from './hub-fixture.js';

const dashboard = join(repoRoot, 'dashboard');

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Builds dashboard/dist with Vite when it is missing or older than any source file (the hub serves dist/). */
export function ensureDashboardBuilt(): void {
  const built = join(dashboard, 'dist', 'index.html');
  const sources = Math.max(
    newest(join(dashboard, 'src')),
    statSync(join(dashboard, 'index.html')).mtimeMs,
    statSync(join(dashboard, 'vite.config.ts')).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const result = spawnSync(
    process.execPath,
    [
      join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      'dashboard/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`dashboard build failed:\n${result.stdout}\n${result.stderr}`);
}

/**
 * Signs in through the form. A TOTP role either enrols (the secret is read from the page, as a person would type it
 * into their app) or uses `secret`. `stepOffset` picks a later 30-s step when the same account signs in twice within
 * one step (the hub refuses a replayed step).
 */
export async function signIn(
  page: Page,
  url: string,
  user: { username: string; password: string; totpSecret?: string },
  stepOffset = 0,
): Promise<string | undefined> {
  await page.goto(url);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const signedIn = page.getByTestId('live');
  const code = page.getByLabel('Six-digit code from your authenticator app');
  await Promise.race([signedIn.waitFor(), code.waitFor()]);
  if (await signedIn.isVisible()) return undefined;
  let secret = user.totpSecret;
  const shown = page.getByTestId('totp-secret');
  if (await shown.isVisible()) secret = (await shown.textContent())?.trim();
  if (!secret) throw new Error(`no TOTP secret for ${user.username}`);
  await code.fill(totpCode(secret, Date.now() + stepOffset * 30_000));
  await page.getByRole('button', { name: 'Verify code' }).click();
  await signedIn.waitFor();
  return secret;
}

const axeSource = readFileSync(join(repoRoot, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules) in the page and returns the serious and critical violations. Injected
 * by evaluation rather than a <script> tag, because the dashboard's CSP (script-src 'self') rightly refuses inline
 * scripts.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = (await page.evaluate(async () => {
    // Runs in the page: its globals are the browser's (this file is type-checked without the DOM).
    const { axe, document } = globalThis as unknown as {
      axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: unknown[] }> };
      document: unknown;
    };
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return result.violations;
  })) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** A readable failure message: rule, help text and the first few offending elements. */
export const describeViolations = (violations: AxeViolation[]) =>
  violations
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} at ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(' '))
          .join(', ')}`,
    )
    .join('\n');

/** A policy rule id as the docs write them (P1, R3, S5, D1 …): for code, tests and docs, never for staff to read. */
export const RULE_ID = /\b[PRSD]\d\b/g;

/**
 * Every rule id a person could read on the page: its whole text (hidden parts too: screen readers read them), its
 * title, and the names screen readers announce (aria-label, title, alt, placeholder). Empty when the page speaks
 * plain words.
 */
export async function ruleIdsShown(page: Page): Promise<string[]> {
  const texts = await page.evaluate(() => {
    const out = [document.title, document.body.textContent ?? ''];
    for (const el of Array.from(document.querySelectorAll('[aria-label], [title], [alt], [placeholder]'))) {
      for (const name of ['aria-label', 'title', 'alt', 'placeholder']) {
        const value = el.getAttribute(name);
        if (value) out.push(value);
      }
    }
    return out;
  });
  return texts.flatMap((text) =>
    [...text.matchAll(RULE_ID)].map((m) => {
      const at = m.index ?? 0;
      return `"${m[0]}" in …${text.slice(Math.max(0, at - 40), at + 10).replace(/\s+/g, ' ')}…`;
    }),
  );
}
