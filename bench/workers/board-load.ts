/**
 * Forked by bench/run.ts (scenarios d and e): real classroom devices, each an emulated Uno running real Firmata →
 * johnny-five → the device program (firmware/device.ts) → MQTT to the hub. Runs in its own process so the emulators
 * (about half a core each at real speed) do not share an event loop with the hub or the dashboard client.
 * IPC commands ({id, cmd, ...} → {id, ok, value|error}):
 *   start {port, boards: [{address, secret}], dir, speed?}   boot the boards (emulator speed, default 1 = real
 *                           time) and devices, resolve when all are connected
 *   press {index, holdMs}   short press on board `index`; resolves with the release edge time and the time the
 *                           device showed the ack light ('confirmed'), both epoch ms with sub-ms resolution
 *                           (lightAt null: no ack light within 10 s)
 *   usage                   this process's RSS and CPU time (for scenario e)
 *   exit
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type EmulatedSession, startEmulatedBoard } from '../../firmware/board/emulated-session.js';
import { DEFAULT_UNO_PINS } from '../../firmware/board/pin-map.js';
import { type RunningDevice, startDevice } from '../../firmware/device.js';
import { silentLogger } from '../../hub/log.js';
import type { DeviceConfig } from '../../schemas/config.js';
import type { DeviceAddress } from '../../schemas/topics.js';
import { parse } from '../../schemas/validate.js';

type Command =
  | {
      cmd: 'start';
      port: number;
      dir: string;
      speed?: number;
      boards: { address: DeviceAddress; secret: string }[];
    }
  | { cmd: 'press'; index: number; holdMs: number }
  | { cmd: 'usage' }
  | { cmd: 'exit' };

const boards: { session: EmulatedSession; device: RunningDevice }[] = [];
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(test: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
  return now();
}

async function handle(m: Command): Promise<unknown> {
  switch (m.cmd) {
    case 'start': {
      for (const [i, { address, secret }] of m.boards.entries()) {
        const passwordFile = join(m.dir, `${address.device}.secret`);
        writeFileSync(passwordFile, secret, { mode: 0o600 });
        const config: DeviceConfig = parse('device-config', {
          version: 1,
          site: address.site,
          room: address.room,
          deviceId: address.device,
          dataDir: join(m.dir, `device-${i}`),
          hub: { url: `mqtt://127.0.0.1:${m.port}`, username: address.device, passwordFile },
          board: { kind: 'emulated-uno' },
          pins: DEFAULT_UNO_PINS,
          // Short confirm time so the next press on this board is not hidden behind the previous light.
          timing: { longPressMs: 2000, heldTamperMs: 30_000, confirmShowMs: 500, heartbeatMs: 10_000 },
          lockerMode: 'lesson',
        });
        // speed < 1: the emulated Uno runs slower than real time, leaving the event loop it shares with the device
        // program idle more often (on a Pi the Uno is its own chip), to show how much latency is the emulator's.
        const session = await startEmulatedBoard(config.pins, {
          id: address.device,
          emulator: { speed: m.speed ?? 1 },
        });
        const device = await startDevice({
          config,
          board: session.port,
          password: secret,
          log: silentLogger,
        });
        boards.push({ session, device });
      }
      for (const b of boards) await until(() => b.device.connected(), 60_000, 'device connected');
      return boards.length;
    }
    case 'press': {
      const b = boards[m.index];
      if (!b) throw new Error(`no board ${m.index}`);
      await until(() => b.device.outputs()?.buttonLight !== 'confirmed', 10_000, 'light back to idle');
      b.session.emulator.setPin(DEFAULT_UNO_PINS.button, false);
      await sleep(m.holdMs);
      const edgeAt = now();
      b.session.emulator.setPin(DEFAULT_UNO_PINS.button, true);
      // null: no report came of it (on a starved machine a stall can shorten the press the device sees below its
      // debounce); the caller counts it rather than giving up the whole run.
      const lightAt = await until(
        () => b.device.outputs()?.buttonLight === 'confirmed',
        10_000,
        'ack light',
      ).catch(() => null);
      return { edgeAt, lightAt };
    }
    case 'usage': {
      const u = process.resourceUsage();
      return { rssBytes: process.memoryUsage().rss, cpuMicros: u.userCPUTime + u.systemCPUTime, at: now() };
    }
    case 'exit':
      for (const b of boards) {
        await b.device.stop().catch(() => undefined);
        await b.session.close().catch(() => undefined);
      }
      setImmediate(() => process.exit(0));
      return true;
  }
}

process.on('message', (m: { id: number } & Command) => {
  handle(m).then(
    (value) => process.send?.({ id: m.id, ok: true, value }),
    (error: Error) => process.send?.({ id: m.id, ok: false, error: error.message }),
  );
});
process.send?.({ ready: true });
