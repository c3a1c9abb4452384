import { describe, expect, it } from 'vitest';
import type { InputEvent } from '../../../firmware/board/board-port.js';
import {
  type Effect,
  initialState,
  type MachineConfig,
  type MachineInput,
  type MachineState,
  type ScheduleCommand,
  scheduleAt,
  step,
} from '../../../firmware/device-machine.js';
import type { Command } from '../../../schemas/messages.js';
import { parse } from '../../../schemas/validate.js';
import { localClock } from '../../../shared/zoned-time.js';

const CONFIG: MachineConfig = {
  lockerMode: 'lesson',
  slotCount: 4,
  longPressMs: 1_500,
  heldTamperMs: 10_000,
  confirmShowMs: 3_000,
  debounceMs: 30,
  ackTimeoutMs: 10_000,
  offlineGraceMs: 30_000,
};

// Monday 15 June 2026: British Summer Time, London = UTC+1.
const T0 = Date.UTC(2026, 5, 15, 7, 0, 0); // 08:00 London

/** Drives the pure machine with an explicit clock and collects every effect. */
class Driver {
  state: MachineState;
  now: number;
  effects: Effect[] = [];

  constructor(config: Partial<MachineConfig> = {}, now = T0, schedules: ScheduleCommand[] = []) {
    this.now = now;
    this.state = initialState({ ...CONFIG, ...config }, now, schedules);
  }

  send(input: MachineInput): Effect[] {
    const r = step(this.state, input, this.now);
    this.state = r.state;
    this.effects.push(...r.effects);
    return r.effects;
  }
  board(event: InputEvent): Effect[] {
    return this.send({ kind: 'board', event });
  }
  /** Advances the clock in ticks of `every` ms (the device ticks every 50 ms; long stretches may tick coarser). */
  advance(ms: number, every = 50): Effect[] {
    const out: Effect[] = [];
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + every);
      out.push(...this.send({ kind: 'tick' }));
    }
    return out;
  }
  boot(): this {
    this.send({ kind: 'board-ready' });
    this.send({ kind: 'link', up: true });
    this.effects = [];
    return this;
  }
  press(ms: number): Effect[] {
    const out = this.board({ kind: 'button', pressed: true });
    out.push(...this.advance(ms));
    out.push(...this.board({ kind: 'button', pressed: false }));
    return out;
  }
  get light() {
    return this.state.light.mode;
  }
}

const reports = (effects: Effect[]) => effects.flatMap((e) => (e.kind === 'report' ? [e.report] : []));
const lockerEvents = (effects: Effect[]) =>
  effects.flatMap((e) => (e.kind === 'locker-event' ? [e.event] : []));
const lastOf = <K extends Effect['kind']>(effects: Effect[], kind: K) =>
  effects.filter((e): e is Extract<Effect, { kind: K }> => e.kind === kind).at(-1);

let commandSeq = 0;
type CommandBody = Command extends infer C ? (C extends Command ? Omit<C, 'v' | 'id' | 'ts'> : never) : never;
/** A schema-valid hub command (validated here so the tests cannot feed the machine something the link would drop). */
function command(c: CommandBody & { ts?: number }): Command {
  commandSeq += 1;
  return parse('command', { v: 1, id: `cmd-${commandSeq}`, ts: T0, ...c });
}

function schedule(date: string, timezone: string, extra: Partial<ScheduleCommand> = {}): ScheduleCommand {
  return command({
    kind: 'schedule',
    date,
    timezone,
    otherwise: 'phones-allowed',
    entries: [
      { start: '08:45', end: '09:00', signage: 'phones-away', locked: false, label: 'Registration' },
      { start: '09:00', end: '10:00', signage: 'phones-away', locked: true, label: 'Lesson 1' },
      { start: '10:00', end: '10:20', signage: 'phones-allowed', locked: false, label: 'Break' },
      { start: '10:20', end: '11:20', signage: 'authorised-use', locked: true, label: 'Lesson 2 (exempt)' },
    ],
    ...extra,
  }) as ScheduleCommand;
}

