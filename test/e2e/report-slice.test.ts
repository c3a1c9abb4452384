/**
 * The first end-to-end slice through every real part (R1, R3, D5): a pupil presses the report button on an emulated
 * Uno running real Firmata → johnny-five → the device program → MQTT QoS 1 → the hub's Aedes broker authenticates the
 * device → ingest validates, dedupes and stores → private influxd → the incident appears live in headless Chromium
 * without a reload → the hub acknowledges → the button light shows the report was received.
 */

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatedSession, startEmulatedBoard } from '../../firmware/board/emulated-session.js';
import { DEFAULT_UNO_PINS } from '../../firmware/board/pin-map.js';
import { type RunningDevice, startDevice } from '../../firmware/device.js';
import { silentLogger } from '../../hub/log.js';
import { totpCode } from '../../hub/users/totp.js';
import { boardCaughtUp } from '../support/board-sync.js';
import { launchBrowser, screenshot } from '../support/browser.js';
import { ensureDashboardBuilt } from '../support/dashboard.js';
import { provisionDevice } from '../support/device-fixture.js';
import { type HubFixture, startTestHub, waitFor } from '../support/hub-fixture.js';

const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };

describe('end-to-end: report button to dashboard and back', () => {
  let fixture: HubFixture;
  let board: EmulatedSession;
  let device: RunningDevice;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ensureDashboardBuilt();
    fixture = await startTestHub();
    // The administrator here is also the head and the DSL (a small school), set in the store as a fixture: through
    // the hub no account may grant itself a role.
    await fixture.hub.users.setRoles('admin', ['admin', 'head', 'dsl'], 'system:test-setup');
    const { hub } = fixture;
    const { config, secret } = await provisionDevice(
      hub,
      fixture.dataDir,
      { timing: { longPressMs: 2000, heldTamperMs: 30_000, confirmShowMs: 4000, heartbeatMs: 10_000 } },
      address,
    );
    board = await startEmulatedBoard(config.pins, { id: address.device });
    device = await startDevice({ config, board: board.port, password: secret, log: silentLogger });
    await waitFor(() => device.connected(), 'device connected');

    browser = await launchBrowser();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await device?.stop();
    await board?.close();
    await fixture?.dispose();
  });

  it('R1, R3: a button press appears live on the dashboard, is stored once, and the light confirms it', async () => {
    const { hub } = fixture;
    const admin = hub.firstRunAdmin;
    expect(admin).not.toBeNull();

    await page.goto(hub.httpUrl);
    await page.getByLabel('Username').fill(admin!.username);
    await page.getByLabel('Password').fill(admin!.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // S3: the first-run admin enrols a TOTP second factor at first sign-in.
    const secret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? '';
    await page.getByLabel('Six-digit code from your authenticator app').fill(totpCode(secret, Date.now()));
    await page.getByRole('button', { name: 'Verify code' }).click();
    await page.getByTestId('live').getByText('Live').waitFor();
    await page.locator(`[data-device="${address.device}"]`).getByText('online').waitFor();
    await page.getByRole('link', { name: /^Reports/ }).click();
    await expect(page.getByTestId('unacknowledged-count').textContent()).resolves.toBe('0 unacknowledged');
    await screenshot(page, 'slice-before-report');

    // A short press: the pin goes LOW (pull-up released by the button), then HIGH again.
    board.emulator.setPin(DEFAULT_UNO_PINS.button, false);
    await new Promise((r) => setTimeout(r, 150));
    board.emulator.setPin(DEFAULT_UNO_PINS.button, true);

    // Pushed over SSE: no reload.
    const row = page.locator('tr[data-ref]');
    await row.first().waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('unacknowledged-count').textContent()).resolves.toBe('1 unacknowledged');
    const ref = await row.first().getAttribute('data-ref');
    expect(ref).toMatch(/^[A-Z2-9]{4}$/);
    await expect(row.first().textContent()).resolves.toContain('room-1');
    await screenshot(page, 'slice-report-arrived');

    // The hub acknowledged: the device shows "received" on the button light, steady on the real PWM pin.
    await waitFor(() => device.outputs()?.buttonLight === 'confirmed', 'button light confirmed');
    // The device has applied it; the chip shows it once it has read every command before (the sending blink's too).
    await boardCaughtUp(board.emulator);
    const samples: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      samples.push(board.emulator.pwmDuty(DEFAULT_UNO_PINS.buttonLight));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(Math.min(...samples)).toBeGreaterThan(0.9);
    expect(device.queued()).toBe(0);

    // Stored exactly once: one incident, and one report point in the real influxd.
    const incidents = await hub.incidents.list();
    expect(incidents.filter((i) => i.kind === 'report')).toHaveLength(1);
    expect(incidents[0]?.ref).toBe(ref);
    await hub.outbox.drain();
    const series = await hub.store.query(
      `SELECT count("count") FROM "report" WHERE "device" = '${address.device}'`,
    );
    expect(series[0]?.values[0]?.[1]).toBe(1);
  });
});
