/**
 * R5 in Chromium: a governor signs in (TOTP enrolment, S3), opens the evidence pack, picks a term from the timetable,
 * reads compliance and the figures of every incident in that term (no content), and downloads the incident figures
 * as CSV; an incident itself stays closed to them (R6: only those routed to governors). Incidents are stored through
 * the hub's own store (three reports, two in the autumn term, one in the spring term, all routed to the coordinator).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../hub/incidents/incident-store.js';
import { launchBrowser, screenshot } from '../support/browser.js';
import { axeViolations, describeViolations, ensureDashboardBuilt, signIn } from '../support/dashboard.js';
import { type HubFixture, startTestHub } from '../support/hub-fixture.js';

const governor = { username: 'gina', password: 'Governor-harbour-lantern-88' };

describe('governors read the evidence pack (R5)', () => {
  let fixture: HubFixture;
  let browser: Browser;
  let page: Page;
  const stored: Incident[] = [];

  beforeAll(async () => {
    ensureDashboardBuilt();
    fixture = await startTestHub();
    const { hub } = fixture;
    await hub.users.add(governor.username, governor.password, ['governor'], Date.now());
    for (const [i, at] of [
      '2026-10-05T09:30:00Z',
      '2026-11-16T13:45:00Z',
      '2027-02-03T10:10:00Z',
    ].entries()) {
      const prepared = await hub.incidents.prepare({
        kind: 'report',
        site: 'demo-school',
        room: 'room-1',
        device: 'room-1-locker',
        eventId: `room-1-locker:${i + 1}`,
        urgency: 'normal',
        reportedAt: Date.parse(at),
        receivedAt: Date.parse(at),
      });
      await hub.db.batch(prepared.ops, { sync: true });
      stored.push(prepared.incident);
    }
    browser = await launchBrowser();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await fixture?.dispose();
  });

  it('R5: a governor picks a term and reads compliance and every incident figure, without any content', async () => {
    await signIn(page, fixture.hub.httpUrl, governor);
    await page.goto(`${fixture.hub.httpUrl}/#/evidence`);
    await page.getByRole('heading', { name: 'Evidence pack: phones and online safety' }).waitFor();
    await page.getByLabel('Term', { exact: true }).selectOption('Autumn 2026');
    await page.waitForURL(/#\/evidence\?from=2026-09-02&to=2026-12-18$/);
    const totals = page.getByTestId('pack-incident-totals');
    await totals.waitFor();
    // Both autumn reports are counted, though neither is routed to governors: figures, not records.
    await expect(totals.textContent()).resolves.toMatch(/^2 incidents: 2 pupil reports, 0 tamper alerts/);
    const row = page.getByTestId('pack-incidents').getByRole('row', { name: /not yet categorised/ });
    await expect(row.getByRole('cell').nth(0).textContent()).resolves.toBe('2');
    // Compliance and exemptions load for a governor (no "not allowed" notice).
    await page
      .getByText(/No lessons recorded in this range|Compliance by room \(rows\)/)
      .first()
      .waitFor();
    await page
      .getByText(/No exemptions were granted in this range|Authorised phone use granted/)
      .first()
      .waitFor();
    await expect(page.locator('.notice.error, [role="alert"]').count()).resolves.toBe(0);
    const violations = await axeViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    await screenshot(page, 'evidence-pack-governor');

    // The incident figures as CSV: one row per category, then the totals; no incident reference or content.
    const link = page.getByRole('link', { name: 'Download incident figures (CSV)' });
    const href = (await link.getAttribute('href')) as string;
    expect(href).toBe('/api/evidence/incidents.csv?from=2026-09-02&to=2026-12-18');
    const csv = await page.evaluate(async (url) => {
      const r = await fetch(url);
      return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
    }, href);
    expect(csv.status).toBe(200);
    expect(csv.type).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe(
      'from,to,category,incidents,acknowledged,median_minutes_to_acknowledge,longest_minutes',
    );
    expect(lines.slice(1)).toEqual([
      '2026-09-02,2026-12-18,not yet categorised,2,0,,',
      '2026-09-02,2026-12-18,all,2,0,,',
    ]);
    for (const i of stored) expect(csv.body).not.toContain(i.ref);

    // Another term: the spring report alone.
    await page.getByLabel('Term', { exact: true }).selectOption('Spring 2027');
    await page.waitForURL(/#\/evidence\?from=2027-01-05&to=/);
    await page
      .getByTestId('pack-incident-totals')
      .getByText(/^1 incident: 1 pupil report/)
      .waitFor();
  });

  it('R5, R6: the figures never open an incident: its record stays closed to the governor', async () => {
    const first = stored[0] as Incident;
    const status = await page.evaluate(
      async (id) => (await fetch(`/api/incidents/${encodeURIComponent(id)}`)).status,
      first.id,
    );
    expect(status).toBe(404);
  });
});
