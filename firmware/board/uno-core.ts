/**
 * The emulated Uno's chip: an avr8js ATmega328P with the timers, ports, ADC and USART Firmata uses, loaded with the
 * Firmata image node-pixel ships. It has no I/O and no clock of its own, so the same core runs in the caller's thread
 * (EmulatedUno in lockstep mode) and in its own worker thread (uno-worker.ts, realtime mode).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
import { type PinName, unoPin } from './pin-map.js';

export const UNO_CLOCK_HZ = 16_000_000;
export const CYCLES_PER_MS = UNO_CLOCK_HZ / 1000;
/**
 * Data-space bytes that hold every register readPin/pwmDuty look at (ports at 0x23..0x2b, timers up to 0xb4): the
 * part of the chip's memory a worker mirrors to the main thread.
 */
export const OBSERVED_REGISTER_BYTES = 0xc0;
/** Emulated time between two mirror updates and serial flushes inside a run (0.25 ms: a few µs of host time). */
const FLUSH_CYCLES = CYCLES_PER_MS / 4;

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

/** Reads and parses a firmware image (32 KiB of flash); throws if it is missing or malformed. */
export function loadUnoImage(hexPath: string = unoFirmataHexPath()): Uint8Array {
  return parseIntelHex(readFileSync(hexPath, 'ascii'));
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

/** The level on a pin, read from the chip's data space (or a copy of its first OBSERVED_REGISTER_BYTES). */
export function readPinFrom(data: Uint8Array, pin: PinName): boolean {
  const n = unoPin(pin);
  const pinRegister = n < 8 ? 0x29 : n < 14 ? 0x23 : 0x26; // PIND, PINB, PINC in data space
  const bit = n < 8 ? n : n < 14 ? n - 8 : n - 14;
  return ((data[pinRegister] ?? 0) & (1 << bit)) !== 0;
}

/**
 * Duty cycle 0..1 of a PWM-capable pin (3, 5, 6, 9, 10, 11). Arduino's analogWrite(0|255) disconnects the timer
 * and drives the pin plainly, so a disconnected channel reports its steady level instead of the compare register.
 */
export function pwmDutyFrom(data: Uint8Array, pin: PinName): number {
  const n = unoPin(pin);
  const channel = PWM_CHANNELS[n];
  if (!channel) throw new RangeError(`pin ${n} is not a PWM pin on the Uno`);
  if (((data[channel.tccrA] ?? 0) & channel.comMask) === 0) return readPinFrom(data, n) ? 1 : 0;
  return (data[channel.ocr] ?? 0) / 255;
}

/** If the host falls further behind than this, the emulated clock slips instead of racing to catch up. */
export const MAX_LAG_CYCLES = 50 * CYCLES_PER_MS;

/** Realtime pacing: the host time (ms) and cycle count the emulated clock is measured from. */
export interface Pace {
  wallStart: number;
  cycleStart: number;
}

/**
 * Cycles due now to keep the CPU at `speed` times the host clock. Behind by more than maxLag, the emulated clock
 * slips (cycleStart moves back by the excess), so after a stall the CPU runs at most maxLag flat out and then keeps
 * pace again, instead of running flat out for good.
 */
export function cyclesDue(
  pace: Pace,
  now: number,
  cycles: number,
  speed: number,
  maxLag = MAX_LAG_CYCLES,
): number {
  const due = (now - pace.wallStart) * CYCLES_PER_MS * speed - (cycles - pace.cycleStart);
  if (due <= maxLag) return due;
  pace.cycleStart -= due - maxLag;
  return maxLag;
}

export function checkAnalogChannel(channel: number): void {
  if (!Number.isInteger(channel) || channel < 0 || channel > 5)
    throw new RangeError(`no analog channel ${channel}`);
}

/** Default inputs held HIGH from power-on: D2..D13 and A0..A5. */
export const DEFAULT_RELEASED_PINS: readonly PinName[] = Array.from({ length: 18 }, (_, i) => i + 2);

export class UnoCore {
  readonly cpu: CPU;
  private readonly ports: readonly [AVRIOPort, AVRIOPort, AVRIOPort];
  private readonly usart: AVRUSART;
  private readonly adc: AVRADC;
  private readonly rxQueue: number[] = [];
  /** A received byte waits in UDR for the firmware to read it. */
  private rxUnread = false;
  private txBytes: number[] = [];

  /**
   * @param transmit receives what the firmware has sent, in order, at most every 0.25 ms of emulated time.
   * @param observe is called after every 0.25 ms of emulated time (to mirror registers elsewhere), before that
   *   slice's bytes go to `transmit`.
   */
  constructor(
    image: Uint8Array,
    releasedPins: readonly PinName[],
    private readonly transmit: (bytes: Uint8Array<ArrayBuffer>) => void,
    private readonly observe: () => void = () => {},
  ) {
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
    // The next host byte goes in once the firmware has read the last one from UDR. avr8js keeps one received byte and
    // overwrites it with the next if it is still unread; bytes fed at line rate were lost that way while the firmware
    // started (counted in a test run: a byte of johnny-five's set-up gone, a pin mode lost, a light that never lit:
    // the one-off "output never read back" failures). A real Uno has a two-byte receive FIFO and a host that waits
    // for the firmware; pacing on the read keeps every byte, as a real board does in practice.
    this.usart.onRxComplete = () => {
      this.rxUnread = true;
    };
    // avr8js clears RXC when UCSRB is written with the receiver left on, which Arduino's HardwareSerial does each time
    // it sends (UDRIE0 on and off). On the chip only reading UDR clears RXC: a byte that had just arrived was never
    // read, and since the next byte waits for that read, the board heard nothing more (every output stayed put).
    const rxc = (this.usart as unknown as { RXC: Parameters<CPU['setInterruptFlag']>[0] }).RXC;
    const ucsrb = usart0Config.UCSRB;
    const writeUcsrb = this.cpu.writeHooks[ucsrb];
    this.cpu.writeHooks[ucsrb] = (value, oldValue, addr, mask) => {
      const handled = writeUcsrb ? writeUcsrb(value, oldValue, addr, mask) : false;
      if (this.rxUnread && this.usart.rxEnable) this.cpu.setInterruptFlag(rxc);
      return handled;
    };
    const udr = usart0Config.UDR;
    const readUdr = this.cpu.readHooks[udr];
    this.cpu.readHooks[udr] = (addr) => {
      const value = readUdr ? readUdr(addr) : 0;
      this.rxUnread = false;
      this.pumpRx();
      return value;
    };
    // avr8js reads an unconnected pulled-up input as LOW; hold inputs HIGH so they start released, like real contacts.
    for (const pin of releasedPins) this.setPin(pin, true);
  }

  get cycles(): number {
    return this.cpu.cycles;
  }

  /** Bytes the host sends: queued, then fed to the USART one at a time as the firmware takes them. */
  receive(bytes: Uint8Array): void {
    for (const b of bytes) this.rxQueue.push(b);
    this.pumpRx();
  }

  setPin(pin: PinName, high: boolean): void {
    const n = unoPin(pin);
    const [portD, portB, portC] = this.ports;
    if (n < 8) portD.setPin(n, high);
    else if (n < 14) portB.setPin(n - 8, high);
    else portC.setPin(n - 14, high);
  }

  setAnalog(channel: number, volts: number): void {
    checkAnalogChannel(channel);
    this.adc.channelValues[channel] = Math.min(5, Math.max(0, volts));
  }

  /** Runs `cycles` clock cycles, handing on what the firmware transmits and the register state as it goes. */
  run(cycles: number): void {
    const cpu = this.cpu;
    const end = cpu.cycles + cycles;
    this.pumpRx(); // the firmware may have enabled the receiver since bytes were queued
    while (cpu.cycles < end) {
      const flushAt = Math.min(end, cpu.cycles + FLUSH_CYCLES);
      while (cpu.cycles < flushAt) {
        avrInstruction(cpu);
        cpu.tick();
      }
      // Registers first: whoever reads a byte sent in this slice then sees every pin change made before it.
      this.observe();
      this.flush();
    }
  }

  private flush(): void {
    if (this.txBytes.length === 0) return;
    const out = Uint8Array.from(this.txBytes);
    this.txBytes = [];
    this.transmit(out);
  }

  /** Feeds one byte at a time, once the firmware's ISR has emptied UDR of the last into its ring. */
  private pumpRx(): void {
    if (this.rxQueue.length === 0 || this.usart.rxBusy || this.rxUnread || !this.usart.rxEnable) return;
    const next = this.rxQueue.shift();
    if (next !== undefined) this.usart.writeByte(next);
  }
}
