/**
 * BoardPort on johnny-five. The only module that imports johnny-five; it turns contacts into InputEvents and
 * Outputs into pins, and knows nothing of policy or timing (short/long press, tamper) beyond debouncing.
 *
 * Wiring conventions (see pin-map.ts): every input is a contact to GND on a pulled-up pin, so LOW = contact closed,
 * and each is a johnny-five Button with isPullup (pressed = closed; Button debounces 7 ms), except that the report
 * button's edges are taken from the pin at once (see EdgeLockout).
 *   door   reed switch, closed while the door is shut        -> { kind: 'door', open: !closed }
 *   key    key switch, closed while turned on                -> { kind: 'key', on: closed }
 *   slots  microswitch per slot, closed while a phone is in  -> { kind: 'slot', index, occupied: closed }
 *   button report button, closed while pressed               -> { kind: 'button', pressed: closed }
 * A cut wire therefore reads as door open / key off / slot empty / button up.
 *
 * Outputs belong on digital pins: for a Firmata Uno, johnny-five reads 14..19 as analog channels for Pin and Led.RGB.
 * Inputs may use 'A0'..'A5' (Button resolves those itself; johnny-five's Switch does not, which is why it is unused).
 */
import five from 'johnny-five';
import { type BoardLog, silentLogger } from '../../shared/log.js';
import type { BoardPort, BoardStatus, ButtonLight, InputEvent, Outputs } from './board-port.js';
import { EdgeLockout } from './edge-lockout.js';
import {
  BUTTON_LIGHT_PATTERNS,
  CHIRP_PATTERNS,
  playPattern,
  type Rgb,
  SIGNAGE_LOOKS,
  scaleRgb,
} from './patterns.js';
import type { BoardPins } from './pin-map.js';
import { PressTicks } from './press-ticks.js';

export interface JohnnyFiveBoardOptions {
  /**
   * A Firmata instance or IO plugin whose transport has not opened yet: johnny-five must be listening before the
   * IO emits 'connect', or it waits for it for ever.
   */
  io: unknown;
  pins: BoardPins;
  log?: BoardLog;
  /** Board id in johnny-five's logs; several boards can share a process. */
  id?: string;
  /** IO plugins other than Firmata: how long after ready to let inputs report before taking the boot snapshot. */
  settleMs?: number;
  /**
   * johnny-five's own connect-to-ready timeout. Default 30 s, not johnny-five's 10 s: an emulated Uno on a busy
   * 2-core machine (or a Pi booting) can take longer to answer, and a missing board already fails at serial open.
   */
  readyTimeoutMs?: number;
  /**
   * Firmata only: ask the firmware for its version this often once ready, and report the board 'lost' when two
   * asks in a row go unanswered. For transports that can hang without closing (a wedged USB hub). Off by default.
   */
  watchdogMs?: number;
}

type InputKey = 'door' | 'key' | 'button' | `slot${number}`;
type Chirp = NonNullable<Outputs['chirp']>;

/** Firmata's round trip: answered in order, so every report the firmware sent before it has been read. */
interface FirmataSync {
  queryFirmware?(callback: () => void): void;
}

/** The IO object's own events: johnny-five only forwards its errors once ready, and we release held buttons. */
interface IoEvents {
  on?(event: 'error', listener: (error: Error) => void): unknown;
  on?(event: 'close' | 'disconnect', listener: () => void): unknown;
  /** IO plugins emit `digital-read-<pin>` with the pin's level (firmata-io: for every pin of each port report). */
  on?(event: `digital-read-${number}`, listener: (value: number) => void): unknown;
  /** Firmata: `analog-read-<channel>` for each analog report, sent every sampling interval of the board's clock. */
  on?(event: `analog-read-${number}`, listener: () => void): unknown;
  emit?(event: string, ...args: unknown[]): boolean;
}

/** johnny-five accepts options @types/johnny-five does not list. */
type BoardOptions = five.BoardOption & { sigint: boolean };
/** @types/johnny-five types Led.RGB pins as numbers; johnny-five resolves names such as 'GPIO18' itself. */
type RgbPins = { red: number; green: number; blue: number };
/** Button's isDown getter (the raw, undebounced level), which @types/johnny-five leaves out. */
type J5Button = five.Button & { readonly isDown: boolean; readonly pin: number; readonly downValue: number };

/** How long the report button is left alone after an edge: as long as johnny-five's Button debounce. */
const BUTTON_LOCKOUT_MS = 7;

/** Firmata's analog reporting, used as the board's clock (see PressTicks). */
interface FirmataClock {
  analogPins?: number[];
  setSamplingInterval?(ms: number): void;
  reportAnalogPin?(channel: number, on: 0 | 1): void;
}

