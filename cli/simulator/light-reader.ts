/**
 * Reads a light's state back from what its output pins did, as a person standing in the classroom would: by its
 * brightness, colour and rhythm over the last few seconds. Pure: samples arrive with their time; nothing here reads a
 * clock or a pin. The simulator page shows these words, so they come from the emulated board's pins and not from the
 * device program's intentions: if the device program, Firmata or the chip got a light wrong, the page says so.
 *
 * The rhythms told apart are those of firmware/board/patterns.ts. The thresholds sit between its step lengths with
 * room for the sampling interval and Firmata's latency on a busy machine (a blink step arrives up to a few tens of ms
 * late): sending blinks 100/100 ms, stored blinks 150/150 ms then pauses 750 ms, fault blinks 250/250 ms.
 */
import type { SignageMode } from '../../schemas/messages.js';

/** One stretch of time a light showed one value. `end` is undefined for the phase still showing. */
export interface Phase<T extends string> {
  readonly value: T;
  readonly start: number;
  readonly end?: number;
}

/**
 * The recent phases of one light. A value must be seen in two samples in a row before it starts a phase (dated from
 * the first): Led.RGB writes its three pins one after another, so a colour change passes through a mixture for a
 * moment, and a sample that lands in that moment must not count as a blink.
 */
export class Rhythm<T extends string> {
  private readonly kept: { value: T; start: number }[] = [];
  private candidate: { value: T; at: number } | undefined;

  /** keepMs: how much history to keep; it must cover the longest rhythm read (8 s for a double dip). */
  constructor(private readonly keepMs = 10_000) {}

  /** Records a sample; true when it started a new phase. */
  record(at: number, value: T): boolean {
    const current = this.kept.at(-1);
    if (current?.value === value) {
      this.candidate = undefined;
      return false;
    }
    if (current && this.candidate?.value !== value) {
      this.candidate = { value, at };
      return false;
    }
    this.kept.push({ value, start: this.candidate?.at ?? at });
    this.candidate = undefined;
    // Forget phases that ended before the window; the phase showing now is always kept.
    while (this.kept.length > 1 && (this.kept[1]?.start ?? at) < at - this.keepMs) this.kept.shift();
    return true;
  }

  phases(): Phase<T>[] {
    return this.kept.map((p, i) => {
      const next = this.kept[i + 1];
      return next ? { value: p.value, start: p.start, end: next.start } : { value: p.value, start: p.start };
    });
  }
}

const lengthOf = (phase: Phase<string>, now: number): number => (phase.end ?? now) - phase.start;

// ---------------------------------------------------------------------------------------------------------------
// The report button's light: one PWM pin.

/** Brightness in three bands: the 'ready' glow is 15 % (patterns.ts), blinks and 'received' are full. */
export type Brightness = 'off' | 'dim' | 'on';

export function brightnessOf(duty: number): Brightness {
  if (duty < 0.05) return 'off';
  return duty < 0.6 ? 'dim' : 'on';
}

/** What the pupil reads from the button's light. 'received' is the device's 'confirmed': the hub has the report. */
export type ButtonLightReading = 'off' | 'ready' | 'sending' | 'received' | 'stored' | 'fault';

/** Full on for longer than any blink step (fault's 250 ms, with margin): steady, the hub has the report. */
export const STEADY_ON_MS = 450;
/** Dark for longer than any pause in a rhythm (stored's 750 ms): the light is off. */
export const DARK_MS = 1200;
/** A pause this long in a blink is stored's (its others are 150 ms, sending's 100 ms). */
export const STORED_PAUSE_MS = 480;
/** Blink steps this long or longer are fault's 250 ms, not sending's 100 ms. */
export const FAULT_STEP_MS = 185;

/**
 * The button light's state from its phases, or null while a blink has not shown enough of its rhythm to tell (the
 * caller keeps showing what it read before).
 */