describe('device machine: report button', () => {
  it('R1: a short press raises one normal report at release and the light shows sending', () => {
    const d = new Driver().boot();
    const effects = d.press(200);
    expect(reports(effects)).toEqual([{ urgency: 'normal', pressMs: 200, ts: d.now }]);
    expect(d.light).toBe('sending');
    expect(lastOf(effects, 'outputs')?.outputs.buttonLight).toBe('sending');
  });

  it('R1: a long press raises an urgent report, decided at release (nothing while still held)', () => {
    const d = new Driver().boot();
    d.board({ kind: 'button', pressed: true });
    expect(reports(d.advance(2_000))).toEqual([]); // past longPressMs, still held: no report yet
    const effects = d.board({ kind: 'button', pressed: false });
    expect(reports(effects)).toEqual([{ urgency: 'urgent', pressMs: 2_000, ts: d.now }]);
  });

  it('R1: the long-press threshold is inclusive and comes from configuration', () => {
    const d = new Driver({ longPressMs: 800 }).boot();
    expect(reports(d.press(750))[0]?.urgency).toBe('normal');
    expect(reports(d.press(800))[0]?.urgency).toBe('urgent');
  });

  it('R1: contact bounce shorter than debounceMs is not a report', () => {
    const d = new Driver().boot();
    expect(reports(d.press(20))).toEqual([]);
    expect(d.light).toBe('ready');
  });

  it('R1: a press read late (this program stalled) is timed by the board clock, not taken for a bounce', () => {
    const d = new Driver().boot();
    // Press and release read 7 ms apart, but the board counted 110 ms between them.
    d.board({ kind: 'button', pressed: true });
    d.now += 7;
    const effects = d.board({ kind: 'button', pressed: false, heldMs: 110 });
    expect(reports(effects)).toEqual([{ urgency: 'normal', pressMs: 110, ts: d.now }]);
  });

  it('R1: the board clock cannot shorten a press, and a glitch by both measures is still no report', () => {
    const d = new Driver().boot();
    d.board({ kind: 'button', pressed: true });
    d.advance(200);
    expect(reports(d.board({ kind: 'button', pressed: false, heldMs: 0 }))[0]?.pressMs).toBe(200);
    d.now += 1_000;
    d.board({ kind: 'button', pressed: true });
    d.now += 7;
    expect(reports(d.board({ kind: 'button', pressed: false, heldMs: 0 }))).toEqual([]);
  });

  it('R7: a button held for heldTamperMs is tamper as soon as the hold is seen, and release raises no report', () => {
    const d = new Driver().boot();
    d.board({ kind: 'button', pressed: true });
    const during = d.advance(10_000);
    expect(lockerEvents(during)).toEqual([
      { kind: 'tamper', reason: 'button-held', phones: 0, ts: T0 + 10_000 },
    ]);
    expect(lockerEvents(d.advance(20_000))).toEqual([]); // raised once per hold
    const release = d.board({ kind: 'button', pressed: false });
    expect(reports(release)).toEqual([]);
    expect(lockerEvents(release)).toEqual([]);
    expect(d.light).toBe('ready');
  });

  it('R7: a hold released before any tick noticed it is still tamper, not a report', () => {
    const d = new Driver().boot();
    d.board({ kind: 'button', pressed: true });
    d.now += 12_000; // no ticks in between (e.g. the event loop was blocked)
    const release = d.board({ kind: 'button', pressed: false });
    expect(reports(release)).toEqual([]);
    expect(lockerEvents(release).map((e) => e.reason)).toEqual(['button-held']);
  });

  it('R1: a button already down at boot is not a press', () => {
    const d = new Driver();
    d.board({ kind: 'button', pressed: true });
    d.send({ kind: 'board-ready' });
    expect(reports(d.board({ kind: 'button', pressed: false }))).toEqual([]);
  });
});

