/**
 * One simulated classroom: the emulated Uno a demo device program runs on, seen from the room. Actions drive the
 * board's input pins (actions.ts); what the page shows is read back from the board's pins every SAMPLE_MS, the lights
 * through light-reader.ts. Nothing here talks to the device program or the hub: they react to the pins, as they would
 * to a real locker.
 */
import { performance } from 'node:perf_hooks';
import type { EmulatedUno } from '../../firmware/board/emulated-uno.js';
import { SIGNAGE_LOOKS } from '../../firmware/board/patterns.js';
import type { BoardPins, PinName } from '../../firmware/board/pin-map.js';
import type { SignageMode } from '../../schemas/messages.js';
import { type Action, pinWrites, SimulatorInputError } from './actions.js';
import {
  type Brightness,
  BUTTON_LIGHT_WORDS,
  type ButtonLightReading,
  brightnessOf,
  colourOf,
  Rhythm,
  readButtonLight,
  readSignage,
  type SignageColour,
} from './light-reader.js';

/**
 * How often the pins are read. The shortest blink step is 100 ms (sending); 20 ms gives it five samples, and reading
 * a dozen pins from the emulator's shared memory costs microseconds.
 */
export const SAMPLE_MS = 20;

/** Everything the page draws for one classroom, read from the board's pins. */
export interface ClassroomView {
  device: string;
  room: string;
  doorOpen: boolean;
  locked: boolean;
  /** true = a phone is in the slot. */
  slots: boolean[];
  keyOn: boolean;
  button: {
    down: boolean;
    /** null until the light has shown a state that can be read. */
    light: ButtonLightReading | null;
    words: string;
    /** Brightness now, 0..1, so the page can draw the light as it is this moment. */
    level: number;
  };
  signage: {
    colour: SignageColour;
    mode: SignageMode | null;
    words: string;
    /** The colour showing this moment, #rrggbb. */
    now: string;
  };
}

export interface ClassroomOptions {
  device: string;
  room: string;
  emulator: EmulatedUno;
  pins: BoardPins;
  /** The device program's long-press threshold, so a long press is held past it. */
  longPressMs: number;
  /** Time source for the readers (ms); the emulator's setPin takes epoch ms. */
  now?: () => number;
}

const epochNow = () => performance.timeOrigin + performance.now();
const hex = (v: number) =>
  Math.round(Math.min(1, Math.max(0, v)) * 255)
    .toString(16)
    .padStart(2, '0');

export class Classroom {
  readonly device: string;
  readonly room: string;
  readonly slotCount: number;
  private readonly emulator: EmulatedUno;
  private readonly pins: BoardPins;
  private readonly longPressMs: number;
  private readonly now: () => number;
  private readonly buttonRhythm = new Rhythm<Brightness>();
  private readonly signageRhythm = new Rhythm<SignageColour>();
  private buttonLight: ButtonLightReading | null = null;
  private signage: { colour: SignageColour; mode: SignageMode | null } = { colour: 'dark', mode: null };
  private readonly listeners = new Set<(view: ClassroomView) => void>();
  private readonly releases = new Set<NodeJS.Timeout>();
  private buttonHeld = false;
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private current: ClassroomView;

  constructor(options: ClassroomOptions) {
    this.device = options.device;
    this.room = options.room;
    this.emulator = options.emulator;
    this.pins = options.pins;
    this.slotCount = options.pins.slots.length;
    this.longPressMs = options.longPressMs;
    this.now = options.now ?? epochNow;
    this.current = this.sample();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const release of this.releases) clearTimeout(release);
    this.releases.clear();
    this.listeners.clear();
  }

  view(): ClassroomView {
    return this.current;
  }

  /** Told each time what the room shows changes (a light's blink step included). Returns a function to stop. */
  onChange(listener: (view: ClassroomView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Carries out an action on the board's pins. A timed release (the end of a press) is dated at the moment it was
   * due, so the chip sees the press last as long as asked even when this thread runs it late.
   */
  act(action: Action): void {
    if (action.action === 'press') {
      if (this.buttonHeld)
        throw new SimulatorInputError('E_BUTTON_HELD', 'the report button is already held down', 409);
      this.buttonHeld = true;
    }
    const at = this.now();
    for (const write of pinWrites(action, this.pins, this.longPressMs)) {
      if (write.afterMs === 0) {
        this.emulator.setPin(write.pin, write.high, at);
        continue;
      }
      const release = setTimeout(() => {
        this.releases.delete(release);
        this.emulator.setPin(write.pin, write.high, at + write.afterMs);
        if (write.pin === this.pins.button) this.buttonHeld = false;
      }, write.afterMs);
      this.releases.add(release);
    }
  }

  /** Sets an input's level as the room starts (door shut, phones in slots) before the device program reads it. */
  setInput(pin: PinName, high: boolean): void {
    this.emulator.setPin(pin, high, this.now());
  }

  private tick(): void {
    this.current = this.sample();
    const key = JSON.stringify(this.current);
    if (key === this.last) return;
    this.last = key;
    for (const listener of this.listeners) listener(this.current);
  }

  private sample(): ClassroomView {
    const { emulator, pins } = this;
    const at = this.now();
    const level = emulator.pwmDuty(pins.buttonLight);
    this.buttonRhythm.record(at, brightnessOf(level));
    this.buttonLight = readButtonLight(this.buttonRhythm.phases(), at) ?? this.buttonLight;
    const [red, green, blue] = [pins.signage.red, pins.signage.green, pins.signage.blue].map((p) =>
      emulator.pwmDuty(p),
    ) as [number, number, number];
    this.signageRhythm.record(at, colourOf(red, green, blue));
    const reading = readSignage(this.signageRhythm.phases(), at);
    // A green whose rhythm is not read yet keeps the mode read before, if that was green too.
    if (reading.mode !== null || reading.colour !== this.signage.colour) this.signage = reading;
    const { colour, mode } = this.signage;
    // Inputs read back too: the page shows what the board is fed, not what was asked of it.
    return {
      device: this.device,
      room: this.room,
      doorOpen: emulator.readPin(pins.door),
      locked: emulator.readPin(pins.lock),
      slots: pins.slots.map((slot) => !emulator.readPin(slot)),
      keyOn: !emulator.readPin(pins.key),
      button: {
        down: !emulator.readPin(pins.button),
        light: this.buttonLight,
        words: this.buttonLight ? BUTTON_LIGHT_WORDS[this.buttonLight] : 'not read yet',
        level: Math.round(level * 100) / 100,
      },
      signage: {
        colour,
        mode,
        words: mode
          ? SIGNAGE_LOOKS[mode].legend
          : colour === 'dark'
            ? 'dark'
            : `${colour}, reading its rhythm`,
        now: `#${hex(red)}${hex(green)}${hex(blue)}`,
      },
    };
  }
}
