/**
 * TEST-ONLY remote control for the emulated Uno inside a device *process* (fault tests run
 * `phones-away device --config …` as a child and cannot reach its emulator otherwise). Enabled only when the board
 * is 'emulated-uno' and the environment variable PHONES_AWAY_EMULATOR_CONTROL names a file; a real board ignores it.
 *
 * The test appends lines to that file; each is carried out once, in order:
 *   pin <pin> high|low     drive an input, e.g. `pin 2 low` presses the report button, `pin A0 low` fills slot 0
 *   unplug                 the USB cable is pulled: the emulator stops and its serial stream closes; re-opening
 *                          the board fails until `plug`
 *   plug                   the cable is back: the device's next re-open attempt boots a fresh emulated Uno
 * After each line `<file>.ack` holds the number of lines carried out, so a test can wait for them.
 * Pins driven through here stay driven on the next emulator after a re-plug (a switch does not move when the USB
 * cable is pulled).
 */
import { open as openFile, writeFile } from 'node:fs/promises';
import type { BoardLog } from '../../shared/log.js';
import type { BoardPort } from './board-port.js';
import type { EmulatedUno } from './emulated-uno.js';
import { type BoardOpener, BoardUnavailableError } from './open-board.js';
import type { PinName } from './pin-map.js';

export const EMULATOR_CONTROL_ENV = 'PHONES_AWAY_EMULATOR_CONTROL';

export class EmulatorControl {
  private current: EmulatedUno | undefined;
  private unplugged = false;
  private offset = 0;
  private done = 0;
  private partial = '';
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly levels = new Map<PinName, boolean>();

  constructor(
    private readonly file: string,
    private readonly log: BoardLog,
    private readonly pollMs = 20,
  ) {}

  /** An opener that records the emulator it boots and refuses while unplugged. */
  wrap(opener: BoardOpener): () => Promise<BoardPort> {
    return async () => {
      if (this.unplugged) throw new BoardUnavailableError('emulated Uno is unplugged (test control)');
      const { port, emulator } = await opener();
      this.current = emulator;
      for (const [pin, high] of this.levels) emulator?.setPin(pin, high);
      return port;
    };
  }

  start(): void {
    this.log.warn({ file: this.file }, 'emulator: TEST-ONLY control file enabled');
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const handle = await openFile(this.file, 'r').catch(() => undefined);
      if (!handle) return;
      let text = '';
      try {
        const buffer = Buffer.alloc(64 * 1024);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        this.offset += bytesRead;
        text = buffer.subarray(0, bytesRead).toString('utf8');
      } finally {
        await handle.close();
      }
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop() ?? '';
      let ran = 0;
      for (const line of lines) {
        if (line.trim()) this.run(line.trim());
        ran += 1;
      }
      if (ran > 0) {
        this.done += ran;
        await writeFile(`${this.file}.ack`, String(this.done));
      }
    } catch (error) {
      this.log.error({ err: String(error) }, 'emulator: control file failed');
    } finally {
      this.polling = false;
    }
  }

  private run(line: string): void {
    const [verb, pinText, level] = line.split(/\s+/);
    if (verb === 'unplug') {
      this.unplugged = true;
      this.current?.close();
      this.current = undefined;
    } else if (verb === 'plug') {
      this.unplugged = false;
    } else if (verb === 'pin' && pinText && (level === 'high' || level === 'low')) {
      const pin: PinName = /^\d+$/.test(pinText) ? Number(pinText) : (pinText as PinName);
      this.levels.set(pin, level === 'high');
      this.current?.setPin(pin, level === 'high');
    } else {
      this.log.warn({ line }, 'emulator: unknown control line ignored');
    }
  }
}
