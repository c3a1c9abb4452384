/**
 * An Arduino Uno emulated with avr8js, running the real Firmata firmware that node-pixel ships for the Uno
 * (StandardFirmata plus a pixel extension). Firmata talks to it through `serial`, a Duplex standing in for the USB
 * serial port, so the johnny-five path is the same one a real Uno takes.
 *
 * In realtime mode the chip runs in a worker thread (uno-worker.ts), as a real Uno is a chip of its own: the thread
 * running johnny-five and the device program is not held up behind emulator slices. Serial bytes cross by
 * postMessage; pin and PWM registers are mirrored into shared memory every 0.25 ms of emulated time, so readPin and
 * pwmDuty stay synchronous and lag the chip by well under a millisecond. Lockstep mode runs the chip in this thread.
 */
import { extname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type BoardLog, silentLogger } from '../../shared/log.js';
import { type PinName, unoPin } from './pin-map.js';
import {
  CYCLES_PER_MS,
  checkAnalogChannel,
  DEFAULT_RELEASED_PINS,
  loadUnoImage,
  OBSERVED_REGISTER_BYTES,
  pwmDutyFrom,
  readPinFrom,
  UnoCore,
} from './uno-core.js';
import type { UnoWorkerData, UnoWorkerMessage } from './uno-worker.js';

export { parseIntelHex, UNO_CLOCK_HZ, unoFirmataHexPath } from './uno-core.js';

export interface EmulatedUnoOptions {
  /**
   * 'realtime' (default): after start(), the CPU runs in its own worker thread, paced to the host clock times
   * `speed`. 'lockstep': the CPU runs in this thread only inside advance(ms), for deterministic tests with fake timers
   * (realtime mode paces itself with performance.now(), which fake timers may freeze).
   */
  clock?: 'realtime' | 'lockstep';
  /**
   * Emulated seconds per host second in realtime mode. 1 = a real Uno; lower it to run many boards on few cores;
   * Infinity runs flat out (about 4x a real Uno on a desktop core).
   */
  speed?: number;
  /** Pins to hold HIGH from the start: a released contact on a pulled-up input. Defaults to D2..D13 and A0..A5. */
  releasedPins?: readonly PinName[];
  /**
   * Realtime mode: run flat out until the firmware first transmits. Firmata spends its first 2.1 s blinking its
   * version on pin 13 (delay() loops), which is dead time for a test or a demo. Default true.
   */
  fastBoot?: boolean;
  hexPath?: string;
  log?: BoardLog;
}

/** The Uno's USB serial as seen from the host: what the firmware transmits is readable, what is written is received. */
class UsartStream extends Duplex {
  isOpen = false;
  constructor(private readonly receive: (bytes: Uint8Array) => void) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.receive(chunk);
    done();
  }
  override _read(): void {
    // Bytes are pushed as the CPU transmits them; there is nothing to pull.
  }
}

/**
 * The worker's module, with the extension this module has: .ts under tsx or vitest, .js from dist/. Node 20 does not
 * pass module hooks on to worker threads, so a TypeScript worker is started through a bootstrap that registers tsx
 * first (tsx is a dev dependency: only the sources need it).
 */
