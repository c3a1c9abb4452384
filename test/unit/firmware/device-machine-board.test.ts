/** The board itself going away and coming back (USB cable pulled): R7 tamper in a lesson, fault signage otherwise. */
import { describe, expect, it } from 'vitest';
import {
  type Effect,
  initialState,
  inLesson,
  type MachineConfig,
  type MachineInput,
  type MachineState,
  type ScheduleCommand,
  step,
} from '../../../firmware/device-machine.js';
import { parse } from '../../../schemas/validate.js';

const CONFIG: MachineConfig = {
  lockerMode: 'lesson',
  slotCount: 2,
  longPressMs: 1_500,
  heldTamperMs: 10_000,
  confirmShowMs: 3_000,
  debounceMs: 30,
  ackTimeoutMs: 10_000,
  offlineGraceMs: 30_000,
};
// Monday 15 June 2026, 10:00 London (BST, UTC+1).
const LESSON = Date.UTC(2026, 5, 15, 9, 0, 0);
// The same day, 12:30 London: lunch.
const LUNCH = Date.UTC(2026, 5, 15, 11, 30, 0);

const schedule: ScheduleCommand = parse('command', {
  v: 1,
  id: 'sched-1',
  ts: LESSON - 3_600_000,
  kind: 'schedule',
  date: '2026-06-15',
  timezone: 'Europe/London',
  otherwise: 'phones-allowed',
  entries: [{ start: '09:00', end: '12:00', signage: 'phones-away', locked: true, label: 'Lessons' }],
}) as ScheduleCommand;

function run(inputs: MachineInput[], now: number, state?: MachineState) {
  let s = state ?? initialState(CONFIG, now, [schedule]);
  const effects: Effect[] = [];
  for (const input of inputs) {
    const r = step(s, input, now);
    s = r.state;
    effects.push(...r.effects);
  }
  return { state: s, effects };
}

const tampers = (effects: Effect[]) =>
  effects.flatMap((e) => (e.kind === 'locker-event' && e.event.kind === 'tamper' ? [e.event.reason] : []));
const signage = (effects: Effect[]) =>
  effects.flatMap((e) => (e.kind === 'signage-state' ? [`${e.state.mode}/${e.state.source}`] : []));
const outputs = (effects: Effect[]) => effects.flatMap((e) => (e.kind === 'outputs' ? [e.outputs] : []));

const booted: MachineInput[] = [{ kind: 'board-ready' }, { kind: 'link', up: true }];

describe('device machine: board lost and back', () => {
  it('R7: the board lost during a lesson is tamper "unplugged-in-lesson", and signage turns to fault', () => {
    const { effects, state } = run([...booted, { kind: 'board-lost' }], LESSON);
    expect(tampers(effects)).toEqual(['unplugged-in-lesson']);
    expect(signage(effects).at(-1)).toBe('fault/local-fault');
    expect(state.boardLost).toBe(true);
  });

  it('R7: outside lessons a lost board is a fault only, not tamper', () => {
    const { effects } = run([...booted, { kind: 'board-lost' }], LUNCH);
    expect(tampers(effects)).toEqual([]);
    expect(signage(effects).at(-1)).toBe('fault/local-fault');
  });

  it('R7: told twice, tamper is raised once; a board that never came up at boot raises none', () => {
    expect(tampers(run([...booted, { kind: 'board-lost' }, { kind: 'board-lost' }], LESSON).effects)).toEqual(
      ['unplugged-in-lesson'],
    );
    expect(tampers(run([{ kind: 'board-lost' }], LESSON).effects)).toEqual([]);
  });

  it('R7: with no schedule for today, a locked locker counts as a lesson', () => {
    const s = initialState(CONFIG, LESSON, []);
    expect(inLesson(s, LESSON)).toBe(true); // lesson lockers boot locked (fail-secure)
    expect(inLesson(initialState({ ...CONFIG, lockerMode: 'open' }, LESSON, []), LESSON)).toBe(false);
  });

  it('P1: when the board is back, signage follows the schedule again and every output is re-applied', () => {
    const lost = run([...booted, { kind: 'board-lost' }], LESSON);
    const back = run([{ kind: 'board-ready' }], LESSON, lost.state);
    expect(signage(back.effects)).toEqual(['phones-away/offline-schedule']);
    expect(outputs(back.effects)).toEqual([{ locked: true, signage: 'phones-away', buttonLight: 'ready' }]);
    expect(back.state.boardLost).toBe(false);
  });

  it('R7: a door opened while the board was unplugged is seen when it is back', () => {
    const lost = run(
      [...booted, { kind: 'board', event: { kind: 'door', open: false } }, { kind: 'board-lost' }],
      LESSON,
    );
    const back = run(
      [{ kind: 'board', event: { kind: 'door', open: true } }, { kind: 'board-ready' }],
      LESSON,
      lost.state,
    );
    expect(tampers(back.effects)).toEqual(['door-opened-while-locked']);
  });

  it('R1: a press in progress when the board is lost is forgotten, not reported', () => {
    const pressed = run([...booted, { kind: 'board', event: { kind: 'button', pressed: true } }], LESSON);
    const lost = run([{ kind: 'board-lost' }, { kind: 'board-ready' }], LESSON + 2_000, pressed.state);
    const released = run(
      [{ kind: 'board', event: { kind: 'button', pressed: false } }],
      LESSON + 2_100,
      lost.state,
    );
    expect(released.effects.some((e) => e.kind === 'report')).toBe(false);
  });
});
