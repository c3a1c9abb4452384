/**
 * The classroom device's behaviour as a pure state machine: `step(state, input, now) => { state, effects }`.
 * No I/O and no clock: time arrives as `now`, hardware as inputs, and everything the device must do leaves as
 * effects that firmware/device.ts carries out (journal, MQTT, board outputs). This makes every policy rule
 * below testable with plain numbers.
 *
 * Report button (R1): a press is measured on release. Released before `longPressMs` → 'normal' report,
 * before `heldTamperMs` → 'urgent' report. We decide at release, not when the long-press threshold passes,
 * because a button held down for `heldTamperMs` must be recorded as tamper and must NOT have raised a report
 * (R7); deciding early would have already sent an urgent report for a taped-down button.
 *
 * Button light (R1) tells the pupil the truth: 'sending' from release until the hub acknowledges; 'stored'
 * when the report is safely on disk but the hub cannot be reached (link down, or no ack within `ackTimeoutMs`);
 * 'confirmed' for `confirmShowMs` once every outstanding report has a ReportAck; then 'ready'.
 *
 * Locker and signage (P1, P2, P6): the hub's last lock/signage command rules while the link is up. After the
 * link has been down for `offlineGraceMs`, those commands are forgotten as stale and the device follows the
 * day's schedule (sent earlier by the hub) on its own wall clock in the schedule's timezone. With no schedule
 * for today it shows 'fault' and keeps the lock as it was. The staff key always unlocks (authorised access).
 *
 * Board lost (USB cable out, R7): signage state says 'fault' (local-fault) until the board is back, a press in
 * progress is forgotten, and during a lesson a tamper event 'unplugged-in-lesson' is raised. When the board is
 * back its levels are happenings, not boot levels: a door opened while it was unplugged is still seen.
 */

import type {
  Command,
  LockerEvent,
  LockerMode,
  LockerState,
  Report,
  ScheduleEntry,
  SignageMode,
  SignageState,
} from '../schemas/messages.js';
import { isValidTimeZone, localClock } from '../shared/zoned-time.js';
import type { ButtonLight, InputEvent, Outputs } from './board/board-port.js';

export type ScheduleCommand = Extract<Command, { kind: 'schedule' }>;
export type SignageSource = SignageState['source'];

export interface MachineConfig {
  lockerMode: LockerMode;
  slotCount: number;
  longPressMs: number;
  heldTamperMs: number;
  confirmShowMs: number;
  /** Presses shorter than this are contact bounce or noise, not a pupil. */
  debounceMs: number;
  /** 'sending' turns to 'stored' when the hub has not acknowledged within this time. */
  ackTimeoutMs: number;
  /** How long hub commands stay authoritative after the link drops, so a blip does not flap the signage. */
  offlineGraceMs: number;
}

export const MACHINE_DEFAULTS = { debounceMs: 30, ackTimeoutMs: 10_000, offlineGraceMs: 30_000 } as const;

/** What the device journal needs to turn into a full LockerEvent (envelope added there). */
export type LockerEventDraft = Pick<LockerEvent, 'kind' | 'phones' | 'reason'> & { ts: number };
export type ReportDraft = Pick<Report, 'urgency' | 'pressMs'> & { ts: number };

export type MachineInput =
  | { kind: 'board'; event: InputEvent }
  /** The board has reported its current input levels once: from now on changes are happenings, not boot levels. */
  | { kind: 'board-ready' }
  /** The board's transport closed or went silent (R7 when in a lesson); 'board-ready' again when it is back. */
  | { kind: 'board-lost' }
  | { kind: 'tick' }
  | { kind: 'command'; command: Command }
  /** A report is durable in the journal; `offline` when it could not be handed to the link (waits on disk). */
  | { kind: 'report-queued'; id: string; offline: boolean; restored?: boolean }
  | { kind: 'report-ack'; id: string }
  | { kind: 'link'; up: boolean }
  /** The journal's storage fails (reports held in memory only) or works again. */
  | { kind: 'journal'; fault: boolean };