export function readButtonLight(
  phases: readonly Phase<Brightness>[],
  now: number,
): ButtonLightReading | null {
  const current = phases.at(-1);
  if (!current) return null;
  const currentMs = lengthOf(current, now);
  if (current.value === 'dim') return 'ready';
  if (current.value === 'on' && currentMs >= STEADY_ON_MS) return 'received';
  if (current.value === 'off' && currentMs >= DARK_MS) return 'off';
  // A blink: the phases since the light last held steady.
  const blink: Phase<Brightness>[] = [];
  for (let i = phases.length - 1; i >= 0; i -= 1) {
    const phase = phases[i] as Phase<Brightness>;
    const ms = lengthOf(phase, now);
    const steady =
      phase.value === 'dim' ||
      (phase.value === 'on' && ms >= STEADY_ON_MS) ||
      (phase.value === 'off' && ms >= DARK_MS);
    if (steady && phase !== current) break;
    blink.unshift(phase);
  }
  if (blink.some((p) => p.value === 'off' && lengthOf(p, now) >= STORED_PAUSE_MS)) return 'stored';
  const finished = blink.filter((p) => p.end !== undefined);
  if (finished.length === 0) return null;
  const longest = Math.max(...finished.map((p) => lengthOf(p, now)), currentMs);
  return longest >= FAULT_STEP_MS ? 'fault' : 'sending';
}

/** The words the simulator shows for each reading. */
export const BUTTON_LIGHT_WORDS: Readonly<Record<ButtonLightReading, string>> = {
  off: 'off',
  ready: 'ready',
  sending: 'sending',
  received: 'received',
  stored: 'stored',
  fault: 'fault: cannot store reports',
};

// ---------------------------------------------------------------------------------------------------------------
// The signage light: three PWM pins.

export type SignageColour = 'red' | 'green' | 'blue' | 'amber' | 'dark' | 'mixed';

/** The colour three channel duties (0..1) show; the colours are patterns.ts's, at full brightness or off. */
export function colourOf(red: number, green: number, blue: number): SignageColour {
  const lit = (v: number) => v >= 0.5;
  const unlit = (v: number) => v < 0.15;
  if (Math.max(red, green, blue) < 0.05) return 'dark';
  if (lit(red) && unlit(blue)) {
    if (unlit(green)) return 'red';
    // Amber is red with 96/255 (0.38) green.
    if (green < 0.6) return 'amber';
  }
  if (lit(green) && unlit(red) && unlit(blue)) return 'green';
  if (lit(blue) && unlit(red) && unlit(green)) return 'blue';
  return 'mixed';
}

export interface SignageReading {
  /** The colour it shows when lit (its last lit colour while in a blink's dark step), or 'dark'. */
  readonly colour: SignageColour;
  /** The mode its colour and rhythm mean; null while the rhythm has not shown enough to tell. */
  readonly mode: SignageMode | null;
}

/** Dark for longer than any dark step of a rhythm (authorised-use's 1 s): the light is off. */
export const SIGNAGE_DARK_MS = 1500;
/** A green step shorter than this sits between the two dips of staff-phones-only (250 ms); others last 3.7 s+. */
export const DOUBLE_DIP_GAP_MS = 600;

const MODE_BY_COLOUR: Partial<Record<SignageColour, SignageMode>> = {
  red: 'phones-away',
  blue: 'authorised-use',
  amber: 'fault',
};

/**
 * The signage's mode from its phases. Green has two modes told apart by rhythm alone: one dip every 4 s
 * (phones-allowed) or a double dip every 8 s (staff-phones-only), so green is null until a dip has been seen.
 */
export function readSignage(phases: readonly Phase<SignageColour>[], now: number): SignageReading {
  const current = phases.at(-1);
  if (!current) return { colour: 'dark', mode: null };
  if (current.value === 'dark' && lengthOf(current, now) >= SIGNAGE_DARK_MS)
    return { colour: 'dark', mode: 'off' };
  const litIndex = phases.findLastIndex((p) => p.value !== 'dark');
  const lit = phases[litIndex];
  if (!lit) return { colour: 'dark', mode: null };
  const colour = lit.value;
  if (colour !== 'green') return { colour, mode: MODE_BY_COLOUR[colour] ?? null };
  // The last finished dip, and what came before it.
  const dipIndex = phases.findLastIndex((p) => p.value === 'dark' && p.end !== undefined);
  const dip = phases[dipIndex];
  if (!dip) return { colour, mode: null };
  const before = phases[dipIndex - 1];
  const beforeThat = phases[dipIndex - 2];
  if (
    before?.value === 'green' &&
    lengthOf(before, now) < DOUBLE_DIP_GAP_MS &&
    beforeThat?.value === 'dark'
  ) {
    return { colour, mode: 'staff-phones-only' };
  }
  const after = phases[dipIndex + 1];
  if (after?.value === 'green' && lengthOf(after, now) >= DOUBLE_DIP_GAP_MS && before?.value === 'green') {
    return { colour, mode: 'phones-allowed' };
  }
  return { colour, mode: null };
}
