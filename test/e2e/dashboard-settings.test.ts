/**
 * The administrator's settings editors and the confiscation register in real headless Chromium against a real hub
 * (aedes, private influxd), one hub and one browser for the file: a period time edited and saved, a field error for
 * an invalid time shown beside its field, a room with a device refused, the policy preset applied (P8, S5, S6), and a
 * teacher recording and returning a confiscated phone while the office only reads (P7, D1). axe-core on each page.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SchoolModel } from '../../schemas/config.js';
import { launchBrowser, screenshot } from '../support/browser.js';
import { axeViolations, describeViolations, ensureDashboardBuilt, signIn } from '../support/dashboard.js';
import { type HubFixture, startTestHub, waitFor } from '../support/hub-fixture.js';
import { data, StaffClient } from '../support/staff-client.js';

const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const teacher = { username: 'tess', password: 'teacher-pass-phrase-2207' };
const office = { username: 'olly', password: 'office-pass-phrase-0417' };

describe('dashboard: settings editors and the confiscation register', () => {
  let fixture: HubFixture;
  let browser: Browser;
  let page: Page;

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
    await hub.registry.provision({
      id: address.device,
      address,
      secret: 'settings-e2e-secret-0123456789',
      lockerMode: 'lesson',
      now,
    });
    await hub.users.add(teacher.username, teacher.password, ['teacher'], now);
    await hub.users.add(office.username, office.password, ['office'], now);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
    await signIn(page, hub.httpUrl, hub.firstRunAdmin!);
  });

  afterAll(async () => {
    await browser?.close();
    await fixture?.dispose();
  });

  it('P1, S6: the admin edits a period time and saves it; an invalid time gets an error beside the field', async () => {
    await page.goto(`${fixture.hub.httpUrl}/#/settings/timetable`);
    const start = page.getByLabel('Period 1 start');
    await expect(start.inputValue()).resolves.toBe('09:00');
    await start.fill('09:05');
    await page.getByRole('button', { name: 'Save timetable' }).click();
    await page.getByRole('status').getByText('Timetable saved').waitFor();
    const stored = await waitFor(
      () => fixture.hub.db.get<SchoolModel>('meta', 'school-model'),
      'stored school model',
    );
    expect(stored.timetable.periods.find((p) => p.name === 'Period 1')?.start).toBe('09:05');
    expect((await fixture.hub.audit.list()).map((e) => e.action)).toContain('school.timetable.updated');
    await expectAccessible(page, 'settings-timetable-edit');

    await start.fill('9:75');
    await page.getByRole('button', { name: 'Save timetable' }).click();
    await page.locator('#periods-1-start-error').getByText('must be a 24-hour time such as 09:05').waitFor();
    await expect(start.getAttribute('aria-invalid')).resolves.toBe('true');
    await page.getByRole('alert').getByText('the timetable was not saved').waitFor();
    await expectAccessible(page, 'settings-timetable-error');
    // Nothing changed on the hub.
    const after = await fixture.hub.db.get<SchoolModel>('meta', 'school-model');
    expect(after?.timetable.periods.find((p) => p.name === 'Period 1')?.start).toBe('09:05');
  });

  it("P1, S6: a save over another admin's newer timetable is refused with the reason, and theirs stays", async () => {
    const password = 'Harbour-lantern-orbit-42';
    await fixture.hub.users.add('ada2', password, ['admin'], Date.now());
    const other = new StaffClient(fixture.hub.httpUrl, 'ada2', password);
    expect((await other.signIn()).status).toBe(200);
    // This window opens the timetable now...
    await page.goto(`${fixture.hub.httpUrl}/#/settings/timetable`);
    await page.reload();
    const start = page.getByLabel('Period 1 start');
    await expect(start.inputValue()).resolves.toBe('09:05');
    // ...and another admin saves a change to it first.
    const seen = data(
      await other.get<{ timetable: SchoolModel['timetable']; versions: Record<string, string> }>(
        '/api/policy',
      ),
    );
    const theirs = { ...seen.timetable, arrival: '08:12' };
    const saved = await other.request('PUT', '/api/school/timetable', theirs, {
      headers: { 'if-match': `"${seen.versions.timetable}"` },
    });
    expect(saved.status).toBe(200);
    await start.fill('09:10');
    await page.getByRole('button', { name: 'Save timetable' }).click();
    await page.getByRole('alert').getByText('someone else saved the timetable since you opened it').waitFor();
    const stored = await fixture.hub.db.get<SchoolModel>('meta', 'school-model');
    expect(stored?.timetable.arrival).toBe('08:12');
    expect(stored?.timetable.periods.find((p) => p.name === 'Period 1')?.start).toBe('09:05');
  });

  it('P3, P8: a room with a device cannot be removed; the DfE 2026 preset is applied to the matrix', async () => {
    await page.goto(`${fixture.hub.httpUrl}/#/settings/rooms`);
    await page.getByRole('button', { name: 'Remove Room 1 (Maths)' }).click();
    await page.getByRole('button', { name: 'Save zones and rooms' }).click();
    await page
      .getByTestId('rooms-error')
      .getByText(/device room-1-locker is in it/)
      .waitFor();
    await expectAccessible(page, 'settings-rooms-edit');

    await page.goto(`${fixture.hub.httpUrl}/#/settings/policy`);
    await expect(page.getByTestId('preset').textContent()).resolves.toBe('seed');
    await page.getByLabel('Preset').selectOption('dfe-2026');
    await page.getByRole('button', { name: /Apply preset/ }).click();
    await page.getByTestId('preset').getByText('dfe-2026').waitFor();
    // DfE 2026: no staff phones at break in the designated area, only "not if avoidable".
    await expect(page.getByLabel('Staff, Break, Designated phone area').inputValue()).resolves.toBe(
      'if-unavoidable',
    );
    await expectAccessible(page, 'settings-policy-edit');
  });

  it('P7, D1: a teacher records a confiscation; the office reads the register and records its return', async () => {
    const context = await browser.newContext({ viewport: { width: 820, height: 1180 } });
    const p = await context.newPage();
    await signIn(p, fixture.hub.httpUrl, teacher);
    const register = p.getByTestId('confiscations');
    await register.getByText('Never name or describe the pupil').waitFor();
    await register.getByLabel('Locker').selectOption(address.device);
    await register.getByLabel('Slot').selectOption('3');
    await register.getByLabel('What happened').fill('Used during period 2');
    await register.getByRole('button', { name: 'Record confiscation' }).click();
    const row = register.locator('tr[data-confiscation]');
    await row.getByText('Used during period 2').waitFor();
    await expect(row.getByRole('cell').first().textContent()).resolves.toBe('3');
    // The room card shows the open count with an icon and words, live.
    const card = p.locator(`[data-device="${address.device}"]`);
    await card.getByTestId('confiscated').getByText('1 not yet returned').waitFor();
    await expect(card.getByTestId('confiscated').locator('svg').count()).resolves.toBe(1);
    await expectAccessible(p, 'today-confiscation');

    const officeContext = await browser.newContext();
    const o = await officeContext.newPage();
    await signIn(o, fixture.hub.httpUrl, office);
    const officeRegister = o.getByTestId('confiscations');
    await officeRegister.getByText('Used during period 2').waitFor();
    // The office records no confiscation (S5) but hands phones back at the end of the day and records the return.
    await expect(o.getByRole('button', { name: 'Record confiscation' }).count()).resolves.toBe(0);
    await expect(officeRegister.getByRole('button').count()).resolves.toBe(1);
    await officeRegister.getByRole('button', { name: /Returned/ }).click();
    await officeRegister.getByTestId('no-confiscations').waitFor();
    await officeContext.close();
    // The teacher's Today card follows live.
    await card.getByTestId('confiscated').getByText('None').waitFor();
    expect(
      (await fixture.hub.audit.list({ limit: 20 })).find((e) => e.action === 'confiscation.returned'),
    ).toMatchObject({
      actor: office.username,
    });
    await context.close();
  });
  it('S1: any account changes its own password: wrong current and weak new are refused beside their fields; then every session ends', async () => {
    const pat = { username: 'pat', password: 'amber-river-lantern-11' };
    const next = 'quiet-harbour-violet-22';
    await fixture.hub.users.add(pat.username, pat.password, ['office'], Date.now());
    // A second browser signed in as pat elsewhere: it must be signed out by the change too.
    const elsewhere = await browser.newContext();
    const other = await elsewhere.newPage();
    await signIn(other, fixture.hub.httpUrl, pat);
    const context = await browser.newContext();
    const p = await context.newPage();
    await signIn(p, fixture.hub.httpUrl, pat);
    await p.getByRole('link', { name: 'Your account' }).click();
    const form = p.getByTestId('password-form');
    await form.waitFor();
    await expectAccessible(p, 'account');

    const change = async (current: string, password: string, confirm = password) => {
      await form.getByLabel('Current password').fill(current);
      await form.getByLabel('New password', { exact: true }).fill(password);
      await form.getByLabel('New password again').fill(confirm);
      await form.getByRole('button', { name: 'Change password' }).click();
    };
    await change('not-my-password-at-all', next);
    await form.locator('#current-error').getByText('current password is wrong').waitFor();
    await change(pat.password, 'short');
    await form.locator('#password-error').getByText('at least 12 characters').waitFor();
    await change(pat.password, next, `${next}!`);
    await form.locator('#confirm-error').getByText('does not match').waitFor();
    // None of those changed anything: the old password still signs in.
    expect((await fixture.hub.users.verify(pat.username, pat.password))?.username).toBe(pat.username);

    await change(pat.password, next);
    await p.getByTestId('sign-in-note').getByText('Password changed').waitFor();
    expect(await fixture.hub.users.verify(pat.username, pat.password)).toBeNull();
    const elsewhereSession = await other.evaluate(async () => (await fetch('/api/session')).status);
    expect(elsewhereSession).toBe(401);
    await signIn(p, fixture.hub.httpUrl, { username: pat.username, password: next });
    await context.close();
    await elsewhere.close();
  });
});