export type Effect =
  | { kind: 'locker-event'; event: LockerEventDraft }
  | { kind: 'report'; report: ReportDraft }
  | { kind: 'locker-state'; state: LockerState }
  | { kind: 'signage-state'; state: SignageState }
  | { kind: 'outputs'; outputs: Outputs }
  | { kind: 'schedules-changed'; schedules: readonly ScheduleCommand[] }
  | { kind: 'rejected'; reason: string };

export interface MachineState {
  /** Static configuration, carried so that `step` needs nothing but (state, input, now). */
  readonly config: MachineConfig;
  booting: boolean;
  /** The board has been lost and is not back yet. */
  boardLost: boolean;
  /** The journal cannot write: a report raised offline is held in memory only, so the light must not say 'stored'. */
  journalFault: boolean;
  locker: { locked: boolean; doorOpen: boolean; slots: readonly boolean[]; keyOn: boolean };
  signage: { mode: SignageMode; source: SignageSource };
  /** Last hub commands; null when none yet or forgotten as stale after going offline. */
  hub: { locked: boolean | null; lockTs: number; signage: SignageMode | null; signageTs: number };
  /** At most MAX_SCHEDULES days, oldest first; treated as immutable. */
  schedules: readonly ScheduleCommand[];
  link: { up: boolean; downSince: number | null };
  button: { pressedAt: number | null; tamperRaised: boolean };
  light: { mode: ButtonLight; since: number };
  /** Report ids journaled and not yet acknowledged. */
  awaiting: readonly string[];
  /** Reports raised but not yet reported back as journaled. */
  unqueued: number;
  /** Keys of what was last published/applied, to emit only changes. */
  last: { lockerState: string | null; signageState: string | null; outputs: string | null };
}

export interface StepResult {
  state: MachineState;
  effects: Effect[];
}

const MAX_SCHEDULES = 3;

/**
 * Boot state. Lesson and day-storage lockers start locked (fail-secure: pulling the plug must not open the
 * locker, R7); staff can always open with the key. The link starts down, with the grace period running.
 */
export function initialState(
  config: MachineConfig,
  now: number,
  schedules: readonly ScheduleCommand[] = [],
): MachineState {
  return {
    config,
    booting: true,
    boardLost: false,
    journalFault: false,
    locker: {
      locked: config.lockerMode !== 'open',
      doorOpen: false,
      slots: Array.from({ length: config.slotCount }, () => false),
      keyOn: false,
    },
    signage: { mode: 'off', source: 'hub' },
    hub: { locked: null, lockTs: -1, signage: null, signageTs: -1 },
    schedules: [...schedules].sort((a, b) => a.date.localeCompare(b.date)).slice(-MAX_SCHEDULES),
    link: { up: false, downSince: now },
    button: { pressedAt: null, tamperRaised: false },
    light: { mode: 'ready', since: now },
    awaiting: [],
    unqueued: 0,
    last: { lockerState: null, signageState: null, outputs: null },
  };
}

