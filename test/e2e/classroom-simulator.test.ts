/**
 * The demo's classroom simulator end to end (R1, R3): a visitor presses the report button on the simulator's page in
 * headless Chromium → the simulator drives the emulated Uno's button pin → real Firmata → johnny-five → the device
 * program → MQTT → the hub → the report appears in the Reports inbox of the DSL signed in on the dashboard, and the
 * simulator's page, reading the button light's pin, says "received". The page passes axe and shows no rule id.
 * With UPDATE_SCREENSHOTS=1 it also writes the README's screenshots (the simulator and the Today page).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classroom } from '../../cli/simulator/classroom.js';
import { type SimulatorServer, startSimulatorServer } from '../../cli/simulator/server.js';
import { type EmulatedSession, startEmulatedBoard } from '../../firmware/board/emulated-session.js';
import { type RunningDevice, startDevice } from '../../firmware/device.js';
import { silentLogger } from '../../hub/log.js';
import { docScreenshot, launchBrowser } from '../support/browser.js';
import {
  axeViolations,
  describeViolations,
  ensureDashboardBuilt,
  ruleIdsShown,
  signIn,
} from '../support/dashboard.js';
import { allDayLessonSchool, provisionDevice, ROOM1 } from '../support/device-fixture.js';
import { type HubFixture, startTestHub, waitFor } from '../support/hub-fixture.js';

const dsl = { username: 'dsl', password: 'violet harbour lantern 47' };

describe('end-to-end: the classroom simulator', () => {
  let fixture: HubFixture;
  let board: EmulatedSession;
  let device: RunningDevice;
  let simulator: SimulatorServer;
  let browser: Browser;
  let dashboard: Page;
  let sim: Page;

  beforeAll(async () => {
    ensureDashboardBuilt();
    // A lesson all day, whenever the test runs: the locker is locked and the signage steady red (P1), as in class.
    // One classroom with its device, so the Today page shows what the demo shows for each of its rooms.
    const school = allDayLessonSchool();
    fixture = await startTestHub({
      school: { ...school, devices: school.devices.filter((d) => d.id === ROOM1.device) },
    });
    const { hub } = fixture;
    await hub.users.add(dsl.username, dsl.password, ['dsl', 'coordinator'], Date.now());
    // The demo's device timing.
    const { config, secret } = await provisionDevice(hub, fixture.dataDir, {
      timing: { longPressMs: 2000, heldTamperMs: 30_000, confirmShowMs: 4000, heartbeatMs: 10_000 },
    });
    board = await startEmulatedBoard(config.pins, { id: ROOM1.device });
    const classroom = new Classroom({
      device: ROOM1.device,
      room: ROOM1.room,
      emulator: board.emulator,
      pins: config.pins,
      longPressMs: config.timing.longPressMs,
    });
    // The demo's classroom at rest: door shut, two phones in.
    classroom.setInput(config.pins.door, false);
    for (const slot of config.pins.slots.slice(0, 2)) classroom.setInput(slot, false);
    simulator = await startSimulatorServer({ classrooms: [classroom], log: silentLogger });
    device = await startDevice({ config, board: board.port, password: secret, log: silentLogger });
    await waitFor(() => device.connected(), 'device connected');

    browser = await launchBrowser();
    dashboard = await browser.newPage({ viewport: { width: 1280, height: 640 } });
    sim = await browser.newPage({ viewport: { width: 900, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await simulator?.close();
    await device?.stop();
    await board?.close();
    await fixture?.dispose();
  });

  it('R1, R3: a press on the simulator reaches the Reports inbox, and its light reads "received"', async () => {
    await signIn(dashboard, fixture.hub.httpUrl, dsl);
    await dashboard.locator(`[data-device="${ROOM1.device}"]`).getByText('online').waitFor();
    await docScreenshot(dashboard, 'today');
    await dashboard.getByRole('link', { name: /^Reports/ }).click();
    const count = (text: string) =>
      dashboard
        .locator('[data-testid="unacknowledged-count"]', { hasText: text })
        .waitFor({ timeout: 20_000 });
    await count('0 unacknowledged');

    await sim.goto(simulator.url);
    const room = sim.locator(`section[data-device="${ROOM1.device}"]`);
    const light = room.getByTestId(`button-light-${ROOM1.device}`);
    // Read from the pins: the hub's lesson has locked the locker and lit the signage steady red (P1).
    await room.getByTestId(`signage-${ROOM1.device}`).getByText('steady red: phones away').waitFor();
    await room.getByTestId(`lock-${ROOM1.device}`).getByText('locked', { exact: true }).waitFor();
    await light.getByText('ready', { exact: true }).waitFor();
    await expect(room.getByTestId(`phones-${ROOM1.device}`).textContent()).resolves.toBe('2 of 4');
    await docScreenshot(sim, 'simulator');

    await room.getByRole('button', { name: 'Press the report button' }).click();
    await light.getByText('received', { exact: true }).waitFor({ timeout: 20_000 });

    const row = dashboard.locator('tr[data-ref]');
    await row.first().waitFor({ timeout: 20_000 });
    // Pushed over the live stream: the count follows the row.
    await count('1 unacknowledged');
    await expect(row.first().textContent()).resolves.toContain(ROOM1.room);
    const reports = (await fixture.hub.incidents.list()).filter((i) => i.kind === 'report');
    expect(reports.map((r) => r.urgency)).toEqual(['normal']);
    // After the confirmation the light settles back to ready.
    await light.getByText('ready', { exact: true }).waitFor({ timeout: 20_000 });
  });

  it('R1: a long press on the simulator is an urgent report', async () => {
    const room = sim.locator(`section[data-device="${ROOM1.device}"]`);
    await room.getByRole('button', { name: 'Hold the report button (urgent)' }).click();
    await waitFor(
      async () =>
        (await fixture.hub.incidents.list()).some((i) => i.kind === 'report' && i.urgency === 'urgent'),
      'an urgent report at the hub',
      20_000,
    );
  });

  it('P5: opening the door and taking a phone show on the page and reach the device program', async () => {
    const room = sim.locator(`section[data-device="${ROOM1.device}"]`);
    await room.getByRole('button', { name: 'Open the door' }).click();
    await room.getByTestId(`door-${ROOM1.device}`).getByText('open').waitFor();
    await room.getByRole('button', { name: 'Take the phone from slot 1' }).click();
    await room.getByTestId(`phones-${ROOM1.device}`).getByText('1 of 4').waitFor();
    await waitFor(() => {
      const { locker } = device.state();
      return locker.doorOpen && locker.slots.filter(Boolean).length === 1;
    }, 'the device to see the door open and one phone');
  });

  it('the simulator page passes axe and names no policy rule', async () => {
    expect(describeViolations(await axeViolations(sim))).toBe('');
    expect(await ruleIdsShown(sim)).toEqual([]);
  });
});
