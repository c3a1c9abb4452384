/**
 * The real path: johnny-five -> firmata-io -> serial bytes -> an emulated Uno running the Firmata image node-pixel
 * ships. Inputs are driven on the emulator's pins; outputs are read back from its port and timer registers.
 * One board per file: johnny-five keeps a process-wide board list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardPort, InputEvent, Outputs } from '../../../firmware/board/board-port.js';
import type { EmulatedUno } from '../../../firmware/board/emulated-uno.js';
import { openBoard } from '../../../firmware/board/open-board.js';
import { SIGNAGE_LOOKS } from '../../../firmware/board/patterns.js';
import { DEFAULT_UNO_PINS } from '../../../firmware/board/pin-map.js';
import { boardCaughtUp } from '../../support/board-sync.js';

const pins = DEFAULT_UNO_PINS;
/**
 * How long a wait for the board may take before the test fails. Not a sleep: waits end as soon as the board answers
 * (milliseconds when idle). Generous because a loaded 2-core machine can hold the chip's thread or this one for
 * seconds (2 s was seen to be too short with four busy processes).
 */
const WAIT_MS = 15_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let port: BoardPort;
let emulator: EmulatedUno;
const events: InputEvent[] = [];

/** Waits until an event matching `match` has arrived since index `from`. */
async function waitForEvent(
  match: Partial<InputEvent>,
  from: number,
  timeoutMs = WAIT_MS,
): Promise<InputEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = events
      .slice(from)
      .find((e) => Object.entries(match).every(([k, v]) => e[k as keyof InputEvent] === v));
    if (found) return found;
    if (Date.now() > deadline)
      throw new Error(`no ${JSON.stringify(match)}; got ${JSON.stringify(events.slice(from))}`);
    await sleep(10);
  }
}

/**
 * Waits until the board shows what was applied (the command's trip: Firmata to the emulated chip in its worker
 * thread, slower on a loaded machine), then the test samples what it shows from there. Fails after timeoutMs.
 */
async function until(test: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`board never showed ${what}`);
    await sleep(5);
  }
}

/**
 * Node may fire a timer up to a millisecond before its delay by performance.now(), and it measures the delay from the
 * event loop's cached time, which lags a little behind: this margin covers both.
 */
const DIP_MARGIN_MS = 50;

/** Samples `read` every `everyMs` for `forMs`, each with the time it was read (performance.now()). */
async function timedSamples<T>(
  read: () => T,
  forMs: number,
  everyMs = 20,
): Promise<{ value: T; at: number }[]> {
  const out: { value: T; at: number }[] = [];
  for (let t = 0; t < forMs; t += everyMs) {
    out.push({ value: read(), at: performance.now() });
    await sleep(everyMs);
  }
  return out;
}

/** Samples `read` every `everyMs` for `forMs`. */
async function samples<T>(read: () => T, forMs: number, everyMs = 20): Promise<T[]> {
  const out: T[] = [];
  for (let t = 0; t < forMs; t += everyMs) {
    out.push(read());
    await sleep(everyMs);
  }
  return out;
}

const rgb = () =>
  [emulator.pwmDuty(9), emulator.pwmDuty(10), emulator.pwmDuty(11)].map((d) => Math.round(d * 255));
const base: Outputs = { locked: false, signage: 'off', buttonLight: 'off', chirp: 'none' };

beforeAll(async () => {
  const opened = await openBoard({ kind: 'emulated-uno' }, pins, undefined, { id: 'j5-test' });
  port = opened.port;
  emulator = opened.emulator!;
  // Levels present at power-on must be in the boot snapshot: door shut, a phone in slot 2.
  emulator.setPin(pins.door, false);
  emulator.setPin('A2', false);
  port.onInput((event) => events.push(event));
  await port.ready();
});

afterAll(async () => {
  await port?.close();
});