export function step(state: MachineState, input: MachineInput, now: number): StepResult {
  const config = state.config;
  const s: MachineState = {
    ...state,
    locker: { ...state.locker },
    hub: { ...state.hub },
    link: { ...state.link },
    button: { ...state.button },
    light: { ...state.light },
    last: { ...state.last },
  };
  const effects: Effect[] = [];
  const phones = () => s.locker.slots.filter(Boolean).length;
  const lockerEvent = (kind: LockerEvent['kind'], reason?: LockerEvent['reason']) =>
    effects.push({
      kind: 'locker-event',
      event: { kind, phones: phones(), ts: now, ...(reason ? { reason } : {}) },
    });
  const setLight = (mode: ButtonLight) => {
    if (s.light.mode !== mode) s.light = { mode, since: now };
  };
  let chirp: Outputs['chirp'];

  switch (input.kind) {
    case 'board':
      onBoard(config, s, input.event, now, lockerEvent, effects, setLight);
      break;
    case 'board-ready':
      s.booting = false;
      s.boardLost = false;
      // A new board knows none of our outputs: apply them all again.
      s.last.outputs = null;
      break;
    case 'board-lost':
      if (s.boardLost) break;
      s.boardLost = true;
      s.button = { pressedAt: null, tamperRaised: false };
      // R7: a device unplugged in a lesson is tamper; outside lessons it is only a fault (signage state, heartbeat).
      if (!s.booting && inLesson(s, now)) lockerEvent('tamper', 'unplugged-in-lesson');
      break;
    case 'tick':
      break;
    case 'command':
      onCommand(s, input.command, effects);
      break;
    case 'journal':
      s.journalFault = input.fault;
      break;
    case 'report-queued':
      if (!s.awaiting.includes(input.id)) s.awaiting = [...s.awaiting, input.id];
      if (!input.restored) s.unqueued = Math.max(0, s.unqueued - 1);
      if (input.offline || !s.link.up) {
        if (s.light.mode !== 'stored' && !input.restored && !s.journalFault) chirp = 'stored';
        setLight('stored');
      } else if (s.light.mode !== 'stored') {
        setLight('sending');
      }
      break;
    case 'report-ack':
      if (s.awaiting.includes(input.id)) {
        s.awaiting = s.awaiting.filter((id) => id !== input.id);
        if (s.awaiting.length === 0 && s.unqueued === 0) {
          setLight('confirmed');
          chirp = 'confirmed';
        }
      }
      break;
    case 'link':
      if (input.up) {
        s.link = { up: true, downSince: null };
        // The journal resends everything on connect, so waiting reports are on their way again.
        if ((s.light.mode === 'stored' || s.light.mode === 'fault') && s.awaiting.length > 0)
          setLight('sending');
      } else {
        if (s.link.up || s.link.downSince === null) s.link = { up: false, downSince: now };
        if (s.light.mode === 'sending' && s.awaiting.length > 0) setLight('stored');
      }
      break;
  }

  onTime(config, s, now, lockerEvent, setLight);
  journalLight(s, setLight);
  settle(config, s, now, lockerEvent, effects, chirp);
  return { state: s, effects };
}

type EmitLockerEvent = (kind: LockerEvent['kind'], reason?: LockerEvent['reason']) => void;

function onBoard(
  config: MachineConfig,
  s: MachineState,
  event: InputEvent,
  now: number,
  lockerEvent: EmitLockerEvent,
  effects: Effect[],
  setLight: (mode: ButtonLight) => void,
): void {
  // While booting, the board is telling us its current levels: record them, they are not happenings.
  const quiet = s.booting;
  switch (event.kind) {
    case 'door': {
      if (event.open === s.locker.doorOpen) return;
      const wasLocked = s.locker.locked;
      s.locker.doorOpen = event.open;
      if (quiet) return;
      lockerEvent(event.open ? 'door-opened' : 'door-closed');
      // R7: a locked door should not open. The staff key is the authorised way in.
      if (event.open && wasLocked && !s.locker.keyOn) lockerEvent('tamper', 'door-opened-while-locked');
      return;
    }
    case 'key': {
      if (event.on === s.locker.keyOn) return;
      s.locker.keyOn = event.on;
      if (!quiet) lockerEvent(event.on ? 'key-on' : 'key-off');
      return; // the lock itself follows in settle()
    }
    case 'slot': {
      if (event.index < 0 || event.index >= s.locker.slots.length) return;
      if (s.locker.slots[event.index] === event.occupied) return;
      const slots = [...s.locker.slots];
      slots[event.index] = event.occupied;
      s.locker.slots = slots;
      if (!quiet) lockerEvent('phones-changed');
      return;
    }
    case 'button': {
      if (quiet) return; // a button already down at boot is not a press we saw start
      if (event.pressed) {
        if (s.button.pressedAt === null) s.button = { pressedAt: now, tamperRaised: false };
        return;
      }
      const { pressedAt, tamperRaised } = s.button;
      s.button = { pressedAt: null, tamperRaised: false };
      if (pressedAt === null || tamperRaised) return;
      // The board's own measure wins where it is longer: a stall here can make a press read as a bounce.
      const pressMs = Math.max(0, now - pressedAt, event.heldMs ?? 0);
      if (pressMs < config.debounceMs) return;
      if (pressMs >= config.heldTamperMs) {
        // Released before a tick noticed the hold: still tamper, still no report (R7).
        lockerEvent('tamper', 'button-held');
        return;
      }
      const urgency = pressMs >= config.longPressMs ? 'urgent' : 'normal';
      effects.push({ kind: 'report', report: { urgency, pressMs: Math.min(pressMs, 600_000), ts: now } });
      s.unqueued += 1;
      setLight('sending');
      return;
    }
  }
}

