/**
 * The trust's read-only view with real parts: a real influxd started here, seeded through the hub's own store client
 * with contract-shaped points for three schools (compliance roll-ups, device snapshots, incident counts by category,
 * baseline differences), the trust server started for real, and Chromium signing in with password + TOTP and reading
 * every page. Checks each school's figures, the role split (trust IT sees devices only; trustees see compliance,
 * rankings and the baseline; the trust leader everything), that a school that does not share its incident counts
 * shows "not shared" and its count appears nowhere, axe, and that no rule id reaches a page (S1, S3, S5, D1).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollUpPoint } from '../../hub/compliance/compliance-recorder.js';
import { type InfluxdHandle, startInfluxd } from '../../hub/influx/influxd-process.js';
import { silentLogger } from '../../hub/log.js';
import { addDays, localClock, weekStart, zonedTime } from '../../hub/policy/calendar.js';
import { createInfluxStore } from '../../hub/store/influx-store.js';
import type { MetricPoint } from '../../hub/store/metrics-store.js';
import { totpCode } from '../../hub/users/totp.js';
import type { TrustConfig } from '../../schemas/trust.js';
import { startTrust, type TrustServer } from '../../trust/main.js';
import { launchBrowser, screenshot } from '../support/browser.js';
import { axeViolations, describeViolations, ruleIdsShown } from '../support/dashboard.js';

const TZ = 'Europe/London';
const BASELINE_NAME = (
  JSON.parse(
    readFileSync(join(import.meta.dirname, '..', '..', 'config', 'trust-baseline.example.json'), 'utf8'),
  ) as {
    name: string;
  }
).name;
const DB = 'trust-shared';
const trustee = { username: 'tess', password: 'harbour lantern quartz 42' };
const it_ = { username: 'ivan', password: 'granite orchard mellow 19' };

/** Three schools; south does not share its incident counts (its points are in the store all the same). */
const SCHOOLS = [
  { site: 'north-school', name: 'North Academy', shareIncidents: true, locked: 0.95 },
  { site: 'south-school', name: 'South Academy', shareIncidents: false, locked: 0.8 },
  { site: 'east-school', name: 'East Academy', shareIncidents: true, locked: 0.6 },
];

function seedPoints(now: number): MetricPoint[] {
  const today = localClock(now, TZ).date;
  const points: MetricPoint[] = [];
  for (const s of SCHOOLS) {
    for (const room of ['room-1', 'room-2']) {
      for (const back of [1, 2, 3]) {
        const week = weekStart(addDays(today, -7 * back));
        const due = 1000;
        points.push(
          rollUpPoint('compliance_week', { site: s.site, room }, zonedTime(week, 0, TZ), {
            lessons: 25,
            scheduledMin: due,
            lockedClosedMin: due * s.locked,
            exemptMin: 0,
            offlineMin: 10,
            breachMin: due * (1 - s.locked),
            tamperCount: 0,
            graceMet: 20,
            graceDue: 25,
            ratio: s.locked,
          }),
        );
      }
      points.push(
        rollUpPoint(
          'compliance_term',
          { site: s.site, room, term: 'autumn' },
          zonedTime(addDays(today, -40), 0, TZ),
          {
            lessons: 200,
            scheduledMin: 8000,
            lockedClosedMin: 8000 * s.locked,
            exemptMin: 0,
            offlineMin: 50,
            breachMin: 8000 * (1 - s.locked),
            tamperCount: 1,
            graceMet: 150,
            graceDue: 200,
            ratio: s.locked,
          },
        ),
      );
    }
    points.push({
      measurement: 'trust_school',
      tags: { site: s.site },
      fields: { name: s.name, hub_version: '0.1.0', rooms: 2 },
      ts: now - 60_000,
    });
  }
  const devices = (site: string, f: Record<string, number>): MetricPoint => ({
    measurement: 'trust_devices',
    tags: { site },
    fields: f,
    ts: now - 60_000,
  });
  points.push(
    devices('north-school', { total: 12, online: 11, offline: 1, faults: 0, outdated: 2 }),
    devices('south-school', { total: 9, online: 6, offline: 3, faults: 4, outdated: 0 }),
    devices('east-school', { total: 15, online: 15, offline: 0, faults: 1, outdated: 5 }),
  );
  const incidents = (site: string, category: string, count: number): MetricPoint => ({
    measurement: 'trust_incidents',
    tags: { site, category },
    fields: { count },
    ts: zonedTime(weekStart(addDays(today, -7)), 0, TZ),
  });
  points.push(
    incidents('north-school', 'contact', 2),
    incidents('north-school', 'bullying', 1),
    incidents('east-school', 'online-safety', 4),
    // Not shared: the trust must never show it (a distinctive number to look for).
    incidents('south-school', 'contact', 737),
  );
  const cell = {
    zone: 'designated-phone-area',
    audience: 'pupil',
    time: 'break',
    school: 'yes',
    baseline: 'no',
  };
  points.push(
    {
      measurement: 'trust_baseline',
      tags: { site: 'north-school' },
      fields: { differences: 0, detail: '[]' },
      ts: now,
    },
    {
      measurement: 'trust_baseline',
      tags: { site: 'south-school' },
      fields: { differences: 1, detail: JSON.stringify([cell]) },
      ts: now,
    },
  );
  return points;
}

