/**
 * A power cut on a classroom device (R1): the hub is unreachable (a TCP path the test cuts), a pupil presses the
 * report button on the emulated Uno (real Firmata through johnny-five, the real device program), and the device's
 * power goes once its journal has the press. Its data directory is ext4 on a loop device whose image is copied at the
 * cut (test/support/crash-disk.ts), so only what the journal synced is there when the device program starts again on
 * a new board. The report must reach the hub from that journal, once. Needs root for losetup and mount; elsewhere it is
 * skipped and says why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBoard } from '../../firmware/board/open-board.js';
import { DEFAULT_UNO_PINS as PINS } from '../../firmware/board/pin-map.js';
import { type RunningDevice, startDevice } from '../../firmware/device.js';
import { silentLogger } from '../../hub/log.js';
import { writeArtifact } from '../support/artifacts.js';
import { BrokerPath } from '../support/broker-path.js';
import { CrashDisk } from '../support/crash-disk.js';
import { allDayLessonSchool, provisionDevice, ROOM1, sleep } from '../support/device-fixture.js';
import { type HubFixture, startTestHub, waitFor } from '../support/hub-fixture.js';

describe('faults: a power cut on a classroom device (R1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phones-away-devicecut-'));
  let disk: CrashDisk | undefined;
  let fixture: HubFixture | undefined;
  let path: BrokerPath | undefined;
  let device: RunningDevice | undefined;

  afterAll(async () => {
    await device?.stop().catch(() => undefined);
    await device?.board().close();
    await fixture?.dispose();
    await path?.down();
    disk?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('R1: a report pressed while the hub is away survives the power cut in the journal and is stored once', async (ctx) => {
    const made = CrashDisk.create(64);
    if (typeof made === 'string') return ctx.skip(`cannot make a loop disk here (${made})`);
    disk = made;
    fixture = await startTestHub({ school: allDayLessonSchool() });
    const { hub } = fixture;
    const link = new BrokerPath(hub.mqttPort);
    path = link;
    await link.up();
    const { config, secret } = await provisionDevice(hub, dir, {
      hub: {
        url: `mqtt://127.0.0.1:${link.port}`,
        username: ROOM1.device,
        passwordFile: join(dir, 'device.secret'),
      },
    });
    const boot = async (id: string) => {
      const opened = await openBoard({ kind: 'emulated-uno' }, PINS, silentLogger, { id });
      const emulator = opened.emulator;
      if (!emulator) throw new Error('no emulator');
      emulator.setPin(PINS.door, false);
      const started = await startDevice({
        config: { ...config, dataDir: made.dir },
        board: opened.port,
        password: secret,
        log: silentLogger,
        link: { reconnectPeriodMs: 200 },
      });
      device = started;
      return { device: started, emulator };
    };
    const { device: first, emulator } = await boot('power-cut-1');
    await waitFor(() => first.connected(), 'device connected');
    made.settle(); // installed and running a while: its set-up is on the disk

    await link.down();
    await waitFor(() => !first.connected(), 'device offline');
    // The press: 150 ms, a normal report.
    emulator.setPin(PINS.button, false);
    await sleep(150);
    emulator.setPin(PINS.button, true);
    await waitFor(() => first.queued() === 1, 'the press queued');
    await first.idle(); // its journal write is done: the press is on the SD card
    const started = Date.now();
    made.cut(); // the power goes
    await first.stop().catch(() => undefined); // what it does now is on a disk that no longer counts
    await first.board().close();
    made.boot();

    const { device: second } = await boot('power-cut-2');
    await link.up();
    const reports = async () =>
      (await hub.incidents.list()).filter((i) => i.device === ROOM1.device && i.kind === 'report');
    await waitFor(
      async () => (await reports()).length === 1,
      'the report from the journal stored at the hub',
      20_000,
    );
    await waitFor(() => second.queued() === 0, 'the report acknowledged on the device', 10_000);
    expect(await reports()).toHaveLength(1); // acknowledged and gone from the journal: never sent again
    writeArtifact(
      'device-power-cut.md',
      [
        '| measure | value |',
        '|---|---|',
        `| reports pressed with the hub unreachable, then the power cut / stored at the hub after the boot | 1 / ${(await reports()).length} |`,
        `| from the cut to the report stored (ms) | ${Date.now() - started} |`,
      ].join('\n'),
    );
  }, 90_000);
});
