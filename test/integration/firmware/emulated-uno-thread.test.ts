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
