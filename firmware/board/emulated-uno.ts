/**
 * An Arduino Uno emulated with avr8js, running the real Firmata firmware that node-pixel ships for the Uno
 * (StandardFirmata plus a pixel extension). Firmata talks to it through `serial`, a Duplex standing in for the USB
 * serial port, so the johnny-five path is the same one a real Uno takes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Duplex } from 'node:stream';
import {
  AVRADC,
  AVRIOPort,
  AVRTimer,
  AVRUSART,
  adcConfig,
  avrInstruction,
  CPU,
  portBConfig,
  portCConfig,
  portDConfig,
  timer0Config,
  timer1Config,
  timer2Config,
  usart0Config,
} from 'avr8js';
import { type BoardLog, silentLog } from './log.js';
import { type PinName, unoPin } from './pin-map.js';

export const UNO_CLOCK_HZ = 16_000_000;
const CYCLES_PER_MS = UNO_CLOCK_HZ / 1000;
/** Most emulated time one slice runs before yielding to the event loop (about 2 ms of host time). */
const SLICE_CYCLES = 8 * CYCLES_PER_MS;
/** If the host falls further behind than this, the emulated clock slips instead of racing to catch up. */
const MAX_LAG_CYCLES = 50 * CYCLES_PER_MS;

/** Intel HEX to a flat byte image. Handles data, EOF and extended segment/linear address records. */
export function parseIntelHex(text: string, size = 0x8000): Uint8Array {
  const image = new Uint8Array(size);
  let base = 0;
  for (const [n, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line) continue;
    if (!line.startsWith(':') || line.length < 11 || line.length % 2 === 0) {
      throw new Error(`Intel HEX line ${n + 1}: malformed`);
    }
    const bytes = Buffer.from(line.slice(1), 'hex');
    const count = bytes[0] ?? 0;
    if (bytes.length !== count + 5) throw new Error(`Intel HEX line ${n + 1}: length mismatch`);
    if (bytes.reduce((sum, b) => (sum + b) & 0xff, 0) !== 0)
      throw new Error(`Intel HEX line ${n + 1}: bad checksum`);
    const address = ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0);
    const type = bytes[3];
    const data = bytes.subarray(4, 4 + count);
    if (type === 0x00) {
      if (base + address + count > size) throw new Error(`Intel HEX line ${n + 1}: beyond ${size} bytes`);
      image.set(data, base + address);
    } else if (type === 0x01) {
      break;
    } else if (type === 0x02) {
      base = data.readUInt16BE(0) << 4;
    } else if (type === 0x04) {
      base = data.readUInt16BE(0) << 16;
    }
    // 0x03/0x05 (start address) mean nothing to an emulator that always starts at the reset vector.
  }
  return image;
}

/** Path of the Uno Firmata image inside the installed node-pixel package; never copied into this repository. */
export function unoFirmataHexPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('node-pixel/package.json');
  return join(dirname(pkg), 'firmware/bin/firmata/uno/node_pixel_firmata.ino.hex');
}

/** ATmega328P data-space register addresses used to observe PWM (datasheet, register summary). */
const PWM_CHANNELS: Readonly<Record<number, { tccrA: number; comMask: number; ocr: number }>> = {
  3: { tccrA: 0xb0, comMask: 0x20, ocr: 0xb4 }, // OC2B
  5: { tccrA: 0x44, comMask: 0x20, ocr: 0x48 }, // OC0B
  6: { tccrA: 0x44, comMask: 0x80, ocr: 0x47 }, // OC0A
  9: { tccrA: 0x80, comMask: 0x80, ocr: 0x88 }, // OC1A (Arduino runs timer 1 as 8-bit PWM)
  10: { tccrA: 0x80, comMask: 0x20, ocr: 0x8a }, // OC1B
  11: { tccrA: 0xb0, comMask: 0x80, ocr: 0xb3 }, // OC2A
};

