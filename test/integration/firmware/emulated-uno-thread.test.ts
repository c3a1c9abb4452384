/**
 * The emulated Uno in realtime mode runs its chip in a worker thread (firmware/board/uno-worker.ts): emulated time
 * goes on while this thread is busy, Firmata still completes its handshake over the serial Duplex, and the thread
 * ending (a crash, or close()) closes the serial stream the way a pulled USB cable does.
 */
import type { Worker } from 'node:worker_threads';
import firmataIo from 'firmata-io';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedUno } from '../../../firmware/board/emulated-uno.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const opened: EmulatedUno[] = [];

/** A booted board with firmata-io attached, and its worker (a private field: only this test reaches for it). */
async function bootedUno(): Promise<{ emulator: EmulatedUno; io: firmataIo.Firmata; worker: Worker }> {
  const emulator = new EmulatedUno();
  opened.push(emulator);
  const io = new firmataIo.Firmata(emulator.serial);
  emulator.start();
  await new Promise<void>((resolve, reject) => {
    io.once('ready', () => resolve());
    setTimeout(() => reject(new Error('firmata-io not ready within 20 s')), 20_000);
  });
  return { emulator, io, worker: Reflect.get(emulator, 'worker') as Worker };
}

afterEach(() => {
  for (const emulator of opened.splice(0)) emulator.close();
});

describe('EmulatedUno (realtime, worker thread)', () => {
  it('keeps running while this thread is blocked', async () => {
    const { emulator } = await bootedUno();
    const before = emulator.millis;
    const until = performance.now() + 300;
    while (performance.now() < until) {
      // Busy: an emulator in this thread could not advance now; the worker's mirror still moves.
    }
    expect(emulator.millis).toBeGreaterThan(before);
  });

  it('carries Firmata both ways: an output written is mirrored, an input driven is reported', async () => {
    const { emulator, io } = await bootedUno();
    io.pinMode(7, io.MODES.OUTPUT);
    io.digitalWrite(7, 1);
    for (let t = 0; t < 2000 && !emulator.readPin(7); t += 10) await sleep(10);
    expect(emulator.readPin(7)).toBe(true);

    const values: number[] = [];
    io.pinMode(4, io.MODES.PULLUP);
    io.digitalRead(4, (value) => values.push(value));
    emulator.setPin(4, false);
    for (let t = 0; t < 2000 && values.at(-1) !== 0; t += 10) await sleep(10);
    expect(values.at(-1)).toBe(0);
    expect(emulator.stats.received).toBeGreaterThan(0);
    expect(emulator.stats.sent).toBeGreaterThan(0);
  });

  it('applies a pin change at the emulated moment it was made, however late the worker reads it (R1)', async () => {
    const { emulator, io } = await bootedUno();
    // The board's own clock: an analog report every 10 ms of emulated time, in the same stream as the edges.
    let ticks = 0;
    const edges: { value: number; tick: number }[] = [];
    io.setSamplingInterval(10);
    io.analogRead(5, () => {
      ticks += 1;
    });
    io.pinMode(2, io.MODES.PULLUP);
    io.digitalRead(2, (value) => edges.push({ value, tick: ticks }));
    for (let t = 0; t < 2000 && ticks < 3; t += 10) await sleep(10);
    // A 100 ms press whose release reaches the worker in the same burst as the press: applied on arrival, the chip
    // would never see the pin low.
    const from = edges.length;
    const at = performance.timeOrigin + performance.now();
    emulator.setPin(2, false, at);
    emulator.setPin(2, true, at + 100);
    const released = () =>
      edges.slice(from).some((e, i, after) => e.value === 1 && after[i - 1]?.value === 0);
    for (let t = 0; t < 3000 && !released(); t += 10) await sleep(10);
    const down = edges.slice(from).find((e) => e.value === 0);
    const up = edges.slice(from).findLast((e) => e.value === 1);
    expect(down && up, JSON.stringify(edges)).toBeTruthy();
    // 100 ms of emulated time is 10 sampling intervals, give or take one at each end.
    expect((up?.tick ?? 0) - (down?.tick ?? 0)).toBeGreaterThanOrEqual(9);
    expect((up?.tick ?? 0) - (down?.tick ?? 0)).toBeLessThanOrEqual(11);
  });

  it('closes the serial stream when its worker dies', async () => {
    const { emulator, worker } = await bootedUno();
    const closed = new Promise<void>((resolve) => emulator.serial.once('close', () => resolve()));
    await worker.terminate();
    await closed;
    expect(emulator.serial.isOpen).toBe(false);
  });

  it('ends its worker on close()', async () => {
    const { emulator, worker } = await bootedUno();
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    emulator.close();
    await exited;
    expect(emulator.serial.isOpen).toBe(false);
  });
});