/**
 * The board clock's tick: Firmata's sampling interval (firmata-io's minimum). One 3-byte analog report per tick is
 * 300 B/s of the 5,760 B/s a 57600-baud link carries.
 */
const BOARD_TICK_MS = 10;

interface Hardware {
  inputs: Map<InputKey, J5Button>;
  lock: five.Pin;
  signage: five.Led.RGB;
  buttonLight: five.Led;
  buzzer: five.Pin | undefined;
}

/** Firmata's round trip normally takes a few ms; past this the snapshot is taken anyway, with a warning. */
const SYNC_TIMEOUT_MS = 3000;

function eventFor(key: InputKey, closed: boolean): InputEvent {
  switch (key) {
    case 'door':
      return { kind: 'door', open: !closed };
    case 'key':
      return { kind: 'key', on: closed };
    case 'button':
      return { kind: 'button', pressed: closed };
    default:
      return { kind: 'slot', index: Number(key.slice(4)), occupied: closed };
  }
}

const hex = (c: Rgb): string =>
  `#${[c.red, c.green, c.blue].map((v) => v.toString(16).padStart(2, '0')).join('')}`;

export class JohnnyFiveBoard implements BoardPort {
  readonly board: five.Board;
  private readonly pins: BoardPins;
  private readonly log: BoardLog;
  private readonly settleMs: number;
  private readonly listeners: Array<(event: InputEvent) => void> = [];
  private readonly statusListeners: Array<(status: BoardStatus) => void> = [];
  private lost = false;
  private readonly watchdogMs: number | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private unanswered = 0;
  private readonly levels = new Map<InputKey, boolean>();
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (error: Error) => void;
  private hw: Hardware | undefined;
  private live = false;
  private closed = false;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private applied: Required<Outputs> | undefined;
  private pending: Outputs | undefined;
  private stopSignage: (() => void) | undefined;
  private stopButtonLight: (() => void) | undefined;
  private stopChirp: (() => void) | undefined;
  private buttonEdges: EdgeLockout | undefined;
  /** The analog channel reported as the board's clock, if the IO has one spare. */
  private clockChannel: number | undefined;