describe('device machine: the button light tells the truth (R1)', () => {
  it('R1: sending → confirmed (with chirp) on ReportAck → ready after confirmShowMs', () => {
    const d = new Driver().boot();
    d.press(200);
    d.send({ kind: 'report-queued', id: 'dev:1', offline: false });
    expect(d.light).toBe('sending');
    const acked = d.send({ kind: 'report-ack', id: 'dev:1' });
    expect(d.light).toBe('confirmed');
    expect(lastOf(acked, 'outputs')?.outputs).toMatchObject({ buttonLight: 'confirmed', chirp: 'confirmed' });
    d.advance(2_950);
    expect(d.light).toBe('confirmed');
    expect(lastOf(d.advance(50), 'outputs')?.outputs).toEqual({
      locked: true,
      signage: 'off',
      buttonLight: 'ready',
    });
  });

  it('R1: with the link down the light says stored (the report waits on disk), then sending, then confirmed', () => {
    const d = new Driver().boot();
    d.send({ kind: 'link', up: false });
    d.press(200);
    const queued = d.send({ kind: 'report-queued', id: 'dev:1', offline: true });
    expect(d.light).toBe('stored');
    expect(lastOf(queued, 'outputs')?.outputs.chirp).toBe('stored');
    d.advance(60_000, 1_000);
    expect(d.light).toBe('stored'); // no timeout makes it lie
    d.send({ kind: 'link', up: true });
    expect(d.light).toBe('sending');
    d.send({ kind: 'report-ack', id: 'dev:1' });
    expect(d.light).toBe('confirmed');
  });

  it('R1: with the journal failing, an offline report shows the fault (never stored, no stored chirp), then the truth', () => {
    const d = new Driver().boot();
    d.send({ kind: 'link', up: false });
    d.send({ kind: 'journal', fault: true });
    expect(d.light).toBe('fault'); // ready would hide that a press cannot be kept
    d.press(200);
    const queued = d.send({ kind: 'report-queued', id: 'dev:1', offline: true });
    expect(d.light).toBe('fault');
    expect(lastOf(queued, 'outputs')?.outputs.chirp).toBeUndefined();
    d.send({ kind: 'link', up: true });
    expect(d.light).toBe('sending');
    d.send({ kind: 'report-ack', id: 'dev:1' });
    expect(d.light).toBe('confirmed');
    d.advance(3_000);
    expect(d.light).toBe('fault');
    d.send({ kind: 'journal', fault: false });
    expect(d.light).toBe('ready');
  });

  it('R1: the link dropping while a report is sending turns the light to stored', () => {
    const d = new Driver().boot();
    d.press(200);
    d.send({ kind: 'report-queued', id: 'dev:1', offline: false });
    d.send({ kind: 'link', up: false });
    expect(d.light).toBe('stored');
  });

  it('R1: no ack within ackTimeoutMs turns sending into stored (hub silent behind a live broker)', () => {
    const d = new Driver().boot();
    d.press(200);
    d.send({ kind: 'report-queued', id: 'dev:1', offline: false });
    d.advance(9_950);
    expect(d.light).toBe('sending');
    d.advance(50);
    expect(d.light).toBe('stored');
  });

  it('R1: confirmed only when every outstanding report is acknowledged; unknown acks change nothing', () => {
    const d = new Driver().boot();
    d.press(200);
    d.send({ kind: 'report-queued', id: 'dev:1', offline: false });
    d.advance(100);
    d.press(200);
    d.send({ kind: 'report-queued', id: 'dev:2', offline: false });
    d.send({ kind: 'report-ack', id: 'other:9' });
    d.send({ kind: 'report-ack', id: 'dev:1' });
    expect(d.light).toBe('sending');
    d.send({ kind: 'report-ack', id: 'dev:2' });
    expect(d.light).toBe('confirmed');
  });

  it('R1: an ack for an older report does not confirm a press that is still being written', () => {
    const d = new Driver().boot();
    d.press(200);
    d.send({ kind: 'report-queued', id: 'dev:1', offline: false });
    d.press(200); // raised, journal write not finished yet
    d.send({ kind: 'report-ack', id: 'dev:1' });
    expect(d.light).toBe('sending');
  });

  it('R1: reports restored from the journal at boot show stored, without a chirp', () => {
    const d = new Driver();
    d.send({ kind: 'board-ready' });
    const effects = d.send({ kind: 'report-queued', id: 'dev:7', offline: true, restored: true });
    expect(d.light).toBe('stored');
    expect(lastOf(effects, 'outputs')?.outputs.chirp).toBeUndefined();
    d.send({ kind: 'link', up: true });
    d.send({ kind: 'report-ack', id: 'dev:7' });
    expect(d.light).toBe('confirmed');
  });
});

