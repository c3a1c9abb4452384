/**
 * Hardware in the loop: the real device program (firmware/device.ts) on an emulated Uno running the real Firmata
 * firmware through johnny-five, connected to a real hub (Aedes, ingest, incident log, private influxd). Assertions
 * are on the emulated pins and timer registers on one side and on what the hub stored on the other.
 * One board per file (johnny-five keeps a global board list). The school has a lesson all day, every day.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardPort } from '../../../firmware/board/board-port.js';
import type { EmulatedUno } from '../../../firmware/board/emulated-uno.js';
import { BoardUnavailableError, openBoard } from '../../../firmware/board/open-board.js';
import { DEFAULT_UNO_PINS as PINS } from '../../../firmware/board/pin-map.js';
import { type RunningDevice, startDevice } from '../../../firmware/device.js';
import type { Heartbeat, LockerEvent, LockerState, SignageState } from '../../../schemas/messages.js';
import { silentLogger } from '../../../shared/log.js';
import {
  allDayLessonSchool,
  provisionDevice,
  ROOM1,
  sendCommand,
  sleep,
} from '../../support/device-fixture.js';
import { type HubFixture, startTestHub, waitFor } from '../../support/hub-fixture.js';

describe('device program on the emulated Uno against a real hub (hardware in the loop)', () => {
  let fixture: HubFixture;
  let dir: string;
  let device: RunningDevice;
  let emulator: EmulatedUno;
  let unplugged = false;
  const lockerStates: LockerState[] = [];
  const signageStates: SignageState[] = [];
  const lockerEvents: LockerEvent[] = [];
  const heartbeats: Heartbeat[] = [];

  /** Boots a fresh emulated Uno (the cable plugged in); refuses while the test holds it unplugged. */
  const plugIn = async (): Promise<BoardPort> => {
    if (unplugged) throw new BoardUnavailableError('unplugged by the test');
    const opened = await openBoard({ kind: 'emulated-uno' }, PINS, silentLogger, { id: 'hil' });
    if (!opened.emulator) throw new Error('no emulator');
    emulator = opened.emulator;
    return opened.port;
  };

  const press = async (ms: number) => {
    emulator.setPin(PINS.button, false);
    await sleep(ms);
    emulator.setPin(PINS.button, true);
  };

  const incidents = () => fixture.hub.incidents.list();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phones-away-hil-'));
    fixture = await startTestHub({ school: allDayLessonSchool() });
    const { hub } = fixture;
    hub.bus.on('device.locker-state', ({ state }) => {
      lockerStates.push(state);
    });
    hub.bus.on('device.signage-state', ({ state }) => {
      signageStates.push(state);
    });
    hub.bus.on('device.locker-event', ({ event }) => {
      lockerEvents.push(event);
    });
    hub.bus.on('device.heartbeat', ({ heartbeat }) => {
      heartbeats.push(heartbeat);
    });
    // The driver's listener is older than this one, so once this sees 'online' the driver has queued its refresh.
    let online = false;
    hub.bus.on('device.availability', ({ availability }) => {
      if (availability.status === 'online') online = true;
    });
    const { config, secret } = await provisionDevice(hub, dir);
    const board = await plugIn();
    // The door is shut (reed closed = LOW) before the board reports its levels.
    emulator.setPin(PINS.door, false);
    device = await startDevice({
      config,
      board,
      reopenBoard: plugIn,
      boardRetryMs: 200,
      password: secret,
      log: silentLogger,
    });
    await waitFor(() => device.connected(), 'device connected');
    // The hub brings a device that comes online up to date (its lock command carries a newer ts than any sent
    // before): wait for that, or it could overtake the first test's own command.
    await waitFor(() => online, 'device online at the hub');
    await hub.policy.driver.idle();
  });

  afterAll(async () => {
    await device?.stop();
    await device?.board().close();
    await fixture?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * What the device believed when an output did not follow. Seen in a clean-clone CI run (2026-12-07 05:11 UTC):
   * every output on the first board stayed put while its inputs and reports worked; the cause was the emulated Uno's
   * receiver stalling after avr8js cleared RXC on a UCSRB write (firmware/board/uno-core.ts, uno-core-rx.test.ts).
   */
  const explained = (what: string) => (error: Error) => {
    const { hub, link, locker, boardLost } = device.state();
    const outputs = device.outputs();
    const pins = { lock: emulator.readPin(PINS.lock), red: emulator.pwmDuty(PINS.signage.red) };
    throw new Error(
      `${error.message} (${what}): ${JSON.stringify({ hub, link, locker, boardLost, outputs, pins })}`,
    );
  };

  it('P1: a hub lock command drives the lock pin D7; unlock drives it LOW', async () => {
    await sendCommand(fixture.hub, ROOM1, { kind: 'lock', locked: false, reason: 'staff' });
    await waitFor(() => !emulator.readPin(PINS.lock), 'lock pin LOW').catch(
      explained('after an unlock command'),
    );
    await sendCommand(fixture.hub, ROOM1, { kind: 'lock', locked: true, reason: 'timetable' });
    await waitFor(() => emulator.readPin(PINS.lock), 'lock pin HIGH');
    await waitFor(() => lockerStates.at(-1)?.locked === true, 'locked state at the hub');
  });

  it('P1, P3: signage commands set the RGB PWM duty: phones-away is steady red only', async () => {
    await sendCommand(fixture.hub, ROOM1, { kind: 'signage', mode: 'phones-allowed' });
    await waitFor(
      () => emulator.pwmDuty(PINS.signage.green) > 0.9 && emulator.pwmDuty(PINS.signage.red) === 0,
      'green signage',
    );
    await sendCommand(fixture.hub, ROOM1, { kind: 'signage', mode: 'phones-away' });
    // The three channels are written one after another: wait for all of them, not only red.
    await waitFor(
      () =>
        emulator.pwmDuty(PINS.signage.red) === 1 &&
        emulator.pwmDuty(PINS.signage.green) === 0 &&
        emulator.pwmDuty(PINS.signage.blue) === 0,
      'red signage',
    );
    // Steady: sampled over half a second it never dips, and green and blue stay dark.
    for (let i = 0; i < 5; i += 1) {
      expect(emulator.pwmDuty(PINS.signage.red)).toBe(1);
      expect(emulator.pwmDuty(PINS.signage.green)).toBe(0);
      expect(emulator.pwmDuty(PINS.signage.blue)).toBe(0);
      await sleep(100);
    }
    await waitFor(() => signageStates.at(-1)?.mode === 'phones-away', 'signage state at the hub');
  });

  it('R7: the door opened while locked raises a tamper incident at the hub', async () => {
    expect(emulator.readPin(PINS.lock)).toBe(true);
    emulator.setPin(PINS.door, true); // reed opens: pull-up takes the pin HIGH
    const tamper = await waitFor(
      async () =>
        (await incidents()).find((i) => i.kind === 'tamper' && i.tamperReason === 'door-opened-while-locked'),
      'tamper incident',
    );
    expect(tamper.room).toBe(ROOM1.room);
    expect(tamper.urgency).toBe('urgent');
    emulator.setPin(PINS.door, false);
    await waitFor(() => lockerEvents.some((e) => e.kind === 'door-closed'), 'door closed at the hub');
    // R7 evidence carries the device clock's state (a Pi has no RTC); the emulated board assumes a synced clock.
    expect(lockerEvents.find((e) => e.kind === 'tamper')?.clockSynced).toBe(true);
  });

  it('P1: the staff key unlocks (lock pin LOW) and turning it back relocks', async () => {
    emulator.setPin(PINS.key, false); // key switch closed
    await waitFor(() => !emulator.readPin(PINS.lock), 'unlocked by key');
    await waitFor(() => lockerStates.at(-1)?.keyOn === true && !lockerStates.at(-1)?.locked, 'key at hub');
    emulator.setPin(PINS.key, true);
    await waitFor(() => emulator.readPin(PINS.lock), 'relocked').catch((error: Error) => {
      // Once seen in a clean-clone CI run and not reproduced since: say what the device believed.
      const { hub, link, locker, boardLost } = device.state();
      const lockPin = emulator.readPin(PINS.lock);
      const state = { hub, link, locker, boardLost, outputs: device.outputs(), lockPin };
      throw new Error(`${error.message}: ${JSON.stringify(state)}`);
    });
  });

  it('P5, D1: slot switches set the phone count in the locker state the hub receives', async () => {
    emulator.setPin(PINS.slots[0] ?? 'A0', false);
    emulator.setPin(PINS.slots[2] ?? 'A2', false);
    const state = await waitFor(() => lockerStates.find((s) => s.phones === 2), 'two phones at the hub');
    expect(state.slots).toBe(PINS.slots.length);
    emulator.setPin(PINS.slots[2] ?? 'A2', true);
    await waitFor(() => lockerStates.at(-1)?.phones === 1, 'one phone at the hub');
  });

  it('R1: a long press raises an urgent report, stored once and confirmed on the button light', async () => {
    const before = (await incidents()).filter((i) => i.kind === 'report').length;
    await press(1_400); // longPressMs is 1000
    const report = await waitFor(
      async () => (await incidents()).find((i) => i.kind === 'report' && i.urgency === 'urgent'),
      'urgent report',
    );
    expect(report.room).toBe(ROOM1.room);
    await waitFor(() => device.outputs()?.buttonLight === 'confirmed', 'light confirmed');
    expect((await incidents()).filter((i) => i.kind === 'report')).toHaveLength(before + 1);
  });

  it('R7: unplugged in a lesson is tamper with signage fault; plugged back, the device resumes', async () => {
    const oldEmulator = emulator;
    unplugged = true;
    oldEmulator.close(); // the USB cable is pulled: the serial stream closes
    await waitFor(
      async () =>
        (await incidents()).find((i) => i.kind === 'tamper' && i.tamperReason === 'unplugged-in-lesson'),
      'unplugged tamper incident',
    );
    await waitFor(
      () => signageStates.at(-1)?.mode === 'fault' && signageStates.at(-1)?.source === 'local-fault',
      'fault signage state at the hub',
    );
    await waitFor(() => heartbeats.some((h) => h.boardConnected === false), 'heartbeat says board lost');

    unplugged = false; // plugged back: the next retry boots a fresh Uno
    await waitFor(() => emulator !== oldEmulator, 'board reopened', 15_000);
    emulator.setPin(PINS.door, false);
    emulator.setPin(PINS.slots[0] ?? 'A0', false);
    // The outputs are applied again on the new board: locked, steady red.
    await waitFor(
      () => emulator.readPin(PINS.lock) && emulator.pwmDuty(PINS.signage.red) === 1,
      'outputs back',
    );
    await waitFor(() => signageStates.at(-1)?.mode === 'phones-away', 'signage back at the hub');
    // And inputs work again: a short press is a normal report.
    await sleep(300);
    await press(150);
    await waitFor(
      async () => (await incidents()).find((i) => i.kind === 'report' && i.urgency === 'normal'),
      'report after replug',
    );
    await waitFor(() => heartbeats.at(-1)?.boardConnected === true, 'heartbeat says board connected');
  });

  it('R1: a press made while the device program is stalled still raises exactly one report', async () => {
    const reports = async () => (await incidents()).filter((i) => i.kind === 'report').length;
    const before = await reports();
    await waitFor(() => device.outputs()?.buttonLight !== 'confirmed', 'light back to ready');
    // A 150 ms press that this thread (device program and hub alike) reads only after a 500 ms stall: both edges
    // arrive together. Timed on arrival it would be a 7 ms bounce; the board's clock says 150 ms.
    const at = performance.timeOrigin + performance.now();
    emulator.setPin(PINS.button, false, at);
    emulator.setPin(PINS.button, true, at + 150);
    const stallUntil = performance.now() + 500;
    while (performance.now() < stallUntil) {
      // stalled
    }
    await waitFor(async () => (await reports()) === before + 1, 'report from the stalled press');
    await waitFor(() => device.outputs()?.buttonLight === 'confirmed', 'light confirmed');
    await sleep(300);
    expect(await reports()).toBe(before + 1);
  });
});