function startWorker(workerData: UnoWorkerData): Worker {
  const ext = extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./uno-worker${ext}`, import.meta.url);
  if (ext !== '.ts') return new Worker(entry, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), { workerData });
}

export class EmulatedUno {
  /** The Firmata transport: a Duplex that emits 'open' once start() is called, like a serial port. */
  readonly serial: Duplex & { isOpen: boolean };
  /** Bytes the host has written to the board and the firmware has transmitted: lets tests see that nothing was sent. */
  readonly stats = { received: 0, sent: 0 };
  private readonly clock: 'realtime' | 'lockstep';
  private readonly log: BoardLog;
  /** Lockstep mode: the chip, in this thread. */
  private readonly core: UnoCore | undefined;
  /** Realtime mode: the thread the chip runs in, and its mirrored cycle count and registers. */
  private readonly worker: Worker | undefined;
  private readonly mirroredCycles: Float64Array | undefined;
  /** The data space readPin/pwmDuty read: the chip's own (lockstep) or the worker's mirror of it (realtime). */
  private readonly registers: Uint8Array;
  private started = false;
  private closed = false;

  constructor(options: EmulatedUnoOptions = {}) {
    this.clock = options.clock ?? 'realtime';
    const speed = options.speed ?? 1;
    if (!(speed > 0)) throw new RangeError('speed must be positive');
    this.log = options.log ?? silentLogger;
    const image = loadUnoImage(options.hexPath);
    const releasedPins = [...(options.releasedPins ?? DEFAULT_RELEASED_PINS)];

    this.serial = new UsartStream((bytes) => {
      this.stats.received += bytes.length;
      if (this.core) this.core.receive(bytes);
      else if (!this.closed) {
        const copy = Uint8Array.from(bytes); // the chunk may share a pooled buffer: send a copy of our own
        this.post({ t: 'rx', bytes: copy }, [copy.buffer]);
      }
    });

    if (this.clock === 'lockstep') {
      this.core = new UnoCore(image, releasedPins, (bytes) => this.deliver(bytes));
      this.registers = this.core.cpu.data;
      return;
    }
    const mirror = new SharedArrayBuffer(8 + OBSERVED_REGISTER_BYTES);
    this.mirroredCycles = new Float64Array(mirror, 0, 1);
    this.registers = new Uint8Array(mirror, 8, OBSERVED_REGISTER_BYTES);
    const worker = startWorker({ image, releasedPins, speed, fastBoot: options.fastBoot ?? true, mirror });
    this.worker = worker;
    worker.on('message', (m: { t: 'tx'; bytes: Uint8Array }) => {
      if (m.t === 'tx' && !this.closed) this.deliver(m.bytes);
    });
    // The chip stopping looks like the cable being pulled: the serial stream closes and the device sees that.
    worker.on('error', (error) => {
      if (this.closed) return;
      this.log.error({ err: error }, 'emulated Uno CPU stopped');
      this.close();
    });
    worker.on('exit', (code) => {
      if (this.closed) return;
      this.log.error({ code }, 'emulated Uno worker exited');
      this.close();
    });
  }

  /**
   * Powers the board: 'open' is emitted on the serial stream and, in realtime mode, the CPU starts running.
   * Attach the Firmata client to `serial` first, or it misses the version report the firmware sends at boot.
   */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.serial.isOpen = true;
    process.nextTick(() => this.serial.emit('open'));
    this.post({ t: 'start' });
  }

  /** Lockstep mode: runs exactly `ms` of emulated time now, delivering what the firmware transmits as it goes. */
  advance(ms: number): void {
    if (!this.core) throw new Error('advance() is for lockstep mode');
    if (this.closed) return;
    let remaining = Math.round(ms * CYCLES_PER_MS);
    while (remaining > 0) {
      const chunk = Math.min(remaining, CYCLES_PER_MS);
      this.core.run(chunk);
      remaining -= chunk;
    }
  }

  /** Emulated milliseconds since power-on (realtime mode: as of the last mirror update). */
  get millis(): number {
    return (this.core?.cycles ?? this.mirroredCycles?.[0] ?? 0) / CYCLES_PER_MS;
  }

  /**
   * Drives an input pin from outside, as a contact or sensor would. Realtime mode: the chip sees the change at the
   * emulated moment matching `at` (epoch ms, default now; later is allowed, to schedule a release), however late the
   * worker thread gets to it, so a press lasts as long on the chip as it did on the host. Lockstep: applied at once.
   */
  setPin(pin: PinName, high: boolean, at: number = performance.timeOrigin + performance.now()): void {
    unoPin(pin); // a pin the Uno does not have throws here, not in the worker
    if (this.core) this.core.setPin(pin, high);
    else this.post({ t: 'pin', pin, high, at });
  }

  /** Sets the voltage (0..5 V) the ADC reads on analog channel 0..5. */
  setAnalog(channel: number, volts: number): void {
    checkAnalogChannel(channel);
    if (this.core) this.core.setAnalog(channel, volts);
    else this.post({ t: 'analog', channel, volts });
  }

  /**
   * The level on a pin: what an output drives (including PWM at this instant), or what an input is fed. Realtime
   * mode: as of the worker's last mirror update (0.25 ms of emulated time), and all LOW until the worker has booted.
   */
  readPin(pin: PinName): boolean {
    return readPinFrom(this.registers, pin);
  }

  /**
   * Duty cycle 0..1 of a PWM-capable pin (3, 5, 6, 9, 10, 11). Arduino's analogWrite(0|255) disconnects the timer
   * and drives the pin plainly, so a disconnected channel reports its steady level instead of the compare register.
   */
  pwmDuty(pin: PinName): number {
    return pwmDutyFrom(this.registers, pin);
  }

  /** Stops the CPU (ending its worker thread) and ends the serial stream. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.worker?.terminate().catch(() => undefined);
    this.serial.isOpen = false;
    this.serial.push(null);
    this.serial.emit('close');
  }

  private deliver(bytes: Uint8Array): void {
    this.stats.sent += bytes.length;
    this.serial.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  private post(message: UnoWorkerMessage, transfer?: ArrayBuffer[]): void {
    if (!this.closed) this.worker?.postMessage(message, transfer);
  }
}