describe('device machine: locker (R7, staff key)', () => {
  it('R7: the door opened while locked is recorded as tamper', () => {
    const d = new Driver().boot();
    expect(d.state.locker.locked).toBe(true);
    const effects = d.board({ kind: 'door', open: true });
    expect(lockerEvents(effects).map((e) => [e.kind, e.reason])).toEqual([
      ['door-opened', undefined],
      ['tamper', 'door-opened-while-locked'],
    ]);
  });

  it('R7: the staff key unlocks (authorised), so opening the door is not tamper; key off locks again', () => {
    const d = new Driver().boot();
    d.send({ kind: 'command', command: command({ kind: 'lock', locked: true, reason: 'timetable' }) });
    const keyOn = d.board({ kind: 'key', on: true });
    expect(lockerEvents(keyOn).map((e) => e.kind)).toEqual(['key-on', 'unlocked']);
    expect(lastOf(keyOn, 'outputs')?.outputs.locked).toBe(false);
    expect(lockerEvents(d.board({ kind: 'door', open: true })).map((e) => e.kind)).toEqual(['door-opened']);
    d.board({ kind: 'door', open: false });
    const keyOff = d.board({ kind: 'key', on: false });
    expect(lockerEvents(keyOff).map((e) => e.kind)).toEqual(['key-off', 'locked']);
  });

  it('R7: a hub lock command while the key is on waits until the key is turned off', () => {
    const d = new Driver().boot();
    d.board({ kind: 'key', on: true });
    d.send({ kind: 'command', command: command({ kind: 'lock', locked: true, reason: 'timetable' }) });
    expect(d.state.locker.locked).toBe(false);
    d.board({ kind: 'key', on: false });
    expect(d.state.locker.locked).toBe(true);
  });

  it('D1: slots are counted, not owned; the retained locker state is published only when it changes', () => {
    const d = new Driver().boot();
    const e1 = d.board({ kind: 'slot', index: 2, occupied: true });
    expect(lockerEvents(e1)).toEqual([{ kind: 'phones-changed', phones: 1, ts: T0 }]);
    expect(lastOf(e1, 'locker-state')?.state).toMatchObject({
      phones: 1,
      slots: 4,
      locked: true,
      mode: 'lesson',
    });
    expect(d.board({ kind: 'slot', index: 2, occupied: true })).toEqual([]); // no change, no message
    expect(d.board({ kind: 'slot', index: 9, occupied: true })).toEqual([]); // no such slot
    expect(d.advance(1_000).filter((e) => e.kind === 'locker-state')).toEqual([]);
  });

  it('R7: input levels reported at boot are recorded quietly (no tamper for a door already open)', () => {
    const d = new Driver();
    expect(d.board({ kind: 'door', open: true }).filter((e) => e.kind === 'locker-event')).toEqual([]);
    d.board({ kind: 'slot', index: 0, occupied: true });
    d.send({ kind: 'board-ready' });
    expect(d.state.locker).toMatchObject({ doorOpen: true, locked: true });
    expect(lockerEvents(d.effects)).toEqual([]);
  });

  it('P1: a lesson locker boots locked (fail-secure); an open-mode locker never locks', () => {
    expect(new Driver().state.locker.locked).toBe(true);
    const open = new Driver({ lockerMode: 'open' }).boot();
    open.send({ kind: 'command', command: command({ kind: 'lock', locked: true, reason: 'timetable' }) });
    expect(open.state.locker.locked).toBe(false);
  });
});