describe('JohnnyFiveBoard over Firmata on an emulated Uno', () => {
  it('boots and reports every input level once', () => {
    expect(events.slice(0, 7)).toEqual(
      expect.arrayContaining([
        { kind: 'door', open: false },
        { kind: 'key', on: false },
        { kind: 'slot', index: 0, occupied: false },
        { kind: 'slot', index: 1, occupied: false },
        { kind: 'slot', index: 2, occupied: true },
        { kind: 'slot', index: 3, occupied: false },
        { kind: 'button', pressed: false },
      ]),
    );
    expect(events).toHaveLength(7);
  });

  it('reports the door opening and closing (reed switch to GND)', async () => {
    const from = events.length;
    emulator.setPin(pins.door, true);
    await waitForEvent({ kind: 'door', open: true }, from);
    emulator.setPin(pins.door, false);
    await waitForEvent({ kind: 'door', open: false }, from + 1);
  });

  it('reports the key switch and slots, each only on a change', async () => {
    const from = events.length;
    emulator.setPin(pins.key, false);
    await waitForEvent({ kind: 'key', on: true }, from);
    emulator.setPin('A0', false);
    emulator.setPin('A2', true);
    await waitForEvent({ kind: 'slot', index: 0, occupied: true } as Partial<InputEvent>, from);
    await waitForEvent({ kind: 'slot', index: 2, occupied: false } as Partial<InputEvent>, from);
    await sleep(100);
    expect(events.slice(from)).toHaveLength(3);
    emulator.setPin(pins.key, true);
    emulator.setPin('A0', true);
    await waitForEvent({ kind: 'slot', index: 0, occupied: false } as Partial<InputEvent>, from + 3);
  });

  it('forwards raw report-button presses and releases', async () => {
    const from = events.length;
    emulator.setPin(pins.button, false);
    await waitForEvent({ kind: 'button', pressed: true }, from);
    emulator.setPin(pins.button, true);
    await waitForEvent({ kind: 'button', pressed: false }, from + 1);
  });

  it('R1: times a press by the board clock when this program reads it late (a stall is not a bounce)', async () => {
    const read: { event: InputEvent; at: number }[] = [];
    port.onInput((event) => {
      if (event.kind === 'button') read.push({ event, at: performance.now() });
    });
    await sleep(0); // the late listener's snapshot of current levels
    read.length = 0;
    const at = performance.timeOrigin + performance.now();
    emulator.setPin(pins.button, false, at);
    emulator.setPin(pins.button, true, at + 120);
    const stallUntil = performance.now() + 400;
    while (performance.now() < stallUntil) {
      // This thread reads no serial bytes now; the chip, in its worker, sees the whole 120 ms press meanwhile.
    }
    const readBy = performance.now() + WAIT_MS;
    while (read.length < 2 && performance.now() < readBy) await sleep(5);
    const [press, release] = read;
    expect(press?.event).toEqual({ kind: 'button', pressed: true });
    // Both edges were read after the stall, when the contact had long been released on the chip, so their arrival
    // times cannot say how long it was closed (under load they may be 1 ms or 400 ms apart)...
    expect(press?.at).toBeGreaterThanOrEqual(stallUntil);
    // ...but the board's clock does, to within one 10 ms tick.
    expect(release?.event).toMatchObject({ kind: 'button', pressed: false });
    const heldMs = release?.event.kind === 'button' ? release.event.heldMs : undefined;
    expect(heldMs).toBeGreaterThanOrEqual(100);
    expect(heldMs).toBeLessThanOrEqual(120);
  });

  it('tells a listener added later the current levels first', async () => {
    const late: InputEvent[] = [];
    port.onInput((event) => late.push(event));
    await sleep(0);
    expect(late).toHaveLength(7);
    expect(late).toContainEqual({ kind: 'door', open: false });
  });

  it('drives the lock pin HIGH when locked and LOW when unlocked', async () => {
    port.apply({ ...base, locked: true });
    await boardCaughtUp(emulator);
    expect(emulator.readPin(pins.lock)).toBe(true);
    port.apply({ ...base, locked: false });
    await boardCaughtUp(emulator);
    expect(emulator.readPin(pins.lock)).toBe(false);
  });

  it('P1: shows phones-away as steady red PWM on the signage pins', async () => {
    port.apply({ ...base, signage: 'phones-away' });
    await boardCaughtUp(emulator);
    expect(rgb()).toEqual([255, 0, 0]);
    const seen = await samples(rgb, 300);
    expect(new Set(seen.map((c) => c.join()))).toEqual(new Set(['255,0,0']));
  });

  it('P3: shows phones-allowed as green, steady until its short dip', async () => {
    // The look blinks (3.7 s on, 0.3 s dark): its dip is sent onMs after apply() on this thread's clock. A loaded
    // machine can hold this test up past that, so each sample carries the time it was read, and only samples read
    // before the dip can have been sent must be green; any later one is green or dark.
    const [on, dip] = SIGNAGE_LOOKS['phones-allowed'].pattern.steps;
    expect(on?.level).toBe(1);
    expect(dip?.level).toBe(0);
    const dipSentAfter = performance.now() + (on?.ms ?? 0) - DIP_MARGIN_MS;
    port.apply({ ...base, signage: 'phones-allowed' });
    await boardCaughtUp(emulator);
    const seen = await timedSamples(rgb, 100);
    const early = seen.filter((s) => s.at < dipSentAfter).map((s) => s.value);
    expect(early).toEqual(Array(early.length).fill([0, 255, 0]));
    for (const { value } of seen) expect(['0,255,0', '0,0,0']).toContain(value.join());
  });

  it('R7: blinks amber fast for a fault', async () => {
    port.apply({ ...base, signage: 'fault' });
    await until(() => rgb().join() === '255,96,0', 'amber');
    const seen = await samples(rgb, 1100);
    // Firmata sets the three channels one message at a time, so a sample may catch a blink half-way (each channel
    // at its amber or its off value); every other sample is amber or off. On the chip a change takes about a
    // millisecond (three 3-byte messages at 57600 baud), but a loaded host can leave its thread, or the chip's, at
    // that point for much longer (8 of 55 samples seen under four busy loops on two cores). A channel out of step with
    // the others by even a quarter of a phase would put a quarter of the samples half-way.
    const amber = [255, 96, 0];
    expect(seen.every((c) => c.every((v, i) => v === amber[i] || v === 0))).toBe(true);
    const whole = seen.filter((c) => ['255,96,0', '0,0,0'].includes(c.join()));
    expect(seen.length - whole.length).toBeLessThan(seen.length / 4);
    expect(new Set(whole.map((c) => c.join()))).toEqual(new Set(['255,96,0', '0,0,0']));
    const edges = seen.filter((c, i) => i > 0 && c[0] !== seen[i - 1]?.[0]).length;
    expect(edges).toBeGreaterThanOrEqual(3);
  });

  it('R1: the button light is dim and steady when ready, blinks when sending, is full when confirmed', async () => {
    port.apply({ ...base, buttonLight: 'ready' });
    await boardCaughtUp(emulator);
    expect(emulator.pwmDuty(pins.buttonLight)).toBe(38 / 255);
    const ready = await samples(() => emulator.pwmDuty(pins.buttonLight), 300);
    expect(new Set(ready)).toEqual(new Set([38 / 255]));

    port.apply({ ...base, buttonLight: 'sending' });
    await until(() => [0, 1].includes(emulator.pwmDuty(pins.buttonLight)), 'a blinking light');
    const sending = await samples(() => emulator.pwmDuty(pins.buttonLight), 600);
    expect(new Set(sending)).toEqual(new Set([0, 1]));

    port.apply({ ...base, buttonLight: 'confirmed' });
    // Not a wait for a full light: the blink before shows one too, and its next dark step may still be on the way.
    await boardCaughtUp(emulator);
    expect(emulator.pwmDuty(pins.buttonLight)).toBe(1);
    const confirmed = await samples(() => emulator.pwmDuty(pins.buttonLight), 300);
    expect(new Set(confirmed)).toEqual(new Set([1]));
  });

  it('sends nothing when the same outputs are applied again (idempotent)', async () => {
    const outputs: Outputs = {
      locked: true,
      signage: 'phones-away',
      buttonLight: 'confirmed',
      chirp: 'none',
    };
    port.apply(outputs);
    await sleep(100);
    const before = emulator.stats.received;
    for (let i = 0; i < 20; i++) port.apply({ ...outputs });
    await sleep(200);
    expect(emulator.stats.received).toBe(before);
  });

  it('chirps the buzzer once when a report is confirmed', async () => {
    const outputs: Outputs = {
      locked: true,
      signage: 'phones-away',
      buttonLight: 'confirmed',
      chirp: 'none',
    };
    port.apply(outputs);
    await sleep(20);
    port.apply({ ...outputs, chirp: 'confirmed' });
    const buzz = await samples(() => emulator.readPin(pins.piezo!), 400, 10);
    const first = buzz.indexOf(true);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(buzz.at(-1)).toBe(false);
    expect(buzz.slice(first).indexOf(false)).toBeGreaterThan(0);
  });
});
