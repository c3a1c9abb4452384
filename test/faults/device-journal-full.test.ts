/**
 * A report when the device's journal cannot be written (R1): the device's data directory is a real 1 MB tmpfs that a
 * filler file fills, and the hub is unreachable (a TCP path the test cuts), when a pupil presses the button on the
 * emulated Uno (real Firmata through johnny-five, the real device program). The report must not be lost: it is kept
 * in memory and sent once the hub is back; the button light shows the fault rhythm, never "stored"; heartbeats carry
 * the journal fault; the hub shows the device fault on its grid and emails the coordinator once. When space returns
 * the journal writes again and the fault clears. Needs root for `mount -t tmpfs`; elsewhere it is skipped and says so.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatedUno } from '../../firmware/board/emulated-uno.js';
import { openBoard } from '../../firmware/board/open-board.js';
import { DEFAULT_UNO_PINS as PINS } from '../../firmware/board/pin-map.js';
import { type RunningDevice, startDevice } from '../../firmware/device.js';
import { silentLogger } from '../../hub/log.js';
import type { Heartbeat } from '../../schemas/messages.js';
import { writeArtifact } from '../support/artifacts.js';
import { BrokerPath } from '../support/broker-path.js';
import { allDayLessonSchool, provisionDevice, ROOM1, sleep } from '../support/device-fixture.js';
import { fillDisk, mountTmpfs, unmount } from '../support/full-disk.js';
import { type HubFixture, startTestHub, waitFor } from '../support/hub-fixture.js';
import { freePorts } from '../support/hub-process.js';
import { type SmtpCapture, startSmtpCapture } from '../support/smtp-capture.js';

/** Samples the button light's PWM duty for `ms` and returns how long each lit stretch lasted. */
async function litStretches(emulator: EmulatedUno, ms: number): Promise<number[]> {
  const stretches: number[] = [];
  let litSince: number | null = null;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const lit = emulator.pwmDuty(PINS.buttonLight) > 0.5;
    const t = performance.now();
    if (lit && litSince === null) litSince = t;
    if (!lit && litSince !== null) {
      stretches.push(t - litSince);
      litSince = null;
    }
    await sleep(10);
  }
  return stretches;
}

