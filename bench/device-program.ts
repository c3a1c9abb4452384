/**
 * Scenario f: the device program as a Pi runs it. The compiled device program (`node dist/cli/main.js device`, plain
 * node, as config/phones-away-device.service starts it) talks 'firmata-serial' over a pty to an emulated Uno in a
 * process of its own (firmware/board/uno-pty.ts, test/support/uno-pty-process.ts), so the figures are the device
 * program's alone: its RSS and CPU read from /proc, idle and while the hub sends a lock and a signage command every
 * 2.5 s, once with node's default flags and once with DEVICE_NODE_FLAGS. The Uno process's CPU is shown beside it:
 * on a Pi that is the Arduino's own chip.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { DEVICE_NODE_FLAGS } from '../cli/device-node-flags.js';
import { DEFAULT_UNO_PINS } from '../firmware/board/pin-map.js';
import { type DeviceAddress, topics } from '../schemas/topics.js';
import type { HubProcess } from '../test/support/hub-process.js';
import { UnoPtyProcess } from '../test/support/uno-pty-process.js';

export interface DeviceProgramRow {
  flags: string;
  phase: string;
  rssMB: number;
  cpuPct: number;
  unoCpuPct: number;
}

/** /proc/<pid>/stat counts CPU in clock ticks: USER_HZ, 100 per second on Linux. */
const TICK_MS = 10;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** User + system CPU of a process so far, in ms, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function rssMB(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

async function until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** One device program run (one set of node flags): its own Uno, its own data directory, the shared hub. */
async function measureOnce(
  hub: HubProcess,
  address: DeviceAddress,
  secret: string,
  flags: readonly string[],
  windowMs: number,
): Promise<DeviceProgramRow[]> {
  const dir = mkdtempSync(join(os.tmpdir(), 'phones-away-bench-device-'));
  const uno = await UnoPtyProcess.start(dir);
  let device: ChildProcess | undefined;
  try {
    await uno.setPin(DEFAULT_UNO_PINS.door, false); // door shut, as in a classroom
    writeFileSync(join(dir, 'device.secret'), secret, { mode: 0o600 });
    const config = {
      version: 1,
      site: address.site,
      room: address.room,
      deviceId: address.device,
      dataDir: join(dir, 'data'),
      hub: {
        url: `mqtt://127.0.0.1:${hub.mqttPort}`,
        username: address.device,
        passwordFile: join(dir, 'device.secret'),
      },
      board: { kind: 'firmata-serial', serialPath: uno.serialPath },
      pins: DEFAULT_UNO_PINS,
      timing: { longPressMs: 2000, heldTamperMs: 30_000, confirmShowMs: 4000, heartbeatMs: 10_000 },
      lockerMode: 'lesson',
    };
    writeFileSync(join(dir, 'device.json'), JSON.stringify(config));
    let out = '';
    const proc = spawn(
      process.execPath,
      [
        ...flags,
        join(import.meta.dirname, '..', 'dist', 'cli', 'main.js'),
        'device',
        '--config',
        join(dir, 'device.json'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PHONES_AWAY_LOG_LEVEL: 'info' } },
    );
    device = proc;
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    // Connected and the board answering: the first command from the hub has been applied.
    await until(
      () => out.includes('link: connected to hub') && out.includes('device: command'),
      120_000,
      'device up',
    );
    await sleep(5_000); // start-up garbage and the first retained commands settle before the idle window
    const pid = proc.pid as number;
    const rows: DeviceProgramRow[] = [];
    const window = async (phase: string, during: () => Promise<void>) => {
      const t0 = performance.now();
      const c0 = cpuMs(pid);
      const u0 = cpuMs(uno.pid as number);
      await during();
      const wall = performance.now() - t0;
      rows.push({
        flags: flags.length > 0 ? flags.join(' ') : 'node defaults',
        phase,
        rssMB: rssMB(pid),
        cpuPct: ((cpuMs(pid) - c0) / wall) * 100,
        unoCpuPct: ((cpuMs(uno.pid as number) - u0) / wall) * 100,
      });
    };
    await window('idle (connected, heartbeats only)', () => sleep(windowMs));
    let n = 0;
    await window('lesson changes (lock + signage every 2.5 s)', async () => {
      const end = Date.now() + windowMs;
      while (Date.now() < end) {
        n += 1;
        const locked = n % 2 === 1;
        const ts = Date.now();
        const lock = { v: 1, id: `bench-f-${n}-l`, ts, kind: 'lock', locked, reason: 'timetable' };
        const signage = {
          v: 1,
          id: `bench-f-${n}-s`,
          ts,
          kind: 'signage',
          mode: locked ? 'phones-away' : 'phones-allowed',
        };
        for (const [command, body] of [
          ['lock', lock],
          ['signage', signage],
        ] as const) {
          await hub.request({
            cmd: 'publish',
            topic: topics.set(address, command),
            payload: JSON.stringify(body),
            qos: 1,
            retain: true,
          });
        }
        await sleep(2_500);
      }
    });
    return rows;
  } finally {
    if (device && device.exitCode === null) {
      const exited = new Promise((r) => device?.once('exit', r));
      device.kill('SIGTERM');
      await exited;
    }
    await uno.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureDeviceProgram(options: {
  hub: HubProcess;
  address: DeviceAddress;
  secret: string;
  windowMs: number;
}): Promise<DeviceProgramRow[]> {
  const rows: DeviceProgramRow[] = [];
  for (const flags of [[], [...DEVICE_NODE_FLAGS]]) {
    rows.push(...(await measureOnce(options.hub, options.address, options.secret, flags, options.windowMs)));
  }
  return rows;
}