export interface EmulatedUnoOptions {
  /**
   * 'realtime' (default): after start(), the CPU runs in slices paced to the host clock times `speed`.
   * 'lockstep': the CPU runs only inside advance(ms), for deterministic tests with fake timers (realtime mode
   * paces itself with performance.now(), which fake timers may freeze).
   */
  clock?: 'realtime' | 'lockstep';
  /**
   * Emulated seconds per host second in realtime mode. 1 = a real Uno; lower it to run many boards on one core;
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

export class EmulatedUno {
  /** The Firmata transport: a Duplex that emits 'open' once start() is called, like a serial port. */
  readonly serial: Duplex & { isOpen: boolean };
  private readonly cpu: CPU;
  private readonly ports: readonly [AVRIOPort, AVRIOPort, AVRIOPort];
  private readonly usart: AVRUSART;
  private readonly adc: AVRADC;
  private readonly clock: 'realtime' | 'lockstep';
  private readonly speed: number;
  private readonly log: BoardLog;
  /** Bytes the host has written to the board and the firmware has transmitted: lets tests see that nothing was sent. */
  readonly stats = { received: 0, sent: 0 };
  private readonly rxQueue: number[] = [];
  private txBytes: number[] = [];
  private started = false;
  private closed = false;
  private immediate: NodeJS.Immediate | undefined;
  private timeout: NodeJS.Timeout | undefined;
  private wallStart = 0;
  private cycleStart = 0;
  private booting: boolean;
  private serialSeen = false;

  constructor(options: EmulatedUnoOptions = {}) {
    this.clock = options.clock ?? 'realtime';
    this.speed = options.speed ?? 1;
    if (!(this.speed > 0)) throw new RangeError('speed must be positive');
    this.log = options.log ?? silentLog;
    this.booting = options.fastBoot ?? true;

    const image = parseIntelHex(readFileSync(options.hexPath ?? unoFirmataHexPath(), 'ascii'));
    this.cpu = new CPU(new Uint16Array(image.buffer, image.byteOffset, image.byteLength / 2));
    // Timers must exist for millis() (timer 0) and analogWrite (timers 0-2) to work.
    new AVRTimer(this.cpu, timer0Config);
    new AVRTimer(this.cpu, timer1Config);
    new AVRTimer(this.cpu, timer2Config);
    this.ports = [
      new AVRIOPort(this.cpu, portDConfig),
      new AVRIOPort(this.cpu, portBConfig),
      new AVRIOPort(this.cpu, portCConfig),
    ];
    this.adc = new AVRADC(this.cpu, adcConfig);
    this.usart = new AVRUSART(this.cpu, usart0Config, UNO_CLOCK_HZ);
    this.usart.onByteTransmit = (byte) => this.txBytes.push(byte);
    this.usart.onRxComplete = () => this.pumpRx();

    const serial = new UsartStream((bytes) => {
      this.stats.received += bytes.length;
      for (const b of bytes) this.rxQueue.push(b);
      this.pumpRx();
    });
    this.serial = serial;

    // avr8js reads an unconnected pulled-up input as LOW; hold inputs HIGH so they start released, like real contacts.
    const released = options.releasedPins ?? Array.from({ length: 18 }, (_, i) => i + 2);
    for (const pin of released) this.setPin(pin, true);
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
    if (this.clock === 'realtime') {
      this.wallStart = performance.now();
      this.cycleStart = this.cpu.cycles;
      this.immediate = setImmediate(this.runSlice);
    }
  }

  /** Lockstep mode: runs exactly `ms` of emulated time now, delivering what the firmware transmits as it goes. */
  advance(ms: number): void {
    if (this.clock !== 'lockstep') throw new Error('advance() is for lockstep mode');
    if (this.closed) return;
    let remaining = Math.round(ms * CYCLES_PER_MS);
    while (remaining > 0) {
      const chunk = Math.min(remaining, CYCLES_PER_MS);
      this.run(chunk);
      remaining -= chunk;
    }
  }

  /** Emulated milliseconds since power-on. */
  get millis(): number {
    return this.cpu.cycles / CYCLES_PER_MS;
  }

  /** Drives an input pin from outside, as a contact or sensor would. */
  setPin(pin: PinName, high: boolean): void {
    const [port, bit] = this.locate(pin);
    port.setPin(bit, high);
  }

