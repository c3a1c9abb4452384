/**
 * Device faults with the device program as its own process (`phones-away device --config …`, emulated Uno running
 * real Firmata) against a real hub: the broker unreachable for a while, kill -9 just after a report press, and the
 * board's USB cable pulled and plugged back. The emulator inside the child is driven through its TEST-ONLY control
 * file (firmware/board/emulator-control.ts). The outage is a TCP proxy between device and hub that the test cuts:
 * to the device that is the broker gone (sockets reset, connects refused).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMULATOR_CONTROL_ENV } from '../../../firmware/board/emulator-control.js';
import type { LockerEvent, SignageState } from '../../../schemas/messages.js';
import { BrokerPath } from '../../support/broker-path.js';
import { allDayLessonSchool, provisionDevice, sleep } from '../../support/device-fixture.js';
import { type HubFixture, repoRoot, startTestHub, waitFor } from '../../support/hub-fixture.js';

describe('device process faults against a real hub', () => {
  let fixture: HubFixture;
  let proxy: BrokerPath;
  let dir: string;
  let configFile: string;
  let control: string;
  let child: ChildProcess | undefined;
  let output = '';
  const lockerEvents: LockerEvent[] = [];
  const signage: SignageState[] = [];
  let onlineCount = 0;
  let sentLines = 0;

  const start = () => {
    // One node process (no npx/tsx wrapper), so that kill -9 hits the device program itself.
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', 'device', '--config', configFile],
      {
        cwd: repoRoot,
        env: { ...process.env, [EMULATOR_CONTROL_ENV]: control, PHONES_AWAY_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    proc.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child = proc;
  };

  const stopChild = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await exited;
  };

  /** Appends control lines and waits until the child has carried them out. */
  const emulate = async (...lines: string[]) => {
    appendFileSync(control, lines.map((l) => `${l}\n`).join(''));
    sentLines += lines.length;
    await waitFor(
      () => {
        const ack = `${control}.ack`;
        return existsSync(ack) && Number(readFileSync(ack, 'utf8')) >= sentLines;
      },
      `emulator control: ${lines.join(', ')}`,
    );
  };

  const press = async (ms: number) => {
    await emulate('pin 2 low');
    await sleep(ms);
    await emulate('pin 2 high');
  };

  const reports = async () => (await fixture.hub.incidents.list()).filter((i) => i.kind === 'report');
  const pendingDir = () => join(dir, 'data', 'journal', 'pending');
  /** Sealed pending events only: a `.tmp-` file is a write in progress, not yet durable (nor promised to anyone). */
  const pendingFiles = () =>
    existsSync(pendingDir()) ? readdirSync(pendingDir()).filter((f) => f.endsWith('.json')) : [];

  const waitOnline = async (count: number) => {
    await waitFor(() => onlineCount >= count, 'device online', 20_000);
    await fixture.hub.policy.driver.idle();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phones-away-faults-'));
    control = join(dir, 'emulator.control');
    // The door is shut from power-on (reed closed = LOW).
    writeFileSync(control, 'pin 4 low\n');
    sentLines = 1;
    fixture = await startTestHub({ school: allDayLessonSchool() });
    const { hub } = fixture;
    hub.bus.on('device.locker-event', ({ event }) => {
      lockerEvents.push(event);
    });
    hub.bus.on('device.signage-state', ({ state }) => {
      signage.push(state);
    });
    hub.bus.on('device.availability', ({ availability }) => {
      if (availability.status === 'online') onlineCount += 1;
    });
    proxy = new BrokerPath(hub.mqttPort);
    await proxy.up();
    ({ configFile } = await provisionDevice(hub, dir, {
      hub: {
        url: `mqtt://127.0.0.1:${proxy.port}`,
        username: 'room-1-locker',
        passwordFile: join(dir, 'device.secret'),
      },
    }));
    start();
    await waitOnline(1);
  });

  afterAll(async () => {
    await stopChild('SIGTERM');
    await proxy?.down();
    await fixture?.dispose();
    if (process.env.PHONES_AWAY_TEST_VERBOSE) process.stderr.write(output);
    rmSync(dir, { recursive: true, force: true });
  });

  it('R1, R7: broker down for a while, then back: every event delivered once, in order', async () => {
    const { hub } = fixture;
    const stored = hub.ingest.stats.reportsStored;
    const reportsBefore = (await reports()).length;
    const eventsBefore = lockerEvents.length;
    await proxy.down();
    await sleep(300); // the device sees its connection die
    await emulate('pin A0 low', 'pin A1 low');
    await sleep(100);
    await press(150);
    await emulate('pin 4 high'); // door opened while locked: tamper (R7)
    await sleep(100);
    await emulate('pin 4 low');
    // All six are in the device's journal, waiting.
    await waitFor(() => pendingFiles().length >= 6, 'events journaled while offline');
    await sleep(500);
    expect(lockerEvents.length).toBe(eventsBefore);
    await proxy.up();

    await waitFor(async () => (await reports()).length > reportsBefore, 'report delivered', 20_000);
    await waitFor(() => pendingFiles().length === 0, 'journal emptied', 10_000);
    const arrived = lockerEvents.slice(eventsBefore);
    expect(arrived.map((e) => e.kind)).toEqual([
      'phones-changed',
      'phones-changed',
      'door-opened',
      'tamper',
      'door-closed',
    ]);
    // Once each, in sequence order, hash-chained to each other.
    expect(new Set(arrived.map((e) => e.id)).size).toBe(arrived.length);
    const seqs = arrived.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(arrived.slice(1).every((e) => typeof e.prev === 'string')).toBe(true);
    expect(hub.ingest.stats.reportsStored).toBe(stored + 1);
    expect((await reports()).length).toBe(reportsBefore + 1);
  });

  it('R1: kill -9 right after a report press, restart on the same dataDir: the report arrives exactly once', async () => {
    const before = (await reports()).length;
    await press(150);
    // Kill the moment the report is durable on disk (or already at the hub, if it was quicker than this poll).
    const journaled = () =>
      pendingFiles().some((f) => {
        try {
          return readFileSync(join(pendingDir(), f), 'utf8').includes('"report"');
        } catch {
          return false; // acknowledged and removed between listing and reading
        }
      });
    await waitFor(async () => journaled() || (await reports()).length > before, 'report journaled');
    await stopChild('SIGKILL');
    const online = onlineCount;
    start();
    await waitOnline(online + 1);
    await waitFor(async () => (await reports()).length > before, 'report after restart', 15_000);
    await waitFor(() => pendingFiles().length === 0, 'journal emptied after restart', 10_000);
    await sleep(500);
    expect((await reports()).length).toBe(before + 1);
  });

  it('R7: USB cable pulled in a lesson: tamper and signage fault; plugged back, the device resumes', async () => {
    const tampers = () =>
      lockerEvents.filter((e) => e.kind === 'tamper' && e.reason === 'unplugged-in-lesson').length;
    const before = (await reports()).length;
    await emulate('unplug');
    await waitFor(() => tampers() === 1, 'unplugged tamper at the hub');
    await waitFor(
      () => signage.at(-1)?.mode === 'fault' && signage.at(-1)?.source === 'local-fault',
      'fault',
    );
    const incidents = await fixture.hub.incidents.list();
    expect(incidents.filter((i) => i.tamperReason === 'unplugged-in-lesson')).toHaveLength(1);

    await emulate('plug');
    await waitFor(() => signage.at(-1)?.mode === 'phones-away', 'signage back', 15_000);
    await sleep(300);
    await press(150);
    await waitFor(async () => (await reports()).length > before, 'report from the replugged board');
    expect(tampers()).toBe(1);
  });
});
