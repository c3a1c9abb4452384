import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BUTTON_LIGHT_PATTERNS,
  CHIRP_PATTERNS,
  levelAt,
  type Pattern,
  periodMs,
  playPattern,
  SIGNAGE_LOOKS,
  scaleRgb,
} from '../../../firmware/board/patterns.js';
import { SIGNAGE_MODES } from '../../../schemas/messages.js';

/** Levels sampled every `stepMs` over `spanMs`: a steady pattern gives one distinct value. */
const sample = (pattern: Pattern, spanMs: number, stepMs = 10): number[] =>
  Array.from({ length: Math.floor(spanMs / stepMs) }, (_, i) => levelAt(pattern, i * stepMs));
/** Number of off-to-on edges in one cycle of a repeating pattern. */
const pulsesPerCycle = (pattern: Pattern): number =>
  pattern.steps.filter(
    (step, i, all) => step.level > 0 && (all[(i - 1 + all.length) % all.length]?.level ?? 0) === 0,
  ).length;
const isSteady = (pattern: Pattern): boolean => new Set(sample(pattern, 5000)).size === 1;

describe('signage looks', () => {
  it('covers every signage mode the schema defines', () => {
    expect(Object.keys(SIGNAGE_LOOKS).sort()).toEqual([...SIGNAGE_MODES].sort());
  });

  it('P1: phones-away is steady red', () => {
    const look = SIGNAGE_LOOKS['phones-away'];
    expect(look.colour).toEqual({ red: 255, green: 0, blue: 0 });
    expect(isSteady(look.pattern)).toBe(true);
    expect(levelAt(look.pattern, 12_345)).toBe(1);
    expect(look.policy).toBe('P1');
  });

  it('P3: phones-allowed is green, mostly lit, with a dip that sets it apart from steady phones-away', () => {
    const look = SIGNAGE_LOOKS['phones-allowed'];
    expect(look.colour).toEqual({ red: 0, green: 255, blue: 0 });
    expect(isSteady(look.pattern)).toBe(false);
    const levels = sample(look.pattern, periodMs(look.pattern));
    expect(levels.filter((l) => l > 0).length / levels.length).toBeGreaterThanOrEqual(0.9);
  });

  it('P6: authorised-use is a slow blue blink, 1 s on and 1 s off', () => {
    const look = SIGNAGE_LOOKS['authorised-use'];
    expect(look.colour.blue).toBe(255);
    expect(look.colour.red + look.colour.green).toBe(0);
    expect(periodMs(look.pattern)).toBe(2000);
    expect(levelAt(look.pattern, 500)).toBe(1);
    expect(levelAt(look.pattern, 1500)).toBe(0);
    expect(levelAt(look.pattern, 2500)).toBe(1);
  });

  it('R7: fault blinks fast in amber, so it differs from phones-away by rhythm as well as hue', () => {
    const fault = SIGNAGE_LOOKS.fault;
    expect(isSteady(fault.pattern)).toBe(false);
    expect(periodMs(fault.pattern)).toBeLessThanOrEqual(600);
    expect(fault.colour.red).toBe(255);
    expect(fault.colour.green).toBeGreaterThan(0);
    expect(isSteady(SIGNAGE_LOOKS['phones-away'].pattern)).toBe(true);
  });

  it('colour is not the only signal between the blinking modes: their rhythms differ by at least 2x', () => {
    const periods = SIGNAGE_MODES.map((mode) => SIGNAGE_LOOKS[mode].pattern)
      .filter((p) => !isSteady(p))
      .map(periodMs)
      .sort((a, b) => a - b);
    for (let i = 1; i < periods.length; i++)
      expect(periods[i]).toBeGreaterThanOrEqual(2 * (periods[i - 1] ?? 0));
  });

  it('no two modes look the same (colour and pattern together)', () => {
    const keys = SIGNAGE_MODES.map(
      (mode) =>
        JSON.stringify(SIGNAGE_LOOKS[mode].colour) +
        JSON.stringify(sample(SIGNAGE_LOOKS[mode].pattern, 2000)),
    );
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('off is dark', () => {
    expect(scaleRgb(SIGNAGE_LOOKS.off.colour, levelAt(SIGNAGE_LOOKS.off.pattern, 0))).toEqual({
      red: 0,
      green: 0,
      blue: 0,
    });
  });

  it('every mode has a legend for the printed sign', () => {
    for (const mode of SIGNAGE_MODES) expect(SIGNAGE_LOOKS[mode].legend.length).toBeGreaterThan(5);
  });
});

describe('report button light (R1)', () => {
  it('R1: ready is dim and steady, findable without distracting', () => {
    const p = BUTTON_LIGHT_PATTERNS.ready;
    expect(isSteady(p)).toBe(true);
    expect(levelAt(p, 0)).toBeGreaterThan(0);
    expect(levelAt(p, 0)).toBeLessThan(0.5);
  });

  it('R1: sending blinks fast', () => {
    const p = BUTTON_LIGHT_PATTERNS.sending;
    expect(isSteady(p)).toBe(false);
    expect(periodMs(p)).toBeLessThanOrEqual(300);
  });

  it('R1: confirmed is steady full brightness, brighter than ready', () => {
    const p = BUTTON_LIGHT_PATTERNS.confirmed;
    expect(isSteady(p)).toBe(true);
    expect(levelAt(p, 0)).toBe(1);
  });

  it('R1: stored is a double blink then a pause, unlike any other state', () => {
    const p = BUTTON_LIGHT_PATTERNS.stored;
    expect(pulsesPerCycle(p)).toBe(2);
    expect(pulsesPerCycle(BUTTON_LIGHT_PATTERNS.sending)).toBe(1);
    const longestOff = Math.max(...p.steps.filter((s) => s.level === 0).map((s) => s.ms));
    expect(longestOff).toBeGreaterThanOrEqual(3 * (p.steps[0]?.ms ?? 0));
  });

  it('off is off', () => {
    expect(sample(BUTTON_LIGHT_PATTERNS.off, 1000).every((l) => l === 0)).toBe(true);
  });
});

describe('pattern invariants', () => {
  const all: Array<[string, Pattern]> = [
    ...Object.entries(BUTTON_LIGHT_PATTERNS),
    ...Object.entries(CHIRP_PATTERNS),
    ...Object.entries(SIGNAGE_LOOKS).map(([mode, look]): [string, Pattern] => [mode, look.pattern]),
  ];

  it.each(all)('%s: levels within 0..1, and a repeating pattern has a positive period', (_name, pattern) => {
    for (const step of pattern.steps) {
      expect(step.level).toBeGreaterThanOrEqual(0);
      expect(step.level).toBeLessThanOrEqual(1);
      expect(step.ms).toBeGreaterThanOrEqual(0);
    }
    if (pattern.repeat) expect(periodMs(pattern)).toBeGreaterThan(0);
  });

  it('chirps play once and leave the buzzer silent', () => {
    for (const chirp of Object.values(CHIRP_PATTERNS)) {
      expect(chirp.repeat).toBe(false);
      expect(levelAt(chirp, 60_000)).toBe(0);
    }
    expect(pulsesPerCycle(CHIRP_PATTERNS.stored)).toBe(2);
    expect(pulsesPerCycle(CHIRP_PATTERNS.confirmed)).toBe(1);
  });
});

describe('levelAt and scaleRgb', () => {
  const p: Pattern = {
    steps: [
      { level: 1, ms: 100 },
      { level: 0.5, ms: 50 },
    ],
    repeat: false,
  };

  it('walks the steps and holds the last level of a pattern that does not repeat', () => {
    expect(levelAt(p, 0)).toBe(1);
    expect(levelAt(p, 99)).toBe(1);
    expect(levelAt(p, 100)).toBe(0.5);
    expect(levelAt(p, 10_000)).toBe(0.5);
  });

  it('wraps a repeating pattern', () => {
    expect(levelAt({ ...p, repeat: true }, 160)).toBe(1);
  });

  it('scales and rounds colour channels, clamping the level', () => {
    expect(scaleRgb({ red: 255, green: 96, blue: 0 }, 0.5)).toEqual({ red: 128, green: 48, blue: 0 });
    expect(scaleRgb({ red: 255, green: 0, blue: 0 }, 2)).toEqual({ red: 255, green: 0, blue: 0 });
  });
});

describe('playPattern', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes each change at its time and repeats', () => {
    vi.useFakeTimers();
    const writes: Array<[number, number]> = [];
    const start = Date.now();
    const stop = playPattern(BUTTON_LIGHT_PATTERNS.stored, (level) =>
      writes.push([Date.now() - start, level]),
    );
    vi.advanceTimersByTime(1300);
    stop();
    vi.advanceTimersByTime(5000);
    expect(writes).toEqual([
      [0, 1],
      [150, 0],
      [300, 1],
      [450, 0],
      [1200, 1],
    ]);
  });

  it('writes a steady pattern once and sets no timer', () => {
    vi.useFakeTimers();
    const write = vi.fn();
    playPattern(BUTTON_LIGHT_PATTERNS.ready, write);
    expect(write).toHaveBeenCalledExactlyOnceWith(0.15);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('plays a chirp once and ends silent', () => {
    vi.useFakeTimers();
    const write = vi.fn();
    playPattern(CHIRP_PATTERNS.stored, write);
    vi.advanceTimersByTime(1000);
    expect(write.mock.calls.map(([level]) => level)).toEqual([1, 0, 1, 0]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