  constructor(options: JohnnyFiveBoardOptions) {
    this.pins = options.pins;
    this.log = options.log ?? silentLogger;
    this.settleMs = options.settleMs ?? 250;
    this.watchdogMs = options.watchdogMs;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Nobody may be awaiting ready() yet when a boot error arrives; it is still reported when they do.
    this.readyPromise.catch(() => {});

    const boardOptions: BoardOptions = {
      io: options.io,
      id: options.id,
      repl: false,
      debug: false,
      sigint: false,
      timeout: options.readyTimeoutMs ?? 30_000,
    };
    this.board = new five.Board(boardOptions);
    // Before ready, an IO error (serial port missing, say) has no listener in johnny-five and would throw.
    const io = options.io as IoEvents;
    io.on?.('error', (error) => {
      if (this.live) return this.markLost(`transport error: ${error.message}`);
      if (this.board.isReady) return; // johnny-five forwards it to the board from here on
      this.log.error({ board: options.id, error: error.message }, 'board connection failed');
      this.rejectReady(error);
    });
    // firmata-io says 'disconnect' when serialport reports the device gone, 'close' for any other close.
    io.on?.('close', () => this.markLost('transport closed'));
    io.on?.('disconnect', () => this.markLost('board disconnected'));
    // johnny-five reports failures as 'error' events; unhandled, an EventEmitter 'error' would throw.
    this.board.on('error', (error: Error | five.BoardLogEvent) => {
      if (this.closed) return;
      const message = error instanceof Error ? error.message : error.message || String(error.class);
      this.log.error({ board: options.id, error: message }, 'board error');
      if (!this.live) this.rejectReady(error instanceof Error ? error : new Error(message));
    });
    this.board.on('ready', () => {
      if (this.closed) return;
      try {
        this.setUp();
      } catch (error) {
        this.rejectReady(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** 'connected' once ready (told at once to a late listener), then at most one 'lost'. */
  onStatus(listener: (status: BoardStatus) => void): void {
    this.statusListeners.push(listener);
    if (this.live) queueMicrotask(() => this.tellStatus(listener, this.lost ? 'lost' : 'connected'));
  }

  /**
   * Listeners registered before ready() resolves receive every input's level once at boot, then changes.
   * A listener registered later is first told the current levels.
   */
  onInput(listener: (event: InputEvent) => void): void {
    this.listeners.push(listener);
    if (this.live) {
      const snapshot = [...this.levels].map(([key, closed]) => eventFor(key, closed));
      queueMicrotask(() => {
        for (const event of snapshot) this.deliver(listener, event);
      });
    }
  }

  /**
   * Idempotent: only what differs from the last applied outputs reaches the hardware. A chirp plays when `chirp`
   * changes to 'confirmed' or 'stored'. Before the board is ready the latest outputs are kept and applied then.
   */
  apply(outputs: Outputs): void {
    if (this.closed || this.lost) return;
    const hw = this.hw;
    if (!hw) {
      this.pending = outputs;
      return;
    }
    const next: Required<Outputs> = { ...outputs, chirp: outputs.chirp ?? 'none' };
    const last = this.applied;
    if (next.locked !== last?.locked) {
      if (next.locked) hw.lock.high();
      else hw.lock.low();
    }
    if (next.signage !== last?.signage) {
      this.stopSignage?.();
      const look = SIGNAGE_LOOKS[next.signage];
      this.stopSignage = playPattern(look.pattern, (level) =>
        hw.signage.color(hex(scaleRgb(look.colour, level))),
      );
    }
    if (next.buttonLight !== last?.buttonLight) this.showButtonLight(hw, next.buttonLight);
    if (next.chirp !== last?.chirp) this.playChirp(hw, next.chirp);
    this.applied = next;
  }

  /**
   * Stops this board's timers and johnny-five's. Leaves the lock and lights as they are (a restart must not unlock
   * the locker), silences the buzzer, and leaves the transport to whoever opened it.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.snapshotTimer);
    clearInterval(this.watchdogTimer);
    this.stopSignage?.();
    this.stopButtonLight?.();
    this.stopChirp?.();
    const hw = this.hw;
    hw?.buzzer?.low();
    // A held Button keeps a 'hold' interval running until it sees its pin go up: tell it each was released.
    const io = this.board.io as IoEvents;
    for (const input of hw?.inputs.values() ?? []) {
      if (input.isDown) io.emit?.(`digital-read-${input.pin}`, input.upValue);
    }
    this.buttonEdges?.stop();
    if (this.clockChannel !== undefined && !this.lost) {
      (this.board.io as FirmataClock).reportAnalogPin?.(this.clockChannel, 0);
    }
    this.listeners.length = 0;
    this.statusListeners.length = 0;
    if (!this.live) this.rejectReady(new Error('board closed before it was ready'));
  }

  private setUp(): void {
    const { board, pins } = this;
    const inputs = new Map<InputKey, J5Button>();
    const watch = (key: InputKey, pin: BoardPins['door']): J5Button => {
      // holdtime: Button runs a 'hold' interval while pressed; a slot can stay occupied all day, so make it rare.
      const input = new five.Button({ board, pin, isPullup: true, holdtime: 3_600_000 }) as J5Button;
      inputs.set(key, input);
      return input;
    };
    const debounced = (key: InputKey, input: J5Button): void => {
      input.on('press', () => this.update(key, true));
      input.on('release', () => this.update(key, false));
    };
    debounced('door', watch('door', pins.door));
    debounced('key', watch('key', pins.key));
    for (const [i, pin] of pins.slots.entries()) debounced(`slot${i}`, watch(`slot${i}`, pin));
    // The Button still sets the pin up and gives the boot level (isDown); its edges come from the pin directly.
    const button = watch('button', pins.button);
    const ticks = this.startBoardClock();
    const edges = new EdgeLockout(BUTTON_LOCKOUT_MS, (closed) =>
      this.update('button', closed, closed ? undefined : ticks?.release()),
    );
    this.buttonEdges = edges;
    (board.io as IoEvents).on?.(`digital-read-${button.pin}`, (value) => {
      const closed = value === button.downValue;
      ticks?.sample(closed);
      edges.sample(closed);
    });

    this.hw = {
      inputs,
      lock: new five.Pin({ board, pin: pins.lock }),
      signage: new five.Led.RGB({ board, pins: pins.signage as RgbPins }),
      buttonLight: new five.Led({ board, pin: pins.buttonLight }),
      // An active buzzer: johnny-five's Piezo bit-bangs tones over Firmata and would saturate 57600 baud.
      buzzer: pins.piezo === undefined ? undefined : new five.Pin({ board, pin: pins.piezo }),
    };
    const { pending } = this;
    this.pending = undefined;
    if (pending) this.apply(pending);

    // Firmata's first report of a port can predate pin modes set after it (firmata-io already counts those pins as
    // inputs and reports them LOW, i.e. closed), so the boot snapshot waits for a round trip: by its reply the last
    // report of every port, sent after all the pin modes, has been read.
    const io = board.io as FirmataSync;
    if (typeof io.queryFirmware === 'function') {
      io.queryFirmware(() => this.goLive());
      this.snapshotTimer = setTimeout(() => {
        this.log.warn({ board: board.id }, 'no reply from Firmata; taking input levels as they stand');
        this.goLive();
      }, SYNC_TIMEOUT_MS);
    } else {
      this.snapshotTimer = setTimeout(() => this.goLive(), this.settleMs);
    }
  }

  /**
   * Firmata only: reports the highest analog channel no input or output uses, every BOARD_TICK_MS, and counts the
   * reports as the board's clock for the report button. Other IO (GPIO on the Pi itself) reads edges as they happen
   * in this process and has no such clock: presses are timed by when they are read.
   */
  private startBoardClock(): PressTicks | undefined {
    const io = this.board.io as FirmataClock & IoEvents;
    const channels = io.analogPins;
    if (
      !channels ||
      typeof io.reportAnalogPin !== 'function' ||
      typeof io.setSamplingInterval !== 'function'
    ) {
      return undefined;
    }
    const { signage, slots, ...single } = this.pins;
    const used = new Set(
      [...Object.values(single), ...Object.values(signage), ...slots].map((pin) => {
        const analog = typeof pin === 'string' ? /^A(\d+)$/.exec(pin) : null;
        return analog ? channels[Number(analog[1])] : pin;
      }),
    );
    const channel = channels.findLastIndex((pin) => !used.has(pin));
    if (channel < 0) {
      this.log.warn(
        { board: this.board.id },
        'no spare analog pin for the board clock; presses timed on arrival',
      );
      return undefined;
    }
    const ticks = new PressTicks(BOARD_TICK_MS);
    io.on?.(`analog-read-${channel}`, () => ticks.tick());
    io.setSamplingInterval(BOARD_TICK_MS);
    io.reportAnalogPin(channel, 1);
    this.clockChannel = channel;
    return ticks;
  }

  private update(key: InputKey, closed: boolean, heldMs?: number): void {
    // Before going live the raw levels are read at once in goLive(); debounced events are only for changes.
    if (this.closed || !this.live) return;
    if (this.levels.get(key) === closed) return;
    this.levels.set(key, closed);
    const event = eventFor(key, closed);
    this.emit(event.kind === 'button' && heldMs !== undefined ? { ...event, heldMs } : event);
  }

  private goLive(): void {
    if (this.live || this.closed || !this.hw) return;
    clearTimeout(this.snapshotTimer);
    // A Button that never saw its pin leave the released level reports isDown false, which is right.
    for (const [key, input] of this.hw.inputs) this.levels.set(key, input.isDown);
    this.live = true;
    for (const [key, closed] of this.levels) this.emit(eventFor(key, closed));
    this.resolveReady();
    for (const listener of this.statusListeners) this.tellStatus(listener, 'connected');
    this.startWatchdog();
  }

  private startWatchdog(): void {
    const io = this.board.io as FirmataSync;
    if (!this.watchdogMs || typeof io.queryFirmware !== 'function') return;
    this.watchdogTimer = setInterval(() => {
      if (this.unanswered >= 2) return this.markLost('board stopped answering');
      this.unanswered += 1;
      io.queryFirmware?.(() => {
        this.unanswered = 0;
      });
    }, this.watchdogMs);
  }

  /** The board is gone (R7 evidence when in a lesson): told once; the owner closes this port and opens another. */
  private markLost(reason: string): void {
    if (this.lost || this.closed) return;
    this.lost = true;
    clearInterval(this.watchdogTimer);
    this.log.warn({ board: this.board.id, reason }, 'board lost');
    if (!this.live) {
      this.rejectReady(new Error(`board lost before it was ready: ${reason}`));
      return;
    }
    for (const listener of [...this.statusListeners]) this.tellStatus(listener, 'lost');
  }

  private tellStatus(listener: (status: BoardStatus) => void, status: BoardStatus): void {
    try {
      listener(status);
    } catch (error) {
      this.log.error({ err: error, status }, 'status listener threw');
    }
  }

  private emit(event: InputEvent): void {
    for (const listener of this.listeners) this.deliver(listener, event);
  }

  private deliver(listener: (event: InputEvent) => void, event: InputEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.log.error({ err: error, event }, 'input listener threw');
    }
  }

  private showButtonLight(hw: Hardware, light: ButtonLight): void {
    this.stopButtonLight?.();
    this.stopButtonLight = playPattern(BUTTON_LIGHT_PATTERNS[light], (level) =>
      hw.buttonLight.brightness(Math.round(level * 255)),
    );
  }

  /** 'none' only re-arms: a chirp already playing finishes, so a quick 'confirmed' then 'none' still beeps. */
  private playChirp(hw: Hardware, chirp: Chirp): void {
    const buzzer = hw.buzzer;
    if (!buzzer || chirp === 'none') return;
    this.stopChirp?.();
    this.stopChirp = playPattern(CHIRP_PATTERNS[chirp], (level) =>
      level > 0 ? buzzer.high() : buzzer.low(),
    );
  }
}