describe('trust view: three schools in a real shared influxd, read in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-trust-view-'));
  let influxd: InfluxdHandle;
  let trust: TrustServer;
  let browser: Browser;
  let leader: { username: string; password: string };

  beforeAll(async () => {
    influxd = await startInfluxd({ dataDir: join(dir, 'influx'), database: DB });
    const store = createInfluxStore({ url: influxd.url, database: DB });
    await store.writePoints(seedPoints(Date.now()));
    const config: TrustConfig = {
      v: 1,
      name: 'Riverside Learning Trust',
      dataDir: join(dir, 'trust'),
      http: { host: '127.0.0.1', port: 0 },
      store: { url: influxd.url, database: DB },
      schools: SCHOOLS.map(({ site, name, shareIncidents }) => ({ site, name, shareIncidents })),
      baselineFile: join(import.meta.dirname, '..', '..', 'config', 'trust-baseline.example.json'),
    };
    trust = await startTrust(config, { log: silentLogger });
    leader = trust.firstRunLeader as { username: string; password: string };
    await trust.accounts.add(trustee.username, trustee.password, ['trustee'], Date.now());
    await trust.accounts.add(it_.username, it_.password, ['trust-it'], Date.now());
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await trust?.stop();
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Password, then the authenticator step: first sign-in enrols, reading the key off the page as a person would. */
  async function signIn(user: { username: string; password: string }): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${trust.url}/login`);
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const secret = (await page.getByTestId('totp-secret').textContent())?.trim() as string;
    await page.getByLabel('Six-digit code from your authenticator app').fill(totpCode(secret, Date.now()));
    await page.getByRole('button', { name: 'Verify code' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }

  async function readable(page: Page, name: string): Promise<string> {
    expect(await axeViolations(page), describeViolations(await axeViolations(page))).toEqual([]);
    expect(await ruleIdsShown(page)).toEqual([]);
    await screenshot(page, `trust-${name}`);
    return (await page.locator('main').textContent()) ?? '';
  }

  it('S1: a wrong password is refused and opens no session', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${trust.url}/login`);
    await page.getByLabel('Username').fill(leader.username);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Wrong username or password');
    await expect(page.getByLabel('Six-digit code from your authenticator app').count()).resolves.toBe(0);
    const res = await page.goto(`${trust.url}/compliance`);
    expect(new URL(res?.url() ?? '').pathname).toBe('/login');
    await page.context().close();
  });

  it('S3: a wrong code is refused; the trust leader signs in with password and TOTP and reads every page', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${trust.url}/login`);
    await page.getByLabel('Username').fill(leader.username);
    await page.getByLabel('Password').fill(leader.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const secret = (await page.getByTestId('totp-secret').textContent())?.trim() as string;
    await page.getByLabel('Six-digit code from your authenticator app').fill('000000');
    await page.getByRole('button', { name: 'Verify code' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not right');
    await page.getByLabel('Six-digit code from your authenticator app').fill(totpCode(secret, Date.now()));
    await page.getByRole('button', { name: 'Verify code' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/compliance');

    // Compliance per school per week and per term.
    const compliance = await readable(page, 'compliance');
    const rowOf = async (name: string) =>
      (await page.getByTestId('compliance-table').getByRole('row').filter({ hasText: name }).textContent()) ??
      '';
    expect(await rowOf('North Academy')).toContain('95%');
    expect(await rowOf('South Academy')).toContain('80%');
    expect(await rowOf('East Academy')).toContain('60%');
    expect(compliance).toContain('Term autumn');

    // One school's page: its weekly chart and tables.
    await page.getByRole('link', { name: 'East Academy' }).click();
    await page.getByTestId('week-chart').waitFor();
    expect(await page.getByTestId('week-chart').locator('rect').count()).toBe(3);
    const east = await readable(page, 'school');
    expect(await page.getByTestId('school-weeks').getByRole('row').count()).toBe(4);
    expect(await page.getByTestId('school-terms').textContent()).toContain('autumn');
    expect(east).toContain('60%');

    // Ranked.
    await page.getByRole('link', { name: 'Schools ranked' }).click();
    await page.getByTestId('rankings').waitFor();
    await readable(page, 'rankings');
    const order = await page.getByTestId('rankings').locator('tbody th').allTextContents();
    expect(order).toEqual(['North Academy', 'South Academy', 'East Academy']);

    // Device health.
    await page.getByRole('link', { name: 'Device health' }).click();
    await page.getByTestId('devices-table').waitFor();
    await readable(page, 'devices');
    const south = await page
      .getByTestId('devices-table')
      .getByRole('row')
      .filter({ hasText: 'South' })
      .textContent();
    expect(south?.replace(/\s+/g, ' ')).toMatch(/South Academy\s*9\s*6\s*3\s*4\s*0/);

    // Incident counts only where shared.
    await page.getByRole('link', { name: 'Incident counts' }).click();
    await page.getByTestId('incidents-table').waitFor();
    const incidents = await readable(page, 'incidents');
    const cells = async (name: string) =>
      page
        .getByTestId('incidents-table')
        .getByRole('row')
        .filter({ hasText: name })
        .locator('td')
        .allTextContents();
    // Columns: the sharing schools' categories in plain words, then All.
    const head = await page.getByTestId('incidents-table').locator('thead th').allTextContents();
    expect(head).toEqual(['School', 'Bullying', 'Contact', 'Online safety', 'All']);
    expect(await cells('North Academy')).toEqual(['1', '2', '0', '3']);
    expect(await cells('East Academy')).toEqual(['0', '0', '4', '4']);
    expect(await cells('South Academy')).toEqual(['not shared', 'not shared', 'not shared', 'not shared']);
    expect(incidents).not.toContain('737');
    expect(await page.content()).not.toContain('737');

    // Baseline differences.
    await page.getByRole('link', { name: 'Policy baseline' }).click();
    await page.getByRole('heading', { name: 'South Academy' }).waitFor();
    const baseline = await readable(page, 'baseline');
    expect(baseline).toContain(`baseline (${BASELINE_NAME})`);
    expect(baseline).toContain('1 difference from the baseline');
    expect(baseline).toMatch(/Designated phone area\s*Pupils\s*Break\s*Allowed\s*Not allowed/);
    expect(baseline).toMatch(/North Academy\s*Same as the baseline/);
    expect(baseline).toMatch(/East Academy\s*No comparison reported yet/);

    // Accounts: the leader adds one with a one-time password; a form without the session's token is refused.
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.getByLabel('Username').fill('nell');
    await page.getByLabel('Role').selectOption('trust-it');
    await page.getByRole('button', { name: 'Add account' }).click();
    const oneTime = (await page.getByTestId('new-password').textContent())?.trim() as string;
    expect(oneTime.length).toBeGreaterThanOrEqual(20);
    await readable(page, 'accounts');
    expect(await page.getByTestId('accounts-table').textContent()).toMatch(/nell\s*Trust IT\s*Active/);
    const forged = await page.request.post(`${trust.url}/accounts`, {
      form: { username: 'mallory', role: 'trust-leader', csrf: 'guessed' },
    });
    expect(forged.status()).toBe(403);
    expect((await trust.accounts.list()).map((a) => a.username)).not.toContain('mallory');
    await page.context().close();
    // S1: the holder of a one-time password chooses their own before any session opens.
    const nell = await (await browser.newContext()).newPage();
    await nell.goto(`${trust.url}/login`);
    await nell.getByLabel('Username').fill('nell');
    await nell.getByLabel('Password').fill(oneTime);
    await nell.getByRole('button', { name: 'Sign in' }).click();
    const nellSecret = (await nell.getByTestId('totp-secret').textContent())?.trim() as string;
    await nell
      .getByLabel('Six-digit code from your authenticator app')
      .fill(totpCode(nellSecret, Date.now()));
    await nell.getByRole('button', { name: 'Verify code' }).click();
    await nell.getByLabel('New password').fill('password1234');
    await nell.getByRole('button', { name: 'Save password and sign in' }).click();
    await expect(nell.getByRole('alert').textContent()).resolves.toContain('too common');
    const noSession = await nell.request.get(`${trust.url}/devices`, { maxRedirects: 0 });
    expect(noSession.status()).toBe(303);
    await nell.getByLabel('New password').fill('lantern orchard copper 88');
    await nell.getByRole('button', { name: 'Save password and sign in' }).click();
    await nell.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(new URL(nell.url()).pathname).toBe('/devices');
    expect((await trust.accounts.verifyPassword('nell', oneTime)) === null).toBe(true);
    await nell.context().close();
  });

  it('S5: a trustee reads compliance, rankings and the baseline, and is refused device health and incident counts', async () => {
    const page = await signIn(trustee);
    expect(new URL(page.url()).pathname).toBe('/compliance');
    const nav = await page.getByRole('navigation').textContent();
    expect(nav).toContain('Schools ranked');
    expect(nav).not.toContain('Device health');
    expect(nav).not.toContain('Incident counts');
    for (const path of ['/devices', '/incidents', '/accounts']) {
      const res = await page.goto(`${trust.url}${path}`);
      expect(res?.status(), path).toBe(403);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
        'Not available to your role',
      );
    }
    expect(await page.content()).not.toContain('South Academy');
    expect((await page.goto(`${trust.url}/rankings`))?.status()).toBe(200);
    await page.context().close();
  });

  it('S5: trust IT reads device health only', async () => {
    const page = await signIn(it_);
    expect(new URL(page.url()).pathname).toBe('/devices');
    await readable(page, 'devices-it');
    for (const path of ['/compliance', '/rankings', '/incidents', '/baseline', '/schools/north-school']) {
      expect((await page.goto(`${trust.url}${path}`))?.status(), path).toBe(403);
    }
    await page.context().close();
  });
});