describe('faults: the device journal on a full disk while the hub is unreachable (R1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phones-away-journalfull-'));
  const dataDir = join(dir, 'data');
  let mountError: string | null = 'not tried';
  let fixture: HubFixture | undefined;
  let path: BrokerPath;
  let device: RunningDevice | undefined;
  let emulator: EmulatedUno;
  let smtp: SmtpCapture;
  const heartbeats: Heartbeat[] = [];

  beforeAll(async () => {
    mkdirSync(dataDir, { recursive: true });
    mountError = mountTmpfs(dataDir, '1m');
    if (mountError) return;
    const [smtpPort] = (await freePorts(1)) as [number];
    smtp = await startSmtpCapture(smtpPort);
    fixture = await startTestHub({
      school: allDayLessonSchool(),
      config: {
        notifications: {
          dashboardUrl: 'https://hub.school.example/',
          email: {
            host: '127.0.0.1',
            port: smtpPort,
            from: 'hub@school.example',
            to: { coordinator: ['coord@school.example'] },
          },
          retryDelaySeconds: 1,
        },
      },
    });
    fixture.hub.bus.on('device.heartbeat', ({ heartbeat }) => {
      heartbeats.push(heartbeat);
    });
    path = new BrokerPath(fixture.hub.mqttPort);
    await path.up();
    const { config, secret } = await provisionDevice(fixture.hub, dir, {
      hub: {
        url: `mqtt://127.0.0.1:${path.port}`,
        username: ROOM1.device,
        passwordFile: join(dir, 'device.secret'),
      },
    });
    const opened = await openBoard({ kind: 'emulated-uno' }, PINS, silentLogger, { id: 'journal-full' });
    if (!opened.emulator) throw new Error('no emulator');
    emulator = opened.emulator;
    emulator.setPin(PINS.door, false);
    device = await startDevice({
      config: { ...config, dataDir },
      board: opened.port,
      password: secret,
      log: silentLogger,
      link: { reconnectPeriodMs: 200 },
    });
    await waitFor(() => device?.connected(), 'device connected');
  });

  afterAll(async () => {
    await device?.stop().catch(() => undefined);
    await device?.board().close();
    await fixture?.dispose();
    await path?.down();
    if (smtp) await smtp?.close();
    if (!mountError) unmount(dataDir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('R1: the report is kept in memory and delivered; the light shows the fault; the hub shows it and emails', async (ctx) => {
    if (mountError || !fixture || !device) return ctx.skip(`cannot mount a tmpfs here (${mountError})`);
    const { hub } = fixture;
    const running = device;
    const filler = fillDisk(dataDir);
    await path.down();
    await waitFor(() => !running.connected(), 'device offline');

    // The press: 150 ms, a normal report.
    emulator.setPin(PINS.button, false);
    await sleep(150);
    emulator.setPin(PINS.button, true);
    await waitFor(
      () => running.outputs()?.buttonLight === 'fault',
      'the button light to show the fault',
      5_000,
    );
    expect(running.queued()).toBe(1); // held in memory: nothing could be written
    expect(readdirSync(join(dataDir, 'journal', 'pending')).filter((f) => f.endsWith('.json'))).toEqual([]);
    const stretches = await litStretches(emulator, 1_600);
    // The fault rhythm (250 ms on, 250 off), not 'sending' (100 ms) nor 'stored' (150 ms double blinks).
    expect(stretches.length).toBeGreaterThanOrEqual(2);
    for (const s of stretches) expect(s).toBeGreaterThan(180);

    // The hub comes back: the report arrives exactly once; heartbeats say the journal fails.
    await path.up();
    const reports = async () =>
      (await hub.incidents.list()).filter((i) => i.device === ROOM1.device && i.kind === 'report');
    await waitFor(async () => (await reports()).length === 1, 'the report stored at the hub', 20_000);
    await waitFor(
      () => heartbeats.at(-1)?.journalFault === true,
      'a heartbeat with the journal fault',
      10_000,
    );
    await waitFor(
      () => smtp.mails.some((m) => m.raw.includes('Device fault in room-1')),
      'the coordinator emailed',
      20_000,
    );
    const view = () => hub.grid.all().find((v) => v.device === ROOM1.device);
    await waitFor(() => view()?.storageFault === true, 'the fault on the dashboard grid', 10_000);
    await waitFor(() => running.queued() === 0, 'the report acknowledged on the device', 10_000);

    // Space returns: the journal writes again, the fault clears everywhere; one email, not one per heartbeat.
    unlinkSync(filler);
    await waitFor(() => running.outputs()?.buttonLight !== 'fault', 'the light back from fault', 10_000);
    await waitFor(
      () => heartbeats.length > 0 && heartbeats.at(-1)?.journalFault === undefined,
      'a heartbeat without the fault',
      10_000,
    );
    await waitFor(() => view()?.storageFault === false, 'the dashboard grid clear', 10_000);
    expect((await reports()).length).toBe(1);
    expect(smtp.mails.filter((m) => m.raw.includes('Device fault'))).toHaveLength(1);
    writeArtifact(
      'device-journal-full.md',
      [
        '| measure | value |',
        '|---|---|',
        `| reports pressed with the journal full and the hub unreachable / stored at the hub | 1 / ${(await reports()).length} |`,
        `| button light lit stretches while faulty (ms) | ${stretches.map((s) => s.toFixed(0)).join(', ')} |`,
        `| coordinator emails about the fault | ${smtp.mails.filter((m) => m.raw.includes('Device fault')).length} |`,
      ].join('\n'),
    );
  }, 90_000);
});
