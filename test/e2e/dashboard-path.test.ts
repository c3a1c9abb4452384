/**
 * The dashboard in real headless Chromium against a real hub (aedes, private influxd) and an emulated Uno running the
 * device program: a new user's path from TOTP sign-in to the governors' evidence pack, role-based visibility, an XSS
 * attempt rendered inert, a write without the CSRF token refused, and axe-core on every page. Screenshots of each
 * page go to artifacts/screenshots/ (not committed).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatedSession, startEmulatedBoard } from '../../firmware/board/emulated-session.js';
import { DEFAULT_UNO_PINS } from '../../firmware/board/pin-map.js';
import { type RunningDevice, startDevice } from '../../firmware/device.js';
import { silentLogger } from '../../hub/log.js';
import { STAFF_ROLES } from '../../hub/users/roles.js';
import { generateTotpSecret } from '../../hub/users/totp.js';
import { topics } from '../../schemas/topics.js';
import { launchBrowser, screenshot } from '../support/browser.js';
import {
  axeViolations,
  describeViolations,
  ensureDashboardBuilt,
  ruleIdsShown,
  signIn,
} from '../support/dashboard.js';
import { deviceConfig } from '../support/device-fixture.js';
import { type HubFixture, repoRoot, startTestHub, waitFor } from '../support/hub-fixture.js';
import { decodeQrElement } from '../support/qr.js';

const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const secret = 'e2e-device-secret-0123456789';
const office = { username: 'olly', password: 'office-pass-phrase-0417' };
const coordinator = {
  username: 'cora',
  password: 'coordinator-pass-phrase-93',
  totpSecret: generateTotpSecret(),
};

describe('dashboard: a new user’s path and the guards around it', () => {
  let fixture: HubFixture;
  let board: EmulatedSession;
  let device: RunningDevice;
  let browser: Browser;
  let adminContext: BrowserContext;
  let page: Page;
  let lockSeq = 0;
  let ref = '';

  async function sendLock(locked: boolean) {
    lockSeq += 1;
    const command = {
      v: 1,
      id: `e2e-lock-${lockSeq}`,
      ts: Date.now(),
      kind: 'lock',
      locked,
      reason: 'staff',
    };
    await fixture.hub.broker.publish(topics.set(address, 'lock'), JSON.stringify(command), {
      qos: 1,
      retain: false,
    });
  }

  async function expectAccessible(p: Page, name: string) {
    await screenshot(p, `dashboard-${name}`);
    const violations = await axeViolations(p);
    expect(violations, `${name}:\n${describeViolations(violations)}`).toEqual([]);
  }

  beforeAll(async () => {
    ensureDashboardBuilt();
    fixture = await startTestHub();
    const { hub } = fixture;
    const now = Date.now();
    await hub.registry.provision({ id: address.device, address, secret, lockerMode: 'lesson', now });
    // A small school: the administrator is also the head and the DSL. Set in the store, as a fixture: through the hub
    // no account may grant itself a role (separation-of-duties.test.ts).
    await hub.users.setRoles('admin', ['admin', 'head', 'dsl'], 'system:test-setup');
    await hub.users.add(office.username, office.password, ['office'], now);
    await hub.users.add(coordinator.username, coordinator.password, ['coordinator'], now);
    await hub.users.enrolTotp(coordinator.username, coordinator.totpSecret, -1);
    // A week of recorded compliance, so the chart and the pack have something to show (lessons are recorded as they end).
    const day = 86_400_000;
    const monday = Date.UTC(2026, 0, 5);
    await hub.store.writePoints(
      ['room-1', 'room-2'].flatMap((room, r) =>
        [0, 1, 2, 3, 4].map((d) => ({
          measurement: 'compliance_day',
          tags: { site: address.site, room },
          fields: {
            lessons: 5,
            scheduled_min: 300,
            due_min: 300,
            locked_closed_min: 300 - 20 * d - 30 * r,
            exempt_min: 0,
            offline_min: 0,
            breach_min: 20 * d + 30 * r,
            tamper_count: 0,
            ratio: (300 - 20 * d - 30 * r) / 300,
          },
          ts: monday + d * day,
        })),
      ),
    );
    await hub.store.writePoints(
      ['room-1', 'room-2'].map((room, r) => ({
        measurement: 'compliance_week',
        tags: { site: address.site, room },
        fields: {
          lessons: 25,
          scheduled_min: 1500,
          due_min: 1500,
          locked_closed_min: 1300 - 150 * r,
          exempt_min: 0,
          offline_min: 0,
          breach_min: 200 + 150 * r,
          tamper_count: 0,
          ratio: (1300 - 150 * r) / 1500,
        },
        ts: monday,
      })),
    );

    writeFileSync(join(fixture.dataDir, 'device.secret'), secret, { mode: 0o600 });
    const config = deviceConfig(
      hub,
      fixture.dataDir,
      { timing: { longPressMs: 2000, heldTamperMs: 30_000, confirmShowMs: 4000, heartbeatMs: 10_000 } },
      address,
    );
    board = await startEmulatedBoard(config.pins, { id: address.device });
    // Door shut and one phone in slot 0 (contacts to ground), so locking is not a tamper.
    board.emulator.setPin(DEFAULT_UNO_PINS.door, false);
    board.emulator.setPin(DEFAULT_UNO_PINS.slots[0]!, false);
    device = await startDevice({ config, board: board.port, password: secret, log: silentLogger });
    await waitFor(() => device.connected(), 'device connected');

    browser = await launchBrowser();
    adminContext = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    page = await adminContext.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await device?.stop();
    await board?.close();
    await fixture?.dispose();
  });

  it('S1, S3: the first-run admin enrols a second factor shown as a QR code and as text, then signs in with a TOTP code', async () => {
    const admin = fixture.hub.firstRunAdmin!;
    await page.goto(fixture.hub.httpUrl);
    await expectAccessible(page, 'login');
    // The enrolment step: the QR code, read from its pixels, is the otpauth:// link the page also gives as text.
    await page.getByLabel('Username').fill(admin.username);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    const shownSecret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? '';
    const shownUri = (await page.locator('.enrol .uri').textContent())?.trim() ?? '';
    const decoded = await decodeQrElement(browser, qr);
    expect(decoded).toBe(shownUri);
    expect(decoded).toMatch(/^otpauth:\/\/totp\/phones-away%3Aadmin\?/);
    expect(new URL(decoded ?? '').searchParams.get('secret')).toBe(shownSecret);
    await screenshot(page, 'dashboard-totp-enrol');
    await expectAccessible(page, 'totp-enrol');
    // A phone camera is not the only reader: nothing here fetched anything from outside the hub.
    const hubOrigin = new URL(fixture.hub.httpUrl).origin;
    expect(
      await page.evaluate(() =>
        performance.getEntriesByType('resource').map((e) => (e as PerformanceResourceTiming).name),
      ),
    ).toSatisfy((names: string[]) => names.every((n) => n.startsWith(hubOrigin)));
    const enrolled = await signIn(page, fixture.hub.httpUrl, admin);
    expect(enrolled).toMatch(/^[A-Z2-7]{32}$/);
    expect((await fixture.hub.users.list()).find((u) => u.username === 'admin')?.totpEnrolled).toBe(true);
  });

  it('P1, P7: the Today grid changes live when the device locks, with icon and text', async () => {
    const card = page.locator(`[data-device="${address.device}"]`);
    await card.getByText('Online').waitFor();
    await sendLock(false);
    await card.getByTestId('locker-status').getByText('Unlocked', { exact: true }).waitFor();
    await card.getByText('1 of 4').waitFor();
    await screenshot(page, 'dashboard-today-unlocked');
    await sendLock(true);
    await card.getByTestId('locker-status').getByText('Locked', { exact: true }).waitFor();
    // Colour is never the only signal: an icon and a word.
    await expect(card.getByTestId('locker-status').locator('svg').count()).resolves.toBe(1);
    await expect(page.getByTestId('now').textContent()).resolves.toMatch(/Policy in force: seed preset/);
    await expectAccessible(page, 'today');
  });

  it('P6: the Headteacher’s emergency release asks for confirmation first', async () => {
    await page.getByRole('button', { name: 'Emergency release…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Release every locker?' });
    await dialog.waitFor();
    await expectAccessible(page, 'today-emergency-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(fixture.hub.policy.exemptions.activeEmergency()).toBeFalsy();
  });

  it('R1, R3: a button press appears in the inbox live; it is acknowledged and closed with a category', async () => {
    await page.getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
    await expect(page.getByTestId('unacknowledged-count').textContent()).resolves.toBe('0 unacknowledged');

    board.emulator.setPin(DEFAULT_UNO_PINS.button, false);
    await new Promise((r) => setTimeout(r, 150));
    board.emulator.setPin(DEFAULT_UNO_PINS.button, true);

    const row = page.locator('tr[data-ref]').first();
    await row.waitFor();
    await page.getByTestId('unacknowledged-count').getByText('1 unacknowledged').waitFor();
    ref = (await row.getAttribute('data-ref')) ?? '';
    expect(ref).toMatch(/^[A-Z2-9]{4}$/);
    await expectAccessible(page, 'reports-inbox');

    await row.getByRole('link', { name: ref }).click();
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByTestId('incident-status').getByText('Acknowledged').waitFor();
    await expectAccessible(page, 'report-acknowledged');

    // Server-side validation shown beside the field: whitespace is not an outcome.
    await page.getByLabel('Outcome').fill('   ');
    await page.getByLabel('Safeguarding category').selectOption('online-safety');
    await page.getByRole('button', { name: 'Close incident' }).click();
    await page.locator('#outcome-error').getByText('must not be empty').waitFor();
    await expect(page.getByLabel('Outcome').getAttribute('aria-invalid')).resolves.toBe('true');

    await page.getByLabel('Outcome').fill('Spoke with the class about reporting; no further action.');
    await page.getByRole('button', { name: 'Close incident' }).click();
    await page.getByTestId('incident-status').getByText('Closed').waitFor();
    await expect(page.getByTestId('chronology').locator('li').count()).resolves.toBe(3);
    const stored = await fixture.hub.incidents.getByRef(ref);
    expect(stored?.status).toBe('closed');
    expect(stored?.steps.map((s) => s.action)).toEqual(['reported', 'acknowledged', 'closed']);
    await expectAccessible(page, 'report-closed');
  });

  it('R5: the evidence pack prints compliance by room and week, exemptions and incidents by category', async () => {
    await page.getByRole('link', { name: 'Compliance' }).click();
    await page.getByLabel('From', { exact: true }).fill('2026-01-05');
    await page.getByLabel('To', { exact: true }).fill('2026-01-09');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.locator('.chart canvas').waitFor();
    const table = page.getByRole('table', { name: /Compliance by day/ });
    await expect(table.locator('tbody tr').count()).resolves.toBe(10);
    const csv = page.getByRole('link', { name: 'Download CSV' });
    await expect(csv.getAttribute('href')).resolves.toContain(
      '/api/compliance.csv?level=day&from=2026-01-05&to=2026-01-09',
    );
    await expectAccessible(page, 'compliance');

    const today = new Date().toISOString().slice(0, 10);
    await page.goto(`${fixture.hub.httpUrl}/#/evidence?from=2026-01-01&to=${today}`);
    const incidents = page.getByTestId('pack-incidents');
    await incidents.getByRole('row', { name: /online-safety/ }).waitFor();
    await expect(
      incidents
        .getByRole('row', { name: /online-safety/ })
        .getByRole('cell')
        .nth(0)
        .textContent(),
    ).resolves.toBe('1');
    const weeks = page.getByRole('table', { name: /Compliance by room/ });
    await weeks.getByRole('row', { name: /Room 1/ }).waitFor();
    await expect(weeks.getByRole('row', { name: /Room 1/ }).textContent()).resolves.toContain('87%');
    await expectAccessible(page, 'evidence-pack');

    // Exported as the browser prints it: print CSS hides navigation and controls.
    await page.emulateMedia({ media: 'print' });
    await expect(page.getByRole('navigation', { name: 'Main' }).isVisible()).resolves.toBe(false);
    await expect(page.getByRole('button', { name: 'Print or save as PDF' }).isVisible()).resolves.toBe(false);
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    mkdirSync(join(repoRoot, 'artifacts'), { recursive: true });
    writeFileSync(join(repoRoot, 'artifacts', 'evidence-pack.pdf'), pdf);
    await page.emulateMedia({ media: 'screen' });
  });

  it('S4, D4, P8, S6, D2: devices, settings, the policy matrix, the audit log and the retention schedule are readable and accessible', async () => {
    await page.getByRole('link', { name: 'Devices' }).click();
    const row = page.locator(`[data-device-row="${address.device}"]`);
    await row.getByText('Online').waitFor();
    await expect(row.textContent()).resolves.toContain('Teaching block');
    await expectAccessible(page, 'devices');

    for (const [tab, name, check] of [
      // The admin gets the editors (dashboard-settings.test.ts edits with them).
      ['Timetable', 'settings-timetable', 'Save timetable'],
      ['Zones and rooms', 'settings-rooms', 'Save zones and rooms'],
      ['Policy', 'settings-policy', 'Designated phone area'],
      ['Exemptions', 'settings-exemptions', 'Grant an exemption'],
      ['Accounts', 'settings-accounts', 'cora'],
      ['Audit log', 'settings-audit', 'user.add'],
      // D2: the retention schedule in plain words (no rule ids: the scan below covers this page too).
      ['Data retention', 'settings-retention', 'Reports and tamper incidents'],
    ] as const) {
      await page.goto(`${fixture.hub.httpUrl}/#/settings`);
      await page
        .getByRole('navigation', { name: 'Settings sections' })
        .getByRole('link', { name: tab })
        .click();
      await page.getByRole('main').getByText(check).first().waitFor();
      await expectAccessible(page, name);
    }
    // P8: lessons are "No" for pupils everywhere (the admin's editor; the office reads the same as words, below).
    await page.goto(`${fixture.hub.httpUrl}/#/settings/policy`);
    for (const zone of ['Curriculum area', 'Designated phone area', 'Office'])
      await expect(page.getByLabel(`Pupils, Lessons, ${zone}`).inputValue()).resolves.toBe('no');
    await page.goto(`${fixture.hub.httpUrl}/#/settings/audit`);
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page
      .getByTestId('audit-verify')
      .getByText(/Chain intact/)
      .waitFor();
    // S6: the last fingerprint sent off the hub in plain words (its hash and date; never a count of entries, which
    // would count rows this reader may not read). This hub has no notifications set up, so none was sent.
    expect(await page.getByTestId('audit-last-sent').textContent()).toMatch(
      /^No fingerprint has been sent yet/,
    );
  });

  it('S5: office staff see no Reports page and cannot open a report, even by its address', async () => {
    const context = await browser.newContext({ viewport: { width: 820, height: 1180 } }); // a tablet
    const officePage = await context.newPage();
    await signIn(officePage, fixture.hub.httpUrl, office);
    await expect(
      officePage.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents(),
    ).resolves.toEqual(['Today', 'Compliance', 'Devices', 'Settings']);
    await officePage.goto(`${fixture.hub.httpUrl}/#/reports/${ref}`);
    await officePage.getByTestId('forbidden').waitFor();
    await expectAccessible(officePage, 'office-forbidden');
    // P8: every role reads the matrix, shown as a word as well as a mark; only the admin edits it (S5).
    await officePage.goto(`${fixture.hub.httpUrl}/#/settings/policy`);
    const lessons = officePage.getByTestId('matrix-pupil').getByRole('row', { name: /^Lessons/ });
    await lessons.waitFor();
    await expect(lessons.getByRole('cell').allTextContents()).resolves.toEqual(['✗ No', '✗ No', '✗ No']);
    await expect(officePage.getByRole('button', { name: 'Save policy' }).count()).resolves.toBe(0);
    const status = await officePage.evaluate(async (r) => (await fetch(`/api/incidents/${r}`)).status, ref);
    expect(status).toBe(403);
    await officePage.goto(`${fixture.hub.httpUrl}/#/today`);
    await officePage.locator(`[data-device="${address.device}"]`).waitFor();
    await expect(officePage.getByRole('button', { name: 'Emergency release…' }).count()).resolves.toBe(0);
    await expectAccessible(officePage, 'office-today-tablet');
    await context.close();
  });

  it('R3: an XSS attempt in a report note is stored and shown as literal text; no script runs', async () => {
    // No CSP in this context: the rendering alone must keep the note inert (the hub's CSP is a second layer).
    const context = await browser.newContext({ bypassCSP: true });
    const p = await context.newPage();
    await signIn(p, fixture.hub.httpUrl, coordinator);
    // A fresh report to work on.
    board.emulator.setPin(DEFAULT_UNO_PINS.button, false);
    await new Promise((r) => setTimeout(r, 150));
    board.emulator.setPin(DEFAULT_UNO_PINS.button, true);
    await p.getByRole('link', { name: /^Reports/ }).click();
    await p.getByTestId('unacknowledged-count').getByText('1 unacknowledged').waitFor();
    const fresh = (await p.locator('tr.new[data-ref]').first().getAttribute('data-ref')) ?? '';
    await p.getByRole('link', { name: fresh }).click();
    await p.getByRole('button', { name: 'Acknowledge' }).click();
    const attack = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><b>bold</b>`;
    await p.getByLabel('Action taken').fill(attack);
    await p.getByRole('button', { name: 'Save note' }).click();
    await p.getByTestId('incident-status').getByText('Action noted').waitFor();
    await p.reload();
    const note = p.getByTestId('chronology').locator('.note').first();
    await note.waitFor();
    await expect(note.textContent()).resolves.toBe(attack);
    await expect(p.getByTestId('chronology').locator('img, script, b').count()).resolves.toBe(0);
    await expect(p.evaluate(() => (globalThis as { __xss?: number }).__xss)).resolves.toBeUndefined();
    await screenshot(p, 'dashboard-xss-inert');
    await context.close();
  });

  it('S1: a write without the CSRF token is refused and changes nothing', async () => {
    const open = (await fixture.hub.incidents.list()).find((i) => i.status !== 'closed');
    expect(open).toBeDefined();
    const answer = await page.evaluate(async (id) => {
      const response = await fetch(`/api/incidents/${id}/close`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ outcome: 'forged', category: 'other' }),
      });
      return { status: response.status, body: (await response.json()) as { error: { code: string } } };
    }, open!.id);
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('E_CSRF');
    expect((await fixture.hub.incidents.get(open!.id))?.status).toBe(open!.status);
  });
  it('staff read plain words: no rule id (P1, S3, D1 …) on any page, for every role', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const paths = [
      'today',
      'reports',
      `reports/${ref}`,
      'compliance',
      `evidence?from=2026-01-01&to=${today}`,
      'devices',
      ...['timetable', 'rooms', 'policy', 'exemptions', 'accounts', 'audit', 'retention'].map(
        (t) => `settings/${t}`,
      ),
      'account',
      'no-such-page',
    ];
    const found: string[] = [];
    const scan = async (p: Page, where: string) => {
      // A page has settled when its heading is up and nothing in it is still loading.
      await p.locator('main h1, main h2, form h1, form h2').first().waitFor();
      await p.waitForFunction(() => !/Loading…/.test(document.body.textContent ?? ''));
      for (const hit of await ruleIdsShown(p)) found.push(`${where}: ${hit}`);
    };
    const loginPage = await browser.newPage();
    await loginPage.goto(fixture.hub.httpUrl);
    await loginPage.getByLabel('Username').waitFor();
    for (const hit of await ruleIdsShown(loginPage)) found.push(`sign-in: ${hit}`);
    await loginPage.close();

    for (const role of STAFF_ROLES) {
      let p = page; // the admin is signed in already
      let context: BrowserContext | undefined;
      if (role !== 'admin') {
        const user = {
          username: `plain-${role}`,
          password: `${role}-plain-words-pass-8317`,
          totpSecret: generateTotpSecret(),
        };
        await fixture.hub.users.add(user.username, user.password, [role], Date.now());
        await fixture.hub.users.enrolTotp(user.username, user.totpSecret, -1);
        context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
        p = await context.newPage();
        await signIn(p, fixture.hub.httpUrl, user);
      }
      for (const path of paths) {
        await p.goto(`${fixture.hub.httpUrl}/#/${path}`);
        await scan(p, `${role} #/${path}`);
      }
      await context?.close();
    }
    expect(found).toEqual([]);
  });
});
