/**
 * Separation of duties in real headless Chromium against a real hub (S1, S5, S6): the administrator's grant of a
 * report-reading role and reset of the DSL's second factor wait on the Accounts page; the head approves one and
 * refuses nothing of their own in Settings → Approvals; the administrator's own row offers no role or reset controls,
 * and the hub refuses a self-grant sent anyway. axe-core on each page.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../support/browser.js';
import { axeViolations, describeViolations, ensureDashboardBuilt, signIn } from '../support/dashboard.js';
import { type HubFixture, startTestHub, waitFor } from '../support/hub-fixture.js';
import { StaffClient } from '../support/staff-client.js';

const PASSWORD = 'tulip lantern orbit 42';

describe('dashboard: account changes wait for a second person (S5)', () => {
  let fixture: HubFixture;
  let browser: Browser;
  let adminPage: Page;
  let headPage: Page;

  async function expectAccessible(p: Page, name: string) {
    await screenshot(p, `dashboard-${name}`);
    const violations = await axeViolations(p);
    expect(violations, `${name}:\n${describeViolations(violations)}`).toEqual([]);
  }

  beforeAll(async () => {
    ensureDashboardBuilt();
    fixture = await startTestHub();
    const { hub } = fixture;
    await hub.users.add('hattie', PASSWORD, ['head'], Date.now());
    await hub.users.add('dora', PASSWORD, ['dsl'], Date.now());
    await hub.users.add('tom', PASSWORD, ['teacher'], Date.now());
    // The DSL has set up her second factor, so there is one to reset.
    expect((await new StaffClient(hub.httpUrl, 'dora', PASSWORD).signIn()).status).toBe(200);
    browser = await launchBrowser();
    adminPage = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
    headPage = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
    await signIn(adminPage, hub.httpUrl, hub.firstRunAdmin!);
    await signIn(headPage, hub.httpUrl, { username: 'hattie', password: PASSWORD });
  });

  afterAll(async () => {
    await browser?.close();
    await fixture?.dispose();
  });

  it("S5: the administrator's own row offers no role change or reset, and a self-grant sent anyway is refused", async () => {
    await adminPage.goto(`${fixture.hub.httpUrl}/#/settings/accounts`);
    const own = adminPage.getByRole('row', { name: /^admin\b/ });
    await own.getByText('Change your password on Your account.').waitFor();
    expect(await own.getByRole('button').count()).toBe(0);
    // The page's own session posts a self-grant, as a script in the admin's browser would.
    const status = await adminPage.evaluate(async () => {
      const session = (await (await fetch('/api/session')).json()) as { data: { csrf: string } };
      const reply = await fetch('/api/users/admin/role', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.data.csrf },
        body: JSON.stringify({ roles: ['admin', 'dsl'] }),
      });
      return reply.status;
    });
    expect(status).toBe(403);
    expect((await fixture.hub.users.get('admin'))?.roles).toEqual(['admin']);
    await expectAccessible(adminPage, 'accounts-own-row');
  });

  it('S5, S6: a grant and a reset wait for approval; the head approves the grant and refuses the reset', async () => {
    const { hub } = fixture;
    await adminPage.goto(`${hub.httpUrl}/#/settings/accounts`);
    // Grant the DSL role to a teacher.
    await adminPage.getByText('Change roles of tom').click();
    const tomRow = adminPage.getByRole('row', { name: /^tom\b/ });
    await tomRow.getByLabel('Designated safeguarding lead').check();
    await tomRow.getByRole('button', { name: 'Save roles' }).click();
    await adminPage
      .getByRole('status')
      .getByText('Waiting for approval by the headteacher or the DSL')
      .waitFor();
    expect((await hub.users.get('tom'))?.roles).toEqual(['teacher']);
    // Reset the DSL's second factor.
    await adminPage.getByRole('button', { name: 'Reset second factor for dora' }).click();
    await adminPage.getByRole('status').getByText('reset the second factor of dora').waitFor();
    const pendingList = adminPage.getByTestId('approvals');
    await pendingList.getByText('asked to change the roles of tom').waitFor();
    await pendingList.getByText('asked to reset the second factor of dora').waitFor();
    // The administrator cannot approve; they may withdraw.
    expect(await pendingList.getByRole('button', { name: /^Approve/ }).count()).toBe(0);
    await expectAccessible(adminPage, 'accounts-pending');

    await headPage.goto(`${hub.httpUrl}/#/settings/approvals`);
    const list = headPage.getByTestId('approvals');
    await list.getByText('asked to change the roles of tom').waitFor();
    await expectAccessible(headPage, 'approvals');
    await headPage.getByRole('button', { name: /^Approve\W+change the roles of tom/ }).click();
    await headPage.getByRole('status').getByText('Approved: change the roles of tom').waitFor();
    await headPage.getByRole('button', { name: /^Refuse\W+reset the second factor of dora/ }).click();
    await headPage.getByRole('status').getByText('Refused: reset the second factor of dora').waitFor();
    await headPage.getByTestId('no-approvals').waitFor();

    expect((await hub.users.get('tom'))?.roles).toEqual(['teacher', 'dsl']);
    expect((await hub.users.get('dora'))?.totpSecret).toBeDefined();
    const log = (await hub.audit.list({ limit: 20 })).map((e) => [e.action, e.actor]);
    expect(log).toEqual(
      expect.arrayContaining([
        ['account.change-approved', 'user:hattie'],
        ['user.roles', 'user:admin'],
        ['account.change-refused', 'user:hattie'],
      ]),
    );
    // The administrator's page shows the result after a reload.
    await adminPage.reload();
    await adminPage
      .getByRole('row', { name: /^tom\b/ })
      .getByRole('cell', { name: 'Teacher, Designated safeguarding lead' })
      .waitFor();
    await waitFor(
      async () => ((await adminPage.getByTestId('no-approvals').count()) > 0 ? true : undefined),
      'empty',
    );
  });
});
