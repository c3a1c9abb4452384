/**
 * The path real schools use: the device program as its own process (`phones-away device --config …`) with board.kind
 * 'firmata-serial', talking Firmata over a serial port to an Uno in another process, exactly as a Pi talks to a USB
 * Arduino. The Uno is the emulated one (avr8js running real Firmata) behind a socat pseudo-terminal
 * (firmware/board/uno-pty.ts); the hub is real. The test reads the Uno's own pins: what the device drove over the
 * serial line, not what the device program believes it drove.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_UNO_PINS } from '../../../firmware/board/pin-map.js';
import type { LockerState, SignageState } from '../../../schemas/messages.js';
import {
  allDayLessonSchool,
  provisionDevice,
  ROOM1,
  sendCommand,
  sleep,
} from '../../support/device-fixture.js';
import { type HubFixture, repoRoot, startTestHub, waitFor } from '../../support/hub-fixture.js';
import { UnoPtyProcess } from '../../support/uno-pty-process.js';

const pins = DEFAULT_UNO_PINS;

describe('firmata-serial over a pty: device program and Uno in separate processes, real hub', () => {
  let fixture: HubFixture;
  let uno: UnoPtyProcess;
  let dir: string;
  let device: ChildProcess | undefined;
  let output = '';
  const signage: SignageState[] = [];
  const lockers: LockerState[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phones-away-pty-'));
    fixture = await startTestHub({ school: allDayLessonSchool() });
    fixture.hub.bus.on('device.signage-state', ({ state }) => {
      signage.push(state);
    });
    fixture.hub.bus.on('device.locker-state', ({ state }) => {
      lockers.push(state);
    });
    uno = await UnoPtyProcess.start(dir);
    await uno.setPin(pins.door, false); // the door is shut (reed closed = LOW) before the device looks
    const { configFile } = await provisionDevice(fixture.hub, dir, {
      board: { kind: 'firmata-serial', serialPath: uno.serialPath },
    });
    device = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'device', '--config', configFile], {
      cwd: repoRoot,
      env: { ...process.env, PHONES_AWAY_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [device.stdout, device.stderr])
      stream?.on('data', (d: Buffer) => {
        output += d.toString();
      });
  });

  afterAll(async () => {
    const proc = device;
    if (proc && proc.exitCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
    await uno?.stop();
    await fixture?.dispose();
    if (process.env.PHONES_AWAY_TEST_VERBOSE) process.stderr.write(output);
    rmSync(dir, { recursive: true, force: true });
  });

  it('P1: in a lesson the hub locks the locker and shows steady red, driven on the Uno’s pins over the serial line', async () => {
    // The first start opens the serial port and waits for Firmata (version, capabilities): seconds on a loaded box.
    await waitFor(() => signage.at(-1)?.mode === 'phones-away', 'signage phones-away at the hub', 90_000);
    await waitFor(() => lockers.at(-1)?.locked === true, 'locked state at the hub');
    const out = await waitFor(async () => {
      const o = await uno.outputs();
      return o.lock && o.signage.red > 0.9 ? o : null;
    }, 'lock and red on the Uno');
    expect(out.signage.green).toBe(0);
    expect(out.signage.blue).toBe(0);
  }, 120_000);

  it('P3, P1: a signage command and an unlock from the hub change the Uno’s pins', async () => {
    await sendCommand(fixture.hub, ROOM1, { kind: 'signage', mode: 'phones-allowed' });
    await waitFor(() => signage.at(-1)?.mode === 'phones-allowed', 'signage phones-allowed at the hub');
    await waitFor(async () => {
      const o = await uno.outputs();
      return o.signage.green > 0.9 && o.signage.red === 0;
    }, 'green on the Uno');
    await sendCommand(fixture.hub, ROOM1, { kind: 'lock', locked: false, reason: 'staff' });
    await waitFor(() => lockers.at(-1)?.locked === false, 'unlocked state at the hub');
    await waitFor(async () => !(await uno.outputs()).lock, 'lock pin released on the Uno');
  });

  it('R1: a press of the Uno’s report button reaches the hub as one report, and the button light confirms it', async () => {
    const reports = async () => (await fixture.hub.incidents.list()).filter((i) => i.kind === 'report');
    const before = (await reports()).length;
    await waitFor(async () => Math.abs((await uno.outputs()).buttonLight - 0.15) < 0.02, 'dim ready light');
    await uno.setPin(pins.button, false);
    await sleep(150); // a short press, as a pupil's
    await uno.setPin(pins.button, true);
    await waitFor(async () => (await reports()).length > before, 'report at the hub');
    // 'confirmed' is steady full light; 'sending' blinks every 100 ms, so 250 ms at full without a dip is the ack.
    let fullSince: number | null = null;
    await waitFor(async () => {
      const full = (await uno.outputs()).buttonLight > 0.99;
      fullSince = full ? (fullSince ?? Date.now()) : null;
      return fullSince !== null && Date.now() - fullSince >= 250;
    }, 'steady ack light on the Uno');
    expect((await reports()).length).toBe(before + 1);
  });
});