  /** Sets the voltage (0..5 V) the ADC reads on analog channel 0..5. */
  setAnalog(channel: number, volts: number): void {
    if (!Number.isInteger(channel) || channel < 0 || channel > 5)
      throw new RangeError(`no analog channel ${channel}`);
    this.adc.channelValues[channel] = Math.min(5, Math.max(0, volts));
  }

  /** The level on a pin: what an output drives (including PWM at this instant), or what an input is fed. */
  readPin(pin: PinName): boolean {
    const n = unoPin(pin);
    const pinRegister = n < 8 ? 0x29 : n < 14 ? 0x23 : 0x26; // PIND, PINB, PINC in data space
    const bit = n < 8 ? n : n < 14 ? n - 8 : n - 14;
    return ((this.cpu.data[pinRegister] ?? 0) & (1 << bit)) !== 0;
  }

  /**
   * Duty cycle 0..1 of a PWM-capable pin (3, 5, 6, 9, 10, 11). Arduino's analogWrite(0|255) disconnects the timer
   * and drives the pin plainly, so a disconnected channel reports its steady level instead of the compare register.
   */
  pwmDuty(pin: PinName): number {
    const n = unoPin(pin);
    const channel = PWM_CHANNELS[n];
    if (!channel) throw new RangeError(`pin ${n} is not a PWM pin on the Uno`);
    const data = this.cpu.data;
    if (((data[channel.tccrA] ?? 0) & channel.comMask) === 0) return this.readPin(n) ? 1 : 0;
    return (data[channel.ocr] ?? 0) / 255;
  }

  /** Stops the CPU and ends the serial stream. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearImmediate(this.immediate);
    clearTimeout(this.timeout);
    this.serial.isOpen = false;
    this.serial.push(null);
    this.serial.emit('close');
  }

  private locate(pin: PinName): [AVRIOPort, number] {
    const n = unoPin(pin);
    const [portD, portB, portC] = this.ports;
    if (n < 8) return [portD, n];
    if (n < 14) return [portB, n - 8];
    return [portC, n - 14];
  }

  /** Feeds one byte at a time: the USART holds one byte in flight and the firmware's ISR empties it into a ring. */
  private pumpRx(): void {
    if (this.rxQueue.length === 0 || this.usart.rxBusy || !this.usart.rxEnable) return;
    const next = this.rxQueue.shift();
    if (next !== undefined) this.usart.writeByte(next);
  }

  private run(cycles: number): void {
    const cpu = this.cpu;
    const end = cpu.cycles + cycles;
    this.pumpRx(); // the firmware may have enabled the receiver since bytes were queued
    while (cpu.cycles < end) {
      avrInstruction(cpu);
      cpu.tick();
    }
    if (this.txBytes.length > 0) {
      this.serialSeen = true;
      this.stats.sent += this.txBytes.length;
      const out = Buffer.from(this.txBytes);
      this.txBytes = [];
      this.serial.push(out);
    }
  }

  private readonly runSlice = (): void => {
    this.immediate = undefined;
    this.timeout = undefined;
    if (this.closed) return;
    if (this.booting && this.serialSeen) {
      // The first transmission was pushed last slice: boot is over, pace from here.
      this.booting = false;
      this.wallStart = performance.now();
      this.cycleStart = this.cpu.cycles;
    }
    const flatOut = this.booting || !Number.isFinite(this.speed);
    const target = (performance.now() - this.wallStart) * CYCLES_PER_MS * this.speed;
    let due = flatOut ? SLICE_CYCLES * 2 : target - (this.cpu.cycles - this.cycleStart);
    if (due > MAX_LAG_CYCLES) {
      this.cycleStart += due - MAX_LAG_CYCLES;
      due = MAX_LAG_CYCLES;
    }
    try {
      if (due > 0) this.run(Math.min(due, SLICE_CYCLES));
    } catch (error) {
      this.log.error({ err: error }, 'emulated Uno CPU stopped');
      this.close();
      return;
    }
    // Behind: keep going after I/O gets a turn. Caught up: sleep until about one slice is due.
    if (due > SLICE_CYCLES) this.immediate = setImmediate(this.runSlice);
    else this.timeout = setTimeout(this.runSlice, 2);
  };
}
