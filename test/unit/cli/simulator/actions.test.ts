/** The simulator's actions: what a request may ask, and the pin levels each drives (pin-map.ts: LOW = contact closed). */
import { describe, expect, it } from 'vitest';
import {
  LONG_PRESS_MARGIN_MS,
  parseAction,
  pinWrites,
  SHORT_PRESS_MS,
  SimulatorInputError,
} from '../../../../cli/simulator/actions.js';
import { DEFAULT_UNO_PINS } from '../../../../firmware/board/pin-map.js';

const refusal = (body: unknown, slots = 4): SimulatorInputError => {
  try {
    parseAction(body, slots);
  } catch (error) {
    if (error instanceof SimulatorInputError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
};

describe('simulator actions', () => {
  it('accepts each action in its one shape', () => {
    for (const body of [
      { action: 'press', hold: 'short' },
      { action: 'press', hold: 'long' },
      { action: 'door', open: true },
      { action: 'key', on: false },
      { action: 'slot', slot: 3, phone: true },
    ]) {
      expect(parseAction(body, 4)).toEqual(body);
    }
  });

  it('refuses a malformed action with a message that shows the right shape', () => {
    const e = refusal({ action: 'press', hold: 'forever' });
    expect(e.code).toBe('E_BAD_ACTION');
    expect(e.status).toBe(400);
    expect(e.message).toBe('a press action is {"action":"press","hold":"short"|"long"}');
    expect(refusal({ action: 'door', open: 'yes' }).message).toContain('"open":true|false');
    expect(refusal({ action: 'door', open: true, extra: 1 }).code).toBe('E_BAD_ACTION');
  });

  it('refuses an unknown action, and anything that is not an object, naming the actions there are', () => {
    for (const body of [{ action: 'explode' }, null, 'press', 42, []]) {
      const e = refusal(body);
      expect(e.code).toBe('E_BAD_ACTION');
      expect(e.message).toMatch(/^unknown action \(expected one of press, door, key, slot\)/);
    }
  });

  it('refuses a slot the locker does not have', () => {
    const e = refusal({ action: 'slot', slot: 4, phone: true }, 4);
    expect(e.code).toBe('E_NO_SUCH_SLOT');
    expect(e.message).toBe('slot 4 does not exist: this locker has slots 0 to 3');
    expect(refusal({ action: 'slot', slot: -1, phone: true }).code).toBe('E_BAD_ACTION');
    expect(refusal({ action: 'slot', slot: 1.5, phone: true }).code).toBe('E_BAD_ACTION');
  });

  it('R1: a short press closes the button contact for a tap; a long press holds it past the urgent threshold', () => {
    const pins = DEFAULT_UNO_PINS;
    expect(pinWrites({ action: 'press', hold: 'short' }, pins, 2000)).toEqual([
      { pin: pins.button, high: false, afterMs: 0 },
      { pin: pins.button, high: true, afterMs: SHORT_PRESS_MS },
    ]);
    expect(SHORT_PRESS_MS).toBeLessThan(2000);
    const long = pinWrites({ action: 'press', hold: 'long' }, pins, 2000);
    expect(long[1]).toEqual({ pin: pins.button, high: true, afterMs: 2000 + LONG_PRESS_MARGIN_MS });
  });

  it('drives the door, key and slot contacts the way the wiring does (closed = LOW)', () => {
    const pins = DEFAULT_UNO_PINS;
    expect(pinWrites({ action: 'door', open: true }, pins, 2000)).toEqual([
      { pin: pins.door, high: true, afterMs: 0 },
    ]);
    expect(pinWrites({ action: 'door', open: false }, pins, 2000)[0]?.high).toBe(false);
    expect(pinWrites({ action: 'key', on: true }, pins, 2000)).toEqual([
      { pin: pins.key, high: false, afterMs: 0 },
    ]);
    expect(pinWrites({ action: 'slot', slot: 2, phone: true }, pins, 2000)).toEqual([
      { pin: 'A2', high: false, afterMs: 0 },
    ]);
    expect(pinWrites({ action: 'slot', slot: 2, phone: false }, pins, 2000)[0]?.high).toBe(true);
  });
});
