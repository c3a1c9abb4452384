/**
 * Child-process entry (forked by uno-pty-process.ts): one emulated Uno behind a pty (firmware/board/uno-pty.ts), in a
 * process of its own as a real Uno is a chip of its own, so the device program beside it is measured alone. argv:
 * `<dir> [speed]`. Sends `{ready, serialPath}` once the pty is there; then IPC requests `{id, cmd, ...}` →
 * `{id, ok, value|error}`:
 *   pin {pin, high}   drive an input (a contact to GND: high = released)
 *   outputs           the levels and PWM duties of the outputs the device drives
 *   exit
 */

import { DEFAULT_UNO_PINS, type PinName } from '../../firmware/board/pin-map.js';
import { startUnoOnPty } from '../../firmware/board/uno-pty.js';

export type UnoPtyRequest =
  | { cmd: 'pin'; pin: PinName; high: boolean }
  | { cmd: 'outputs' }
  | { cmd: 'exit' };

export interface UnoOutputs {
  lock: boolean;
  buttonLight: number;
  signage: { red: number; green: number; blue: number };
}

const [dir, speed] = process.argv.slice(2);
if (!dir || !process.send) {
  process.stderr.write('usage: fork uno-pty-entry.ts <dir> [speed] (with an IPC channel)\n');
  process.exit(2);
}
const uno = await startUnoOnPty({ dir, emulator: { speed: Number(speed ?? 1) } });
const pins = DEFAULT_UNO_PINS;

function handle(request: UnoPtyRequest): unknown {
  switch (request.cmd) {
    case 'pin':
      uno.emulator.setPin(request.pin, request.high);
      return true;
    case 'outputs':
      return {
        lock: uno.emulator.readPin(pins.lock),
        buttonLight: uno.emulator.pwmDuty(pins.buttonLight),
        signage: {
          red: uno.emulator.pwmDuty(pins.signage.red),
          green: uno.emulator.pwmDuty(pins.signage.green),
          blue: uno.emulator.pwmDuty(pins.signage.blue),
        },
      } satisfies UnoOutputs;
    case 'exit':
      void uno.close().then(() => process.exit(0));
      return true;
  }
}

process.on('message', (message: { id: number } & UnoPtyRequest) => {
  try {
    process.send?.({ id: message.id, ok: true, value: handle(message) });
  } catch (error) {
    process.send?.({ id: message.id, ok: false, error: (error as Error).message });
  }
});
// The parent gone (a crashed test run): do not leave socat and an emulator running.
process.on('disconnect', () => void uno.close().then(() => process.exit(0)));
process.send({ ready: true, serialPath: uno.serialPath });
