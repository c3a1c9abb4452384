/**
 * P2 in Chromium: pupils' phones stored in the office are released only by the Headteacher's explicit action on the
 * Today page, with a reason, recorded in the audit log, and locked again by the head; a teacher is never offered it.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../support/browser.js';
import { axeViolations, describeViolations, ensureDashboardBuilt, signIn } from '../support/dashboard.js';
import { type HubFixture, startTestHub } from '../support/hub-fixture.js';

const head = { username: 'hana', password: 'Head-teacher-orchard-2026' };
const teacher = { username: 'tom', password: 'Teacher-copper-meadow-57' };

describe('stored phones in the office (P2)', () => {
  let fixture: HubFixture;
  let browser: Browser;
  let page: Page;
  const officeDirective = async () =>
    (await fixture.hub.policy.driver.directives()).find((d) => d.id === 'office-locker')?.directive;

  beforeAll(async () => {
    ensureDashboardBuilt();
    fixture = await startTestHub();
    await fixture.hub.users.add(head.username, head.password, ['head'], Date.now());
    await fixture.hub.users.add(teacher.username, teacher.password, ['teacher'], Date.now());
    browser = await launchBrowser();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await fixture?.dispose();
  });

  it('P2: the head releases the office’s stored phones with a reason, audited, and locks them again', async () => {
    await signIn(page, fixture.hub.httpUrl, head);
    const section = page.getByTestId('stored-phones');
    await section.getByRole('heading', { name: 'Phones stored in the office' }).waitFor();
    // A reason is required: an empty submit sends nothing.
    await section.getByRole('button', { name: 'Release stored phones' }).click();
    expect((await fixture.hub.audit.list()).some((e) => e.action === 'storage.release')).toBe(false);
    await section
      .getByLabel(/Why release the phones stored in School office now/)
      .fill('Trip leaves at 13:00');
    await section.getByRole('button', { name: 'Release stored phones' }).click();
    await section.getByText('released', { exact: true }).waitFor();
    expect(await officeDirective()).toMatchObject({ locked: false, reason: 'staff' });
    const entry = (await fixture.hub.audit.list()).find((e) => e.action === 'storage.release');
    expect(entry).toMatchObject({
      actor: head.username,
      target: 'room:office',
      after: { reason: 'Trip leaves at 13:00' },
    });
    const violations = await axeViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(page, 'today-stored-phones-released');

    await section.getByRole('button', { name: 'Lock stored phones again' }).click();
    await section.getByRole('button', { name: 'Release stored phones' }).waitFor();
    expect((await officeDirective())?.reason).not.toBe('staff');
    expect((await fixture.hub.audit.list()).find((e) => e.action === 'storage.relock')).toMatchObject({
      actor: head.username,
    });
  });

  it('P2, S5: a teacher is not offered the release, and the hub refuses it', async () => {
    const context = await browser.newContext();
    const t = await context.newPage();
    await signIn(t, fixture.hub.httpUrl, teacher);
    await t.getByRole('heading', { name: 'Rooms' }).waitFor();
    await expect(t.getByTestId('stored-phones').count()).resolves.toBe(0);
    const status = await t.evaluate(async () => {
      const csrf = ((await (await fetch('/api/session')).json()) as { data: { csrf: string } }).data.csrf;
      const r = await fetch('/api/stored-phones/release', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ room: 'office', reason: 'I want them back', confirm: true }),
      });
      return r.status;
    });
    expect(status).toBe(403);
    await context.close();
  });
});
