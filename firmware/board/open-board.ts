/**
 * Picks the board a device config asks for and wires johnny-five to it:
 *   'emulated-uno'   an avr8js Uno running real Firmata in this process (demo, tests)
 *   'firmata-serial' a real Uno running StandardFirmata on `serialPath`, 57600 baud
 *   'raspi'          the Pi's own GPIO through raspi-io. Not a dependency of this repository: on the Pi run
 *                    `npm i raspi-io` (and reboot once). Signage needs three PWM pins, more than the Pi has in
 *                    hardware, so soft PWM is enabled.
 * The returned port's close() releases everything: johnny-five, the transport and the emulator.
 *
 * The emulator (avr8js and the Firmata image) and serialport are imported only by the board kind that uses them: a
 * Pi running 'firmata-serial' never loads the emulator (bench/RESULTS.md, device program).
 */
import { existsSync } from 'node:fs';
import firmataIo from 'firmata-io';
import type { DeviceConfig } from '../../schemas/config.js';
import { type BoardLog, silentLogger } from '../../shared/log.js';
import type { BoardPort } from './board-port.js';
import type { EmulatedUno, EmulatedUnoOptions } from './emulated-uno.js';
import { JohnnyFiveBoard } from './johnny-five-board.js';
import type { BoardPins } from './pin-map.js';

export interface OpenedBoard {
  port: BoardPort;
  /** Present for 'emulated-uno': drive its inputs and watch its outputs. */
  emulator?: EmulatedUno;
}

export interface OpenBoardOptions {
  /** Board id for logs; several boards can share a process. */
  id?: string;
  emulator?: Omit<EmulatedUnoOptions, 'log'>;
}

const FIRMATA_BAUD = 57_600;
/** A real Uno over USB: ask Firmata for its version this often, so a wedged (not closed) link is noticed too. */
const SERIAL_WATCHDOG_MS = 5_000;

/** The board is not there to open (USB cable out): the device keeps its fault showing and tries again later. */
export class BoardUnavailableError extends Error {
  readonly code = 'E_BOARD_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'BoardUnavailableError';
  }
}

/** Opens a fresh board each call: how the device re-opens one that was unplugged and plugged back. */
export type BoardOpener = () => Promise<OpenedBoard>;

export function boardOpener(
  config: DeviceConfig['board'],
  pins: BoardPins,
  log: BoardLog = silentLogger,
  options: OpenBoardOptions = {},
): BoardOpener {
  return () => openBoard(config, pins, log, options);
}

/** Opens the board without waiting for it: call onInput() then await port.ready(). */
export async function openBoard(
  config: DeviceConfig['board'],
  pins: BoardPins,
  log: BoardLog = silentLogger,
  options: OpenBoardOptions = {},
): Promise<OpenedBoard> {
  const { id } = options;
  switch (config.kind) {
    case 'emulated-uno': {
      const { EmulatedUno } = await import('./emulated-uno.js');
      const emulator = new EmulatedUno({ ...options.emulator, log });
      // Firmata and johnny-five listen first; start() then boots the CPU and opens the serial stream.
      const io = new firmataIo.Firmata(emulator.serial);
      const board = new JohnnyFiveBoard({ io, pins, log, id });
      emulator.start();
      return { port: withRelease(board, async () => emulator.close()), emulator };
    }
    case 'firmata-serial': {
      if (!config.serialPath) throw new Error("board.kind 'firmata-serial' needs board.serialPath");
      // Checked first so that retrying every few seconds while unplugged builds no johnny-five board each time.
      if (!existsSync(config.serialPath))
        throw new BoardUnavailableError(`no serial device at ${config.serialPath}`);
      const { SerialPort } = await import('serialport');
      const serial = new SerialPort({ path: config.serialPath, baudRate: FIRMATA_BAUD });
      // Opening the port resets a real Uno; Firmata then blinks its version (about 4 s to ready in all).
      const io = new firmataIo.Firmata(serial);
      const board = new JohnnyFiveBoard({ io, pins, log, id, watchdogMs: SERIAL_WATCHDOG_MS });
      return {
        port: withRelease(board, () => {
          if (!serial.isOpen) return Promise.resolve();
          return new Promise<void>((resolve) => serial.close(() => resolve()));
        }),
      };
    }
    case 'raspi': {
      const { RaspiIO } = await importRaspiIo();
      const board = new JohnnyFiveBoard({ io: new RaspiIO({ enableSoftPwm: true }), pins, log, id });
      return { port: board };
    }
  }
}

/** The slice of raspi-io 11 we use. */
interface RaspiIoModule {
  RaspiIO: new (options: { enableSoftPwm?: boolean }) => object;
}

async function importRaspiIo(): Promise<RaspiIoModule> {
  // A variable specifier keeps TypeScript and bundlers from requiring raspi-io where it is not installed.
  const specifier = 'raspi-io';
  try {
    // raspi-io is CommonJS: its exports arrive as named exports or under default, depending on Node's detection.
    const mod = (await import(specifier)) as Partial<RaspiIoModule> & { default?: Partial<RaspiIoModule> };
    const RaspiIO = mod.RaspiIO ?? mod.default?.RaspiIO;
    if (!RaspiIO) throw new Error('raspi-io does not export RaspiIO; raspi-io 11 is expected');
    return { RaspiIO };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error("board.kind 'raspi' needs raspi-io: install raspi-io on the Pi: npm i raspi-io");
    }
    throw error;
  }
}

/** A port whose close() also releases what the board runs over, after johnny-five has let go of it. */
function withRelease(board: JohnnyFiveBoard, release: () => Promise<void>): BoardPort {
  return {
    ready: () => board.ready(),
    onInput: (listener) => board.onInput(listener),
    onStatus: (listener) => board.onStatus(listener),
    apply: (outputs) => board.apply(outputs),
    close: async () => {
      await board.close();
      await release();
    },
  };
}
