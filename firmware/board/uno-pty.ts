/**
 * An emulated Uno behind a pseudo-terminal: a serial port exactly as a USB Arduino appears on a Pi (/dev/ttyACM0),
 * so the device program runs its real 'firmata-serial' path (serialport → Firmata → johnny-five) against it and its
 * own memory and CPU can be measured apart from the emulator's (bench/RESULTS.md, device program).
 *
 * socat makes the pty pair (`pty,raw,echo=0` on both ends, each linked to a stable path in `dir`); this process opens
 * one end with serialport and relays bytes between it and the emulator's USART; the device program opens the other
 * end, `serialPath`. A pty has no DTR line, so opening it does not reset the chip as a real Uno's USB does: the
 * Firmata version the chip sends at boot waits in the pty until the device opens it, and a device that opens it
 * again later asks Firmata for its version after its own timeout (firmata-io, about 5 s).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { type BoardLog, silentLogger } from '../../shared/log.js';
import { EmulatedUno, type EmulatedUnoOptions } from './emulated-uno.js';

export interface UnoOnPty {
  /** The path a device config names as board.serialPath. */
  serialPath: string;
  emulator: EmulatedUno;
  /** Stops relaying, the emulator and socat. Idempotent. */
  close(): Promise<void>;
}

export interface UnoOnPtyOptions {
  /** Where the pty links are made: `<dir>/ttyUNO` (the device's end) and `<dir>/uno-chip` (the emulator's). */
  dir: string;
  emulator?: Omit<EmulatedUnoOptions, 'log'>;
  log?: BoardLog;
  /** socat's path; default 'socat' on PATH (Debian package socat, see scripts/ensure-system-deps.mjs). */
  socat?: string;
  /** How long socat may take to make the pair. Default 10 s. */
  timeoutMs?: number;
}

export class PtyError extends Error {
  readonly code = 'E_PTY';
  constructor(message: string) {
    super(message);
    this.name = 'PtyError';
  }
}

/** Makes the pty pair and resolves once socat relays between its ends (it says so on stderr with -d -d). */
function startSocat(
  socat: string,
  chipEnd: string,
  deviceEnd: string,
  timeoutMs: number,
): Promise<ChildProcess> {
  const child = spawn(
    socat,
    ['-d', '-d', `pty,raw,echo=0,link=${chipEnd}`, `pty,raw,echo=0,link=${deviceEnd}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let said = '';
    const timer = setTimeout(
      () => fail(new PtyError(`socat did not make a pty pair: ${said.trim()}`)),
      timeoutMs,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('error', (error) =>
      fail(
        new PtyError(
          `socat could not start (${error.message}): run node scripts/ensure-system-deps.mjs socat`,
        ),
      ),
    );
    child.once('exit', (code) => fail(new PtyError(`socat exited (${code}): ${said.trim()}`)));
    child.stderr?.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      if (!said.includes('starting data transfer loop')) return;
      if (!existsSync(chipEnd) || !existsSync(deviceEnd)) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stderr?.removeAllListeners('data');
      child.stderr?.resume(); // keep draining, so a chatty socat never blocks on a full pipe
      resolve(child);
    });
  });
}

export async function startUnoOnPty(options: UnoOnPtyOptions): Promise<UnoOnPty> {
  const log = options.log ?? silentLogger;
  const chipEnd = join(options.dir, 'uno-chip');
  const serialPath = join(options.dir, 'ttyUNO');
  const socat = await startSocat(options.socat ?? 'socat', chipEnd, serialPath, options.timeoutMs ?? 10_000);
  const socatExited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
  const port = new SerialPort({ path: chipEnd, baudRate: 57_600, autoOpen: false });
  try {
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  } catch (error) {
    socat.kill('SIGTERM');
    throw error;
  }
  const emulator = new EmulatedUno({ ...options.emulator, log });
  // Host → chip: what the device program writes. Chip → host: what the firmware transmits.
  port.on('data', (bytes: Buffer) => emulator.serial.write(bytes));
  emulator.serial.on('data', (bytes: Buffer) => port.write(bytes));
  port.on('error', (error) => log.warn({ err: error.message }, 'uno-pty: serial error'));
  socat.once('exit', (code) => log.warn({ code }, 'uno-pty: socat exited'));
  emulator.start();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      emulator.close();
      if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
      socat.kill('SIGTERM');
      await socatExited;
    })();
    return closing;
  };
  return { serialPath, emulator, close };
}
