/**
 * Software updates in Chromium (Devices page): the admin uploads a signed bundle through the file picker, a bundle
 * signed with another key is refused in plain words and nothing is added, then the admin starts a roll-out, offers it
 * to one room (the hub retains the offer for that room's devices only), sees each device's progress, and stops it.
 * Every step is audited (S6); office staff see the versions but are offered no controls (S5).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../schemas/topics.js';
import { buildBundle, generateReleaseKeys, hostTarget, signBundle } from '../../shared/release-bundle.js';
import { launchBrowser, screenshot } from '../support/browser.js';
import {
  axeViolations,
  describeViolations,
  ensureDashboardBuilt,
  ruleIdsShown,
  signIn,
} from '../support/dashboard.js';
import { type HubFixture, startTestHub } from '../support/hub-fixture.js';

const SECRET = 'fleet-e2e-secret-0123456789abcdef';
const office = { username: 'olly', password: 'Office-lantern-harbour-81' };

const bundle = (version: string, key: string) =>
  signBundle(
    buildBundle({ version, target: hostTarget(), entry: 'dist/firmware/boot.js' }, [
      { path: 'dist/firmware/boot.js', mode: 0o644, data: Buffer.from(`// ${version}\n`) },
    ]),
    key,
  );

describe('software updates on the dashboard (S5, S6)', () => {
  let fixture: HubFixture;
  let browser: Browser;
  let page: Page;
  let dir: string;
  const school = generateReleaseKeys();
  const stranger = generateReleaseKeys();
  const site = () => fixture.hub.school.site;
  const offeredTo = async () =>
    (await fixture.hub.broker.retained(topics.siteCommands(site())))
      .filter((p) => p.topic.endsWith('/set/update') && p.payload.length > 0)
      .map((p) => p.topic)
      .sort();

  beforeAll(async () => {
    ensureDashboardBuilt();
    dir = mkdtempSync(join(tmpdir(), 'phones-away-fleet-e2e-'));
    writeFileSync(join(dir, 'release.pub'), school.publicKeyPem);
    fixture = await startTestHub({ config: { updates: { publicKeys: [join(dir, 'release.pub')] } } });
    const { hub } = fixture;
    const rooms = hub.school.rooms.slice(0, 2).map((r) => r.id);
    for (const [i, room] of rooms.entries())
      await hub.registry.provision({
        id: `fleet-${i + 1}`,
        address: { site: hub.school.site, room, device: `fleet-${i + 1}` },
        secret: SECRET,
        lockerMode: 'lesson',
        now: Date.now(),
      });
    await hub.users.add(office.username, office.password, ['office'], Date.now());
    writeFileSync(join(dir, 'good.bundle'), bundle('2.0.0', school.privateKeyPem));
    writeFileSync(join(dir, 'stranger.bundle'), bundle('2.0.1', stranger.privateKeyPem));
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1024, height: 900 } })).newPage();
    await signIn(page, hub.httpUrl, hub.firstRunAdmin!);
  });

  afterAll(async () => {
    await browser?.close();
    await fixture?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('S6: a stranger-signed bundle is refused in plain words; the school-signed one is accepted', async () => {
    await page.goto(`${fixture.hub.httpUrl}/#/devices`);
    const section = page.locator('section[aria-labelledby="updates-heading"]');
    await section.getByText('No versions uploaded yet.').waitFor();
    const upload = section.getByRole('form', { name: 'Upload a new version' });

    await upload.getByLabel('New version (signed bundle file)').setInputFiles(join(dir, 'stranger.bundle'));
    await upload.getByRole('button', { name: 'Upload' }).click();
    await section.getByRole('alert').waitFor();
    expect(await section.getByRole('alert').textContent()).not.toMatch(/E_[A-Z_]+/);
    expect(fixture.hub.rejects.snapshot()['release: refused bundle']).toBe(1);
    await expect(fixture.hub.updates.releases.list()).resolves.toEqual([]);

    await upload.getByLabel('New version (signed bundle file)').setInputFiles(join(dir, 'good.bundle'));
    await upload.getByRole('button', { name: 'Upload' }).click();
    await section.getByText('Version accepted: the signature is good.').waitFor();
    await section.getByText(/Version 2\.0\.0, uploaded/).waitFor();
    expect((await fixture.hub.audit.list()).map((e) => e.action)).toContain('release.add');
  });

  it('S5, S6: the admin starts the update, offers it to one room, sees its progress and stops it', async () => {
    const section = page.locator('section[aria-labelledby="updates-heading"]');
    await section.getByLabel('Version', { exact: true }).selectOption('2.0.0');
    await section.getByRole('button', { name: 'Start update' }).click();
    await section.getByText('Update started. Now choose the first room.').waitFor();
    expect(await offeredTo()).toEqual([]);

    const firstRoom = fixture.hub.school.rooms[0];
    await section.getByLabel('First room').selectOption(firstRoom?.id as string);
    await section.getByRole('button', { name: 'Offer to this room' }).click();
    await section.getByText('Offered to the room.').waitFor();
    expect(await offeredTo()).toEqual([
      `${topics.set({ site: site(), room: firstRoom?.id as string, device: 'fleet-1' }, 'update')}`,
    ]);
    await section.locator('tr[data-update-row="fleet-1"]').getByText('Offered').waitFor();
    await expect(section.locator('tr[data-update-row="fleet-2"]').count()).resolves.toBe(0);
    const violations = await axeViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    expect(await ruleIdsShown(page)).toEqual([]);
    await screenshot(page, 'devices-software-updates');

    await section.getByRole('button', { name: 'Stop update' }).click();
    await section.getByText('Update stopped.').waitFor();
    expect(await offeredTo()).toEqual([]);
    const actions = (await fixture.hub.audit.list()).map((e) => e.action);
    for (const action of ['update.begin', 'update.widen', 'update.stop']) expect(actions).toContain(action);

    const context = await browser.newContext();
    const o = await context.newPage();
    await signIn(o, fixture.hub.httpUrl, office);
    await o.goto(`${fixture.hub.httpUrl}/#/devices`);
    const seen = o.locator('section[aria-labelledby="updates-heading"]');
    await seen.getByText(/Version 2\.0\.0, uploaded/).waitFor();
    await expect(seen.getByRole('button').count()).resolves.toBe(0);
    await context.close();
  });
});
