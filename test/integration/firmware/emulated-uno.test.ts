/**
 * The emulated Uno on its own, in lockstep with vitest's fake timers: firmata-io (no johnny-five) boots it, reads
 * inputs, writes PWM and reads the ADC, with emulated time advanced explicitly so the run is deterministic.
 */
import firmataIo from 'firmata-io';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EmulatedUno } from '../../../firmware/board/emulated-uno.js';

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

let emulator: EmulatedUno;
let io: firmataIo.Firmata;

/** Runs the board and the (fake) host clock side by side, 1 ms at a time, letting stream events through. */
async function step(ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    emulator.advance(1);
    vi.advanceTimersByTime(1);
    await nextTick();
  }
}

async function stepUntil(done: () => boolean, limitMs: number): Promise<void> {
  for (let t = 0; t < limitMs && !done(); t += 10) await step(10);
  if (!done()) throw new Error(`not done within ${limitMs} emulated ms`);
}

beforeAll(() => {
  vi.useFakeTimers();
  emulator = new EmulatedUno({ clock: 'lockstep' });
  io = new firmataIo.Firmata(emulator.serial);
  emulator.start();
});

afterAll(() => {
  emulator.close();
  vi.useRealTimers();
});

describe('EmulatedUno (lockstep)', () => {
  it('boots the Firmata image and completes the firmata-io handshake in emulated time', async () => {
    await stepUntil(() => io.isReady, 5000);
    // Firmata blinks its version on pin 13 for about 2.1 s before it reports; the fake 5 s re-ask never fires.
    expect(emulator.millis).toBeGreaterThan(2000);
    expect(emulator.millis).toBeLessThan(2600);
    expect(io.firmware.version).toEqual({ major: 2, minor: 5 });
    expect(io.pins).toHaveLength(20);
    expect(io.analogPins).toEqual([14, 15, 16, 17, 18, 19]);
  });

  it('reads a pulled-up input that the emulator drives', async () => {
    const values: number[] = [];
    io.pinMode(4, io.MODES.PULLUP);
    io.digitalRead(4, (value) => values.push(value));
    await step(20);
    expect(values.at(-1)).toBe(1);
    emulator.setPin(4, false);
    await step(20);
    expect(values.at(-1)).toBe(0);
  });

  it('shows analogWrite as PWM duty, and 0/255 as a plain level', async () => {
    io.pinMode(9, io.MODES.PWM);
    io.analogWrite(9, 128);
    await step(10);
    expect(emulator.pwmDuty(9)).toBeCloseTo(128 / 255, 5);
    io.analogWrite(9, 255);
    await step(10);
    expect(emulator.pwmDuty(9)).toBe(1);
    expect(emulator.readPin(9)).toBe(true);
    io.analogWrite(9, 0);
    await step(10);
    expect(emulator.pwmDuty(9)).toBe(0);
  });

  it('drives a digital output', async () => {
    io.pinMode(7, io.MODES.OUTPUT);
    io.digitalWrite(7, 1);
    await step(10);
    expect(emulator.readPin(7)).toBe(true);
    io.digitalWrite(7, 0);
    await step(10);
    expect(emulator.readPin(7)).toBe(false);
  });

  it('converts the voltage set on an analog channel', async () => {
    emulator.setAnalog(1, 2.5);
    const values: number[] = [];
    io.analogRead(1, (v) => values.push(v));
    await step(100);
    expect(values.at(-1)).toBeGreaterThanOrEqual(510);
    expect(values.at(-1)).toBeLessThanOrEqual(513);
  });
});
