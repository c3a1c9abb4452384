/**
 * What each output state looks like: pure tables of colours and light patterns, plus a tiny player.
 * Colour is never the only signal: modes that share a colour family differ in rhythm (steady, slow, fast).
 */
import type { SignageMode } from '../../schemas/messages.js';
import type { ButtonLight } from './board-port.js';

/** Hold `level` (0 = off, 1 = full) for `ms`. */
export interface Step {
  readonly level: number;
  readonly ms: number;
}

/** A light pattern. A pattern that does not repeat holds its last level once played. */
export interface Pattern {
  readonly steps: readonly Step[];
  readonly repeat: boolean;
}

export interface Rgb {
  readonly red: number;
  readonly green: number;
  readonly blue: number;
}

export interface SignageLook {
  /** Full-brightness colour, each channel 0..255. */
  readonly colour: Rgb;
  readonly pattern: Pattern;
  /** Policy clause the mode shows, for documentation and audit. */
  readonly policy: string;
  /** The rhythm in words, for the room's printed legend and the dashboard. */
  readonly legend: string;
}

export const steady = (level: number): Pattern => ({ steps: [{ level, ms: 0 }], repeat: false });
export const blink = (onMs: number, offMs: number): Pattern => ({
  steps: [
    { level: 1, ms: onMs },
    { level: 0, ms: offMs },
  ],
  repeat: true,
});

const RED: Rgb = { red: 255, green: 0, blue: 0 };
const GREEN: Rgb = { red: 0, green: 255, blue: 0 };
const BLUE: Rgb = { red: 0, green: 0, blue: 255 };
/** Amber, not red, so a fault reads differently from phones-away even to someone who sees only the blink. */
const AMBER: Rgb = { red: 255, green: 96, blue: 0 };
const DARK: Rgb = { red: 0, green: 0, blue: 0 };

export const SIGNAGE_LOOKS: Readonly<Record<SignageMode, SignageLook>> = {
  'phones-away': { colour: RED, pattern: steady(1), policy: 'P1', legend: 'steady red: phones away' },
  // Not steady like phones-away: a short dip every 4 s, so the two read differently without colour.
  'phones-allowed': {
    colour: GREEN,
    pattern: blink(3700, 300),
    policy: 'P3',
    legend: 'green with a short dip every 4 s: phones allowed in this zone now',
  },
  // P3, P4: staff may, pupils may not. Green like phones-allowed (it is allowed, for staff) but a double dip every
  // 8 s: twice the period of phones-allowed (rhythms differ by at least 2x) and a double, not single, dip, so a pupil
  // who learnt the legend never reads it as "phones allowed" for them.
  'staff-phones-only': {
    colour: GREEN,
    pattern: {
      steps: [
        { level: 0, ms: 250 },
        { level: 1, ms: 250 },
        { level: 0, ms: 250 },
        { level: 1, ms: 7250 },
      ],
      repeat: true,
    },
    policy: 'P3',
    legend: "green with a double dip every 8 s: staff phones allowed here now; pupils' phones stay away",
  },
  'authorised-use': {
    colour: BLUE,
    pattern: blink(1000, 1000),
    policy: 'P6',
    legend: 'slow blue blink (1 s on, 1 s off): a member of staff has authorised phone use',
  },
  fault: {
    colour: AMBER,
    pattern: blink(250, 250),
    policy: 'R7',
    legend: 'fast amber blink (4 per second): fault or tamper, tell a member of staff',
  },
  off: { colour: DARK, pattern: steady(0), policy: '-', legend: 'dark: school closed' },
};

/** The report button's light (R1): the pupil must be able to tell a report was taken without reading a screen. */
export const BUTTON_LIGHT_PATTERNS: Readonly<Record<ButtonLight, Pattern>> = {
  off: steady(0),
  /** Dim, so it is findable but not distracting during a lesson. */
  ready: steady(0.15),
  sending: blink(100, 100),
  /** The hub has the report. */
  confirmed: steady(1),
  /** Hub unreachable: the report is stored on the device and will be sent later. Double blink, then a pause. */
  stored: {
    steps: [
      { level: 1, ms: 150 },
      { level: 0, ms: 150 },
      { level: 1, ms: 150 },
      { level: 0, ms: 750 },
    ],
    repeat: true,
  },
  /** The device cannot store reports (storage failing): the fault rhythm of the signage, 4 per second. */
  fault: blink(250, 250),
};

/** Buzzer chirps: one beep when the hub confirms, two when the report was stored for later. Played once. */
export const CHIRP_PATTERNS: Readonly<Record<'confirmed' | 'stored' | 'none', Pattern>> = {
  confirmed: {
    steps: [
      { level: 1, ms: 120 },
      { level: 0, ms: 0 },
    ],
    repeat: false,
  },
  stored: {
    steps: [
      { level: 1, ms: 80 },
      { level: 0, ms: 80 },
      { level: 1, ms: 80 },
      { level: 0, ms: 0 },
    ],
    repeat: false,
  },
  none: steady(0),
};

/** Length of one cycle in ms (for a pattern that does not repeat: until it settles). */
export function periodMs(pattern: Pattern): number {
  return pattern.steps.reduce((sum, step) => sum + step.ms, 0);
}

/** Level a pattern shows `tMs` after it started. */
export function levelAt(pattern: Pattern, tMs: number): number {
  const { steps } = pattern;
  const last = steps[steps.length - 1];
  if (!last) return 0;
  const period = periodMs(pattern);
  let t = pattern.repeat && period > 0 ? tMs % period : tMs;
  for (const step of steps) {
    if (t < step.ms) return step.level;
    t -= step.ms;
  }
  return last.level;
}

/** Channel values 0..255 for a colour at a pattern level. */
export function scaleRgb(colour: Rgb, level: number): Rgb {
  const k = Math.min(1, Math.max(0, level));
  return {
    red: Math.round(colour.red * k),
    green: Math.round(colour.green * k),
    blue: Math.round(colour.blue * k),
  };
}

/**
 * Plays a pattern through `write`, calling it only when the level changes. Returns a function that stops playback
 * (leaving the output where it is; the next play() sets it).
 */
export function playPattern(pattern: Pattern, write: (level: number) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let current: number | undefined;
  const { steps } = pattern;
  const repeat = pattern.repeat && periodMs(pattern) > 0; // a zero-length loop would spin
  const step = (index: number): void => {
    const s = steps[index];
    if (!s) return;
    if (s.level !== current) {
      current = s.level;
      write(s.level);
    }
    const next = index + 1 < steps.length ? index + 1 : repeat ? 0 : -1;
    if (next >= 0) timer = setTimeout(step, s.ms, next);
  };
  step(0);
  return () => clearTimeout(timer);
}