function onCommand(s: MachineState, command: Command, effects: Effect[]): void {
  switch (command.kind) {
    case 'lock':
      // Commands can arrive out of order after an outage (queued QoS 1); the newest wins.
      if (command.ts < s.hub.lockTs) return;
      s.hub.locked = command.locked;
      s.hub.lockTs = command.ts;
      return;
    case 'signage':
      if (command.ts < s.hub.signageTs) return;
      s.hub.signage = command.mode;
      s.hub.signageTs = command.ts;
      return;
    case 'schedule': {
      if (!isValidTimeZone(command.timezone)) {
        effects.push({
          kind: 'rejected',
          reason: `schedule ${command.id}: unknown timezone '${command.timezone}'`,
        });
        return;
      }
      const others = s.schedules.filter((x) => x.date !== command.date);
      s.schedules = [...others, command].sort((a, b) => a.date.localeCompare(b.date)).slice(-MAX_SCHEDULES);
      effects.push({ kind: 'schedules-changed', schedules: s.schedules });
      return;
    }
  }
}

/**
 * R1, the light tells the truth: while the journal cannot write, 'stored' would be a lie (the report is in memory
 * only) and 'ready' would hide that a press made offline may not survive a restart, so both show the fault rhythm.
 * 'sending' and 'confirmed' stay true: the report is on its way, or the hub has it.
 */
function journalLight(s: MachineState, setLight: (mode: ButtonLight) => void): void {
  if (s.journalFault && (s.light.mode === 'stored' || s.light.mode === 'ready')) setLight('fault');
  else if (!s.journalFault && s.light.mode === 'fault')
    setLight(s.awaiting.length === 0 ? 'ready' : s.link.up ? 'sending' : 'stored');
}

/** Time-driven transitions: held button, light timeouts, stale hub commands. */
function onTime(
  config: MachineConfig,
  s: MachineState,
  now: number,
  lockerEvent: EmitLockerEvent,
  setLight: (mode: ButtonLight) => void,
): void {
  const { pressedAt, tamperRaised } = s.button;
  if (pressedAt !== null && !tamperRaised && now - pressedAt >= config.heldTamperMs) {
    s.button = { pressedAt, tamperRaised: true };
    lockerEvent('tamper', 'button-held');
  }
  if (s.light.mode === 'confirmed' && now - s.light.since >= config.confirmShowMs) setLight('ready');
  if (s.light.mode === 'sending' && s.awaiting.length > 0 && now - s.light.since >= config.ackTimeoutMs) {
    setLight('stored');
  }
  if (!s.link.up && s.link.downSince !== null && now - s.link.downSince >= config.offlineGraceMs) {
    // The hub's last word is stale now: from here the schedule rules until the hub speaks again.
    if (s.hub.locked !== null || s.hub.signage !== null) s.hub = { ...s.hub, locked: null, signage: null };
  }
}

