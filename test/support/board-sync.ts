/**
 * A Firmata round trip for tests that watch an emulated board's pins. The firmware acts on commands in the order they
 * arrive, and the emulated Uno mirrors its registers before it sends the bytes of the same slice (uno-core.ts), so
 * once the answer to a question written now has been read, every output command sent before it shows on the pins.
 * Waiting for this is exact where polling a pin for the expected level is not: a blink can pass through that level
 * before the last command has been acted on.
 */
import type { EmulatedUno } from '../../firmware/board/emulated-uno.js';

const START_SYSEX = 0xf0;
const END_SYSEX = 0xf7;
const REPORT_FIRMWARE = 0x79;

/**
 * Resolves once the board has acted on every command written to it before the call. The question is Firmata's
 * REPORT_FIRMWARE, which johnny-five's Firmata client also reads harmlessly (it records the firmware's name again).
 * Firmata's data bytes are 7-bit, so 0xF0 0x79 in the stream can only be the start of the answer.
 */
export function boardCaughtUp(emulator: EmulatedUno): Promise<void> {
  const serial = emulator.serial;
  return new Promise((resolve, reject) => {
    let state: 'start' | 'command' | 'body' = 'start';
    const onData = (chunk: Buffer): void => {
      for (const byte of chunk) {
        if (state === 'start') state = byte === START_SYSEX ? 'command' : 'start';
        else if (state === 'command')
          state = byte === REPORT_FIRMWARE ? 'body' : byte === START_SYSEX ? 'command' : 'start';
        else if (byte === END_SYSEX) {
          done();
          return;
        }
      }
    };
    const onClose = (): void => {
      serial.off('data', onData);
      reject(new Error('board closed before it answered'));
    };
    const done = (): void => {
      serial.off('data', onData);
      serial.off('close', onClose);
      resolve();
    };
    serial.on('data', onData);
    serial.once('close', onClose);
    serial.write(Buffer.from([START_SYSEX, REPORT_FIRMWARE, END_SYSEX]));
  });
}