describe('device machine: hub commands and the offline schedule', () => {
  it('P1: hub lock and signage commands rule while online; an older command arriving late is ignored', () => {
    const d = new Driver().boot();
    d.send({ kind: 'command', command: command({ kind: 'signage', mode: 'phones-away', ts: T0 + 10 }) });
    d.send({
      kind: 'command',
      command: command({ kind: 'lock', locked: false, reason: 'timetable', ts: T0 + 10 }),
    });
    expect(d.state.signage).toEqual({ mode: 'phones-away', source: 'hub' });
    expect(d.state.locker.locked).toBe(false);
    d.send({ kind: 'command', command: command({ kind: 'signage', mode: 'phones-allowed', ts: T0 }) });
    expect(d.state.signage.mode).toBe('phones-away');
  });

  it('P6: authorised use commanded by the hub is shown on the signage', () => {
    const d = new Driver().boot();
    const effects = d.send({
      kind: 'command',
      command: command({ kind: 'signage', mode: 'authorised-use' }),
    });
    expect(lastOf(effects, 'signage-state')?.state).toMatchObject({ mode: 'authorised-use', source: 'hub' });
    expect(lastOf(effects, 'outputs')?.outputs.signage).toBe('authorised-use');
  });

  it('P1: offline, the device enforces the day’s timetable at the period boundaries (Europe/London, BST)', () => {
    const d = new Driver().boot();
    d.send({ kind: 'command', command: schedule('2026-06-15', 'Europe/London') });
    d.send({ kind: 'command', command: command({ kind: 'signage', mode: 'phones-allowed' }) });
    d.send({ kind: 'command', command: command({ kind: 'lock', locked: false, reason: 'timetable' }) });
    d.now = Date.UTC(2026, 5, 15, 7, 40); // 08:40 London
    d.send({ kind: 'link', up: false });
    d.advance(29_950);
    expect(d.state.signage.source).toBe('hub'); // a blip is not an outage
    d.advance(50);
    // Grace over: the schedule rules. 08:40:30 is before registration → otherwise.
    expect(d.state.signage).toEqual({ mode: 'phones-allowed', source: 'offline-schedule' });

    const toBoundary = (utcH: number, utcM: number) =>
      d.advance(Date.UTC(2026, 5, 15, utcH, utcM) - d.now, 1_000);
    toBoundary(7, 45); // 08:45 London: registration
    expect(d.state.signage.mode).toBe('phones-away');
    expect(d.state.locker.locked).toBe(false);
    d.advance(15 * 60_000 - 1_000, 1_000);
    d.advance(950); // 08:59:59.95
    expect(d.state.locker.locked).toBe(false);
    const lesson = d.advance(50); // 09:00:00 London = 08:00 UTC
    expect(d.now).toBe(Date.UTC(2026, 5, 15, 8, 0));
    expect(d.state.locker.locked).toBe(true);
    expect(lockerEvents(lesson).map((e) => e.kind)).toEqual(['locked']);
    expect(lastOf(lesson, 'outputs')?.outputs).toMatchObject({ locked: true, signage: 'phones-away' });
    const breakTime = toBoundary(9, 0); // 10:00 London
    expect(lastOf(breakTime, 'signage-state')?.state).toMatchObject({
      mode: 'phones-allowed',
      source: 'offline-schedule',
    });
    expect(d.state.locker.locked).toBe(false);
    toBoundary(9, 20); // 10:20 London: exempt lesson
    expect(d.state.signage.mode).toBe('authorised-use'); // P6 exemptions known in advance are in the plan
    expect(d.state.locker.locked).toBe(true);
    toBoundary(10, 20); // 11:20: no entry → otherwise, unlocked
    expect(d.state.signage.mode).toBe('phones-allowed');
    expect(d.state.locker.locked).toBe(false);
  });

  it('P1: the schedule is read in its own timezone, not the device’s or UTC', () => {
    const ny = schedule('2026-06-15', 'America/New_York'); // UTC-4 in June
    expect(scheduleAt([ny], Date.UTC(2026, 5, 15, 13, 30))?.entry?.label).toBe('Lesson 1'); // 09:30 New York
    expect(scheduleAt([ny], Date.UTC(2026, 5, 15, 8, 30))?.entry?.label).toBeUndefined(); // 04:30 New York
    // 02:00 UTC on the 16th is still the 15th in New York (22:00), so the schedule applies (no entry).
    expect(scheduleAt([ny], Date.UTC(2026, 5, 16, 2, 0))).toEqual({
      entry: null,
      otherwise: 'phones-allowed',
    });
    expect(scheduleAt([ny], Date.UTC(2026, 5, 16, 5, 0))).toBeNull(); // 01:00 on the 16th: not this plan's day
  });

  it('P1: local wall clock handles the spring DST change and midnight as 00:00', () => {
    expect(localClock(Date.UTC(2026, 2, 29, 0, 59), 'Europe/London')).toEqual({
      date: '2026-03-29',
      time: '00:59',
      minute: 59,
      weekday: 7,
    });
    expect(localClock(Date.UTC(2026, 2, 29, 1, 0), 'Europe/London')).toEqual({
      date: '2026-03-29',
      time: '02:00',
      minute: 120,
      weekday: 7,
    });
    expect(localClock(Date.UTC(2026, 5, 14, 23, 0), 'Europe/London')).toEqual({
      date: '2026-06-15',
      time: '00:00',
      minute: 0,
      weekday: 1,
    });
  });

  it('P1: the plan for tomorrow can arrive today; the device keeps both and uses the one for the local date', () => {
    const d = new Driver().boot();
    d.send({ kind: 'command', command: schedule('2026-06-15', 'Europe/London') });
    d.send({
      kind: 'command',
      command: schedule('2026-06-16', 'Europe/London', { otherwise: 'off', entries: [] }),
    });
    expect(d.state.schedules.map((s) => s.date)).toEqual(['2026-06-15', '2026-06-16']);
    d.send({ kind: 'link', up: false });
    d.now = Date.UTC(2026, 5, 15, 22, 59); // 23:59 London on the 15th
    d.advance(30_000);
    expect(d.state.signage.mode).toBe('phones-allowed');
    d.advance(60_000, 1_000); // 00:00:30 on the 16th
    expect(d.state.signage).toEqual({ mode: 'off', source: 'offline-schedule' });
  });

  it('P2: a day-storage locker is locked from arrival to home time and released at home time', () => {
    const d = new Driver({ lockerMode: 'day-storage' }, Date.UTC(2026, 5, 15, 7, 0));
    d.send({ kind: 'board-ready' });
    d.send({
      kind: 'command',
      command: schedule('2026-06-15', 'Europe/London', {
        otherwise: 'off',
        entries: [
          { start: '08:30', end: '15:30', signage: 'phones-away', locked: true, label: 'School day' },
        ],
      }),
    });
    d.advance(30_000); // offline since boot, grace over
    expect(d.state.locker.locked).toBe(false); // 08:00: before arrival, parents can still drop off
    d.advance(Date.UTC(2026, 5, 15, 7, 30) - d.now, 1_000);
    expect(d.state.locker.locked).toBe(true);
    d.advance(Date.UTC(2026, 5, 15, 14, 30) - d.now - 50, 60_000);
    expect(d.state.locker.locked).toBe(true);
    const home = d.advance(50); // 15:30 London
    expect(lockerEvents(home).map((e) => e.kind)).toEqual(['unlocked']);
  });

  it('P1: returning online, the schedule keeps ruling until the hub speaks again (stale commands forgotten)', () => {
    const d = new Driver().boot();
    d.send({ kind: 'command', command: schedule('2026-06-15', 'Europe/London') });
    d.send({ kind: 'command', command: command({ kind: 'signage', mode: 'phones-away' }) });
    d.now = Date.UTC(2026, 5, 15, 9, 0); // 10:00 London: break
    d.send({ kind: 'link', up: false });
    d.advance(30_000);
    d.send({ kind: 'link', up: true });
    expect(d.state.signage).toEqual({ mode: 'phones-allowed', source: 'offline-schedule' });
    d.send({ kind: 'command', command: command({ kind: 'signage', mode: 'phones-away', ts: d.now }) });
    expect(d.state.signage).toEqual({ mode: 'phones-away', source: 'hub' });
  });

  it('P3: offline with no schedule for today the signage shows fault and the lock stays as it was', () => {
    const d = new Driver().boot();
    d.send({ kind: 'command', command: command({ kind: 'lock', locked: false, reason: 'timetable' }) });
    d.send({ kind: 'command', command: schedule('2026-06-14', 'Europe/London') }); // yesterday's
    d.send({ kind: 'link', up: false });
    const effects = d.advance(30_000);
    expect(lastOf(effects, 'signage-state')?.state).toMatchObject({ mode: 'fault', source: 'local-fault' });
    expect(d.state.locker.locked).toBe(false);
  });

  it('a schedule with an unknown timezone is rejected, not stored', () => {
    const d = new Driver().boot();
    const effects = d.send({ kind: 'command', command: schedule('2026-06-15', 'Mars/Olympus_Mons') });
    expect(effects.some((e) => e.kind === 'rejected')).toBe(true);
    expect(d.state.schedules).toEqual([]);
  });

  it('is pure: the input state is never modified', () => {
    const d = new Driver().boot();
    const before = structuredClone(d.state);
    step(d.state, { kind: 'board', event: { kind: 'slot', index: 1, occupied: true } }, d.now);
    step(d.state, { kind: 'command', command: schedule('2026-06-15', 'Europe/London') }, d.now);
    expect(d.state).toEqual(before);
  });
});