/** Derives lock and signage from authority and emits whatever changed. */
function settle(
  config: MachineConfig,
  s: MachineState,
  now: number,
  lockerEvent: EmitLockerEvent,
  effects: Effect[],
  chirp: Outputs['chirp'],
): void {
  const planned = scheduleAt(s.schedules, now);
  const online = s.link.up || (s.link.downSince !== null && now - s.link.downSince < config.offlineGraceMs);

  // Signage: no board > hub > today's schedule > (online: wait for the hub) > local fault.
  if (s.boardLost) s.signage = { mode: 'fault', source: 'local-fault' };
  else if (s.hub.signage !== null) s.signage = { mode: s.hub.signage, source: 'hub' };
  else if (planned)
    s.signage = { mode: planned.entry?.signage ?? planned.otherwise, source: 'offline-schedule' };
  else if (!online) s.signage = { mode: 'fault', source: 'local-fault' };

  // Lock: never in 'open' mode or with the staff key on; otherwise hub > schedule > unchanged.
  let locked = s.locker.locked;
  if (config.lockerMode === 'open' || s.locker.keyOn) locked = false;
  else if (s.hub.locked !== null) locked = s.hub.locked;
  else if (planned) locked = planned.entry?.locked ?? false;
  if (locked !== s.locker.locked) {
    s.locker.locked = locked;
    if (!s.booting) lockerEvent(locked ? 'locked' : 'unlocked');
  }
  // Nothing leaves before the board is ready: its levels are still arriving and it may not accept outputs yet.
  if (s.booting) return;

  // Keys are cheap strings so the 20 Hz tick allocates little; full objects only when something changed.
  const phones = s.locker.slots.filter(Boolean).length;
  const { locker } = s;
  const lockerKey = `${locker.locked}|${locker.doorOpen}|${phones}|${locker.slots.length}|${locker.keyOn}`;
  if (lockerKey !== s.last.lockerState) {
    s.last.lockerState = lockerKey;
    const state: LockerState = {
      v: 1,
      ts: now,
      locked: locker.locked,
      doorOpen: locker.doorOpen,
      phones,
      slots: locker.slots.length,
      keyOn: locker.keyOn,
      mode: config.lockerMode,
    };
    effects.push({ kind: 'locker-state', state });
  }
  const signageKey = `${s.signage.mode}|${s.signage.source}`;
  if (signageKey !== s.last.signageState) {
    s.last.signageState = signageKey;
    effects.push({
      kind: 'signage-state',
      state: { v: 1, ts: now, mode: s.signage.mode, source: s.signage.source },
    });
  }

  const outputsKey = `${locker.locked}|${s.signage.mode}|${s.light.mode}`;
  if (outputsKey !== s.last.outputs || chirp) {
    s.last.outputs = outputsKey;
    const outputs: Outputs = { locked: locker.locked, signage: s.signage.mode, buttonLight: s.light.mode };
    effects.push({ kind: 'outputs', outputs: chirp ? { ...outputs, chirp } : outputs });
  }
}

/** A lesson by today's schedule (locked or phones-away now); with no schedule, by the locker and signage as they are. */
export function inLesson(s: MachineState, now: number): boolean {
  const planned = scheduleAt(s.schedules, now);
  if (planned)
    return planned.entry !== null && (planned.entry.locked || planned.entry.signage === 'phones-away');
  return s.locker.locked || s.signage.mode === 'phones-away';
}

/** The schedule for the local date at `now`, and the entry covering the local time (start inclusive, end exclusive). */
export function scheduleAt(
  schedules: readonly ScheduleCommand[],
  now: number,
): { entry: ScheduleEntry | null; otherwise: SignageMode } | null {
  for (const schedule of schedules) {
    const { date, time } = localClock(now, schedule.timezone);
    if (date !== schedule.date) continue;
    // HH:MM strings compare correctly as text.
    const entry = schedule.entries.find((e) => e.start <= time && time < e.end) ?? null;
    return { entry, otherwise: schedule.otherwise };
  }
  return null;
}
