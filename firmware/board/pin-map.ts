/**
 * Pin maps. The classroom device's wiring on an Arduino Uno running Firmata (the emulated board uses the same map).
 *
 *                         Arduino Uno
 *                  +----------------------+
 *   (serial, unused)  D0/D1               |
 *   report button ---- D2   (to GND, internal pull-up)
 *   spare PWM -------- D3
 *   door reed -------- D4   (to GND; closed when the door is shut)
 *   spare PWM -------- D5
 *   button light ----- D6   PWM -> 220R -> LED in the report button
 *   lock ------------- D7   -> MOSFET/relay -> solenoid; HIGH = locked
 *   key switch ------- D8   (to GND; closed = key turned on)
 *   signage red ------ D9   PWM -> MOSFET -> RGB light (PWM HIGH = lit)
 *   signage green ---- D10  PWM
 *   signage blue ----- D11  PWM
 *   buzzer ----------- D12  -> active buzzer (self-oscillating; see johnny-five-board.ts)
 *   (on-board LED)     D13  spare
 *   slot 0..3 -------- A0..A3 (to GND via each slot's microswitch; closed = phone in slot)
 *   spare (I2C) ------ A4/A5 for an I/O expander if a locker has more slots; the highest analog pin left free
 *                      (A5) is reported every 10 ms as the board's clock (johnny-five-board.ts, press-ticks.ts)
 *
 * Every input is a contact to GND with the internal pull-up on, so a cut wire reads as released:
 * door open, key off, slot empty, button up. That errs towards raising a tamper alert, never hiding one.
 */
import type { DeviceConfig } from '../../schemas/config.js';

export type BoardPins = DeviceConfig['pins'];
export type PinName = BoardPins['lock'];

export const DEFAULT_UNO_PINS: Readonly<BoardPins> = Object.freeze({
  lock: 7,
  door: 4,
  key: 8,
  button: 2,
  buttonLight: 6,
  piezo: 12,
  signage: Object.freeze({ red: 9, green: 10, blue: 11 }),
  slots: Object.freeze(['A0', 'A1', 'A2', 'A3']) as PinName[],
});

/** Uno digital pin number for a pin name: 7 -> 7, 'A0' -> 14. Throws on names an Uno does not have. */
export function unoPin(pin: PinName): number {
  if (typeof pin === 'number' && Number.isInteger(pin) && pin >= 0 && pin <= 19) return pin;
  const analog = typeof pin === 'string' ? /^A([0-5])$/.exec(pin) : null;
  if (analog?.[1] !== undefined) return 14 + Number(analog[1]);
  throw new RangeError(`not an Arduino Uno pin: ${String(pin)}`);
}
