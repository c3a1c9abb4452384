/**
 * The device program: `tsx firmware/main.ts <device-config.json>` (or runDevice from the CLI).
 * Loads and validates the configuration, opens the board, starts the device and shuts down cleanly on
 * SIGTERM/SIGINT (retained 'offline', journal flushed, board released).
 *
 * Relative paths in the configuration (dataDir, hub.passwordFile, hub.ca) are resolved against the
 * configuration file's directory, so a config folder can be moved as a whole.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DeviceConfig } from '../schemas/config.js';
import { check } from '../schemas/validate.js';
import { createLogger, type Logger } from '../shared/log.js';
import type { BoardPort } from './board/board-port.js';
import { EMULATOR_CONTROL_ENV, EmulatorControl } from './board/emulator-control.js';
import { boardOpener } from './board/open-board.js';
import { type RunningDevice, startDevice } from './device.js';
import { deviceCredentials } from './enrolment.js';
import type { PendingUpdate } from './updates/boot-guard.js';
import { RESTART_EXIT_CODE, Updater } from './updates/updater.js';

export class DeviceConfigError extends Error {
  readonly code = 'E_CONFIG';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} is not valid:\n  ${problems.join('\n  ')}`);
    this.name = 'DeviceConfigError';
  }
}

/** Reads and validates a DeviceConfig file; every problem is listed as `path: message`. */
export async function loadDeviceConfig(file: string): Promise<DeviceConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const reason =
      error instanceof SyntaxError
        ? `not valid JSON (${error.message})`
        : `cannot be read (${String(error)})`;
    throw new DeviceConfigError(file, [`/: ${reason}`]);
  }
  const result = check('device-config', json);
  if (!result.ok) throw new DeviceConfigError(file, result.error.problems);
  const base = dirname(resolve(file));
  const config = result.value;
  return {
    ...config,
    dataDir: resolve(base, config.dataDir),
    hub: {
      ...config.hub,
      passwordFile: resolve(base, config.hub.passwordFile),
      ...(config.hub.ca ? { ca: resolve(base, config.hub.ca) } : {}),
      ...(config.hub.enrolTokenFile ? { enrolTokenFile: resolve(base, config.hub.enrolTokenFile) } : {}),
    },
    ...(config.updates
      ? {
          updates: {
            ...config.updates,
            publicKeys: config.updates.publicKeys.map((file) => resolve(base, file)),
            installDir: resolve(base, config.updates.installDir),
          },
        }
      : {}),
  };
}

export interface DeviceProgram {
  device: RunningDevice;
  /** Stops the device, then releases the board. Idempotent. */
  stop(): Promise<void>;
}

export async function runDevice(
  configPath: string,
  options: {
    log?: Logger;
    handleSignals?: boolean;
    /** Set by boot.ts when this start is a trial of a freshly installed version. */
    trial?: PendingUpdate | null;
  } = {},
) {
  const config = await loadDeviceConfig(configPath);
  const log = options.log ?? createLogger(`device:${config.deviceId}`);
  const { password, enrolment } = await deviceCredentials(config);
  const opener = boardOpener(config.board, config.pins, log);
  const controlFile = process.env[EMULATOR_CONTROL_ENV];
  const control =
    config.board.kind === 'emulated-uno' && controlFile ? new EmulatorControl(controlFile, log) : undefined;
  const openPort: () => Promise<BoardPort> = control
    ? control.wrap(opener)
    : async () => (await opener()).port;
  control?.start();
  const port = await openPort();
  let device: RunningDevice;
  let updater: Updater | undefined;
  try {
    device = await startDevice({
      config,
      board: port,
      reopenBoard: openPort,
      password,
      ...(enrolment ? { enrolment } : {}),
      log,
      onUpdateOffer: (offer) => {
        if (updater) updater.offer(offer);
        else log.warn({ version: offer.version }, 'device: update offered, but updates are not configured');
      },
    });
  } catch (error) {
    control?.stop();
    await port.close().catch(() => undefined);
    throw error;
  }

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      updater?.stop();
      await device.stop();
      control?.stop();
      await device.board().close();
      log.info({}, 'device: stopped');
    })();
    return stopping;
  };

  if (options.handleSignals ?? true) {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'device: shutting down');
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: String(error) }, 'device: unclean shutdown');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  if (config.updates) {
    updater = new Updater({
      config: { ...config, updates: config.updates },
      device,
      password,
      log,
      trial: options.trial ?? null,
      // The service manager (systemd, Restart=always) starts us again, from whatever `current` points at now.
      restart: (reason) => {
        log.info({ reason }, 'device: restarting');
        stop().then(
          () => process.exit(RESTART_EXIT_CODE),
          () => process.exit(RESTART_EXIT_CODE),
        );
      },
    });
    updater.start();
  }
  log.info(
    {
      board: config.board.kind,
      hub: config.hub.url,
      lockerMode: config.lockerMode,
      software: device.software,
    },
    'device: running',
  );
  const program: DeviceProgram = { device, stop };
  return program;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: firmware/main.ts <device-config.json>\n');
    process.exit(2);
  }
  runDevice(file).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
