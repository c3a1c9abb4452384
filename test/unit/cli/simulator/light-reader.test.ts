/**
 * The simulator reads each light's state from its pins as a person would, by brightness, colour and rhythm. Fed here
 * with the device's own light patterns (firmware/board/patterns.ts) sampled as the simulator samples them, with the
 * late, uneven sampling a busy machine gives.
 */
import { describe, expect, it } from 'vitest';
import {
  type Brightness,
  brightnessOf,
  colourOf,
  Rhythm,
  readButtonLight,
  readSignage,
  type SignageColour,
} from '../../../../cli/simulator/light-reader.js';
import {
  BUTTON_LIGHT_PATTERNS,
  levelAt,
  type Pattern,
  SIGNAGE_LOOKS,
  scaleRgb,
} from '../../../../firmware/board/patterns.js';
import type { SignageMode } from '../../../../schemas/messages.js';

/** Sample times every ~20 ms with up to 15 ms of extra delay each, repeatable (a small LCG, fixed seed). */
function* sampleTimes(from: number, to: number): Generator<number> {
  let seed = 12345;
  let t = from;
  while (t < to) {
    yield t;
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    t += 20 + (seed % 16);
  }
}

/** Plays `pattern` from `start` into the rhythm until `end`; levels before `start` are taken from `before`. */
function playButton(rhythm: Rhythm<Brightness>, pattern: Pattern, start: number, end: number): void {
  for (const t of sampleTimes(start, end)) rhythm.record(t, brightnessOf(levelAt(pattern, t - start)));
}

function playSignage(rhythm: Rhythm<SignageColour>, mode: SignageMode, start: number, end: number): void {
  const look = SIGNAGE_LOOKS[mode];
  for (const t of sampleTimes(start, end)) {
    const c = scaleRgb(look.colour, levelAt(look.pattern, t - start));
    rhythm.record(t, colourOf(c.red / 255, c.green / 255, c.blue / 255));
  }
}

describe('report button light read from its pin (R1)', () => {
  const expected = {
    off: 'off',
    ready: 'ready',
    sending: 'sending',
    confirmed: 'received',
    stored: 'stored',
    fault: 'fault',
  } as const;

  for (const [light, reading] of Object.entries(expected)) {
    it(`R1: the '${light}' pattern reads as "${reading}"`, () => {
      const rhythm = new Rhythm<Brightness>();
      playButton(rhythm, BUTTON_LIGHT_PATTERNS[light as keyof typeof expected], 0, 3000);
      expect(readButtonLight(rhythm.phases(), 3000)).toBe(reading);
    });
  }

  it('R1: follows a press through ready, sending, received and back to ready', () => {
    const rhythm = new Rhythm<Brightness>();
    const readings: (string | null)[] = [];
    const stages: [Pattern, number][] = [
      [BUTTON_LIGHT_PATTERNS.ready, 1000],
      [BUTTON_LIGHT_PATTERNS.sending, 700],
      [BUTTON_LIGHT_PATTERNS.confirmed, 4000],
      [BUTTON_LIGHT_PATTERNS.ready, 1000],
    ];
    let at = 0;
    for (const [pattern, ms] of stages) {
      playButton(rhythm, pattern, at, at + ms);
      at += ms;
      readings.push(readButtonLight(rhythm.phases(), at));
    }
    expect(readings).toEqual(['ready', 'sending', 'received', 'ready']);
  });

  it('R1: a sending blink that turns to stored reads as stored once its long pause shows', () => {
    const rhythm = new Rhythm<Brightness>();
    playButton(rhythm, BUTTON_LIGHT_PATTERNS.sending, 0, 2000);
    playButton(rhythm, BUTTON_LIGHT_PATTERNS.stored, 2000, 3500);
    expect(readButtonLight(rhythm.phases(), 3500)).toBe('stored');
  });

  it('says nothing until a blink has shown a whole step', () => {
    const rhythm = new Rhythm<Brightness>();
    rhythm.record(0, 'dim');
    rhythm.record(1000, 'on');
    rhythm.record(1020, 'on');
    expect(readButtonLight(rhythm.phases(), 1060)).toBeNull();
    expect(readButtonLight([], 0)).toBeNull();
  });

  it('a value seen in one sample only (a write in passing) starts no phase', () => {
    const rhythm = new Rhythm<Brightness>();
    rhythm.record(0, 'dim');
    rhythm.record(20, 'off');
    rhythm.record(40, 'dim');
    expect(rhythm.phases()).toEqual([{ value: 'dim', start: 0 }]);
    rhythm.record(60, 'on');
    rhythm.record(80, 'on');
    expect(rhythm.phases().at(-1)).toEqual({ value: 'on', start: 60 });
  });

  it('keeps only the window asked for, and always the phase showing now', () => {
    const rhythm = new Rhythm<Brightness>(1000);
    for (let t = 0; t < 5000; t += 100) {
      rhythm.record(t, t % 200 === 0 ? 'on' : 'off');
      rhythm.record(t + 10, t % 200 === 0 ? 'on' : 'off');
    }
    const phases = rhythm.phases();
    expect(phases.length).toBeLessThanOrEqual(12);
    expect(phases[0]?.start).toBeGreaterThanOrEqual(3900);
  });
});

describe('signage light read from its three pins (P1, P3, P6, R7)', () => {
  it('tells each colour patterns.ts uses, and a mixture apart', () => {
    expect(colourOf(1, 0, 0)).toBe('red');
    expect(colourOf(1, 96 / 255, 0)).toBe('amber');
    expect(colourOf(0, 1, 0)).toBe('green');
    expect(colourOf(0, 0, 1)).toBe('blue');
    expect(colourOf(0, 0, 0)).toBe('dark');
    expect(colourOf(1, 1, 1)).toBe('mixed');
  });

  for (const mode of Object.keys(SIGNAGE_LOOKS) as SignageMode[]) {
    it(`${SIGNAGE_LOOKS[mode].policy === '-' ? 'off' : SIGNAGE_LOOKS[mode].policy}: '${mode}' reads back as itself, from red before it`, () => {
      const rhythm = new Rhythm<SignageColour>();
      playSignage(rhythm, 'phones-away', 0, 1000);
      playSignage(rhythm, mode, 1000, 18_000);
      expect(readSignage(rhythm.phases(), 18_000).mode).toBe(mode);
    });
  }

  it('P3: green is not named until its rhythm has shown a dip', () => {
    const rhythm = new Rhythm<SignageColour>();
    playSignage(rhythm, 'phones-away', 0, 1000);
    playSignage(rhythm, 'phones-allowed', 1000, 3000);
    expect(readSignage(rhythm.phases(), 3000)).toEqual({ colour: 'green', mode: null });
  });

  it('P3: staff-phones-only is told apart from phones-allowed in its first cycle', () => {
    const rhythm = new Rhythm<SignageColour>();
    playSignage(rhythm, 'phones-away', 0, 1000);
    playSignage(rhythm, 'staff-phones-only', 1000, 2500);
    expect(readSignage(rhythm.phases(), 2500).mode).toBe('staff-phones-only');
  });

  it("P6: a blink's dark step keeps the colour it blinks in", () => {
    const rhythm = new Rhythm<SignageColour>();
    playSignage(rhythm, 'authorised-use', 0, 1500);
    expect(readSignage(rhythm.phases(), 1500)).toEqual({ colour: 'blue', mode: 'authorised-use' });
  });
});
