/**
 * Composition root of the classroom device: the pure machine decides, and this file carries out its effects
 * on the journal (durability), the hub link (MQTT) and the board (outputs). Nothing here makes a policy decision.
 *
 * Delivery: a locker event is first made durable in the journal, then published if the link is up. A report is
 * published while the journal writes it (a pupil's report does not wait on the SD card; why that is safe: the header
 * of event-journal.ts), or kept for later when the link is down.
 * On every connect everything pending is resent; the hub dedupes by event id, so resending is always safe.
 * Reports leave the journal only on their ReportAck; locker events on the broker's PUBACK.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceConfig } from '../schemas/config.js';
import type { Command, UpdateProgress } from '../schemas/messages.js';
import { check } from '../schemas/validate.js';
import type { Logger } from '../shared/log.js';
import type { BoardPort, Outputs } from './board/board-port.js';
import { type ClockSyncProbe, ClockSyncWatcher, clockSyncProbeFor } from './clock-sync.js';
import {
  type Effect,
  initialState,
  MACHINE_DEFAULTS,
  type MachineConfig,
  type MachineInput,
  type MachineState,
  type ScheduleCommand,
  step,
} from './device-machine.js';
import { EventJournal, type PendingItem } from './event-journal.js';
import { HubLink, type HubLinkOptions, LinkError } from './hub-link.js';
import { readSoftwareVersion } from './updates/software-version.js';

export type DeviceLog = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface DeviceOptions {
  config: DeviceConfig;
  board: BoardPort;
  /**
   * Opens the board again after it was lost (USB cable out and back). Without it a lost board stays lost: the
   * device keeps running, showing the fault to the hub.
   */
  reopenBoard?: () => Promise<BoardPort>;
  /** How long to wait between attempts to reopen a lost board. Default 3000 ms. */
  boardRetryMs?: number;
  /** The MQTT password (read from config.hub.passwordFile by the caller; never logged). */
  password: string;
  /**
   * S4 enrolment: connect with this password (`enrol:<token>:<secret>`) until the hub first accepts us, then with
   * `password`. onApproved runs once, on that first accepted connect (the caller records it on disk).
   */
  enrolment?: { password: string; onApproved: () => Promise<void> };
  /** Whether the clock is synchronised; default from config.clockSync (see clock-sync.ts). */
  clockSync?: ClockSyncProbe;
  log: DeviceLog;
  clock?: () => number;
  /** Period of the machine's tick: the resolution of press, hold and schedule timing. */
  tickMs?: number;
  machine?: Partial<Pick<MachineConfig, 'debounceMs' | 'ackTimeoutMs' | 'offlineGraceMs'>>;
  link?: Pick<HubLinkOptions, 'keepaliveS' | 'reconnectPeriodMs' | 'connectTimeoutMs' | 'mqtt'>;
  /** Unacknowledged reports are resent this long after their last send, even without a reconnect. */
  resendAfterMs?: number;
  /** Software version for heartbeats (S8); defaults to package.json's version. */
  software?: string;
  /** A fleet update offer from the hub: handed to the updater (firmware/updates/), never to the machine. */
  onUpdateOffer?: (offer: UpdateCommand) => void;
}

export type UpdateCommand = Extract<Command, { kind: 'update' }>;

export interface RunningDevice {
  /** Stops timers, drains pending writes, says 'offline' and closes link and journal. The board stays open. */
  stop(): Promise<void>;
  state(): MachineState;
  /** Outputs last applied to the board. */
  outputs(): Outputs | null;
  queued(): number;
  connected(): boolean;
  /** Resolves once queued journal writes have finished (useful in tests and before shutdown). */
  idle(): Promise<void>;
  /** The board in use now: a new port after a lost board was reopened. The caller closes it after stop(). */
  board(): BoardPort;
  /** The version this program reports (S8). */
  readonly software: string;
  /** Called with true on every connect to the hub and false on every loss; returns an unsubscribe. */
  onLink(listener: (up: boolean) => void): () => void;
  publishUpdateProgress(progress: UpdateProgress): Promise<void>;
}

const SCHEDULES_DOC = 'schedules';

export async function startDevice(opts: DeviceOptions): Promise<RunningDevice> {
  const { config, log } = opts;
  let board = opts.board;
  const clock = opts.clock ?? Date.now;
  const startedAt = clock();
  const software = opts.software ?? (await readSoftwareVersion());
  const resendAfterMs = opts.resendAfterMs ?? 30_000;
  const machineConfig: MachineConfig = {
    lockerMode: config.lockerMode,
    slotCount: config.pins.slots.length,
    longPressMs: config.timing.longPressMs,
    heldTamperMs: config.timing.heldTamperMs,
    confirmShowMs: config.timing.confirmShowMs,
    ...MACHINE_DEFAULTS,
    ...opts.machine,
  };

  const journal = await EventJournal.open({
    dir: join(config.dataDir, 'journal'),
    deviceId: config.deviceId,
    log,
  });
  const schedules = await loadSchedules(journal, log);

  const mqttExtras = { ...opts.link?.mqtt };
  if (config.hub.ca && mqttExtras.ca === undefined) mqttExtras.ca = await readFile(config.hub.ca);
  const link = new HubLink({
    address: { site: config.site, room: config.room, device: config.deviceId },
    url: config.hub.url,
    clientId: config.deviceId,
    username: config.hub.username,
    password: opts.enrolment?.password ?? opts.password,
    log,
    clock,
    ...opts.link,
    mqtt: mqttExtras,
  });

  const clockSync = new ClockSyncWatcher(opts.clockSync ?? clockSyncProbeFor(config));
  await clockSync.start();
  let enrolling = opts.enrolment;

  let state = initialState(machineConfig, clock(), schedules);
  let lastOutputs: Outputs | null = null;
  let stopped = false;
  /** Set first in stop(): no new journal work; what is already queued still finishes. */
  let closing = false;
  let work: Promise<void> = Promise.resolve();
  const lastSent = new Map<string, number>();
  let lastResendCheck = clock();

  /** Journal writes run one after another, in the order the machine asked for them. */
  const enqueue = (job: () => Promise<void>) => {
    if (closing) return;
    work = work
      .then(job)
      .catch((error: unknown) => log.error({ err: String(error) }, 'device: effect failed'));
  };

  const dispatch = (input: MachineInput) => {
    if (stopped) return;
    const result = step(state, input, clock());
    state = result.state;
    for (const effect of result.effects) perform(effect);
  };

  /** Tells the machine when the journal's storage starts or stops failing (the button light, R1). */
  const syncJournalFault = () => {
    if (journal.faulty !== state.journalFault) {
      if (journal.faulty)
        log.error({}, 'device: journal storage failing; reports held in memory and retried');
      else log.info({}, 'device: journal storage works again');
      dispatch({ kind: 'journal', fault: journal.faulty });
    }
  };

  const send = (item: PendingItem) => {
    const now = clock();
    lastSent.set(item.event.id, now);
    const sent =
      item.type === 'report'
        ? link.publishReport({ ...item.event, queuedMs: Math.max(0, Math.round(now - item.event.ts)) })
        : link.publishLockerEvent(item.event).then(async () => {
            lastSent.delete(item.event.id);
            await journal.ack(item.event.id);
          });
    // Not delivered now means delivered later: the item stays in the journal for the next connect.
    sent.catch((error: unknown) =>
      log.debug({ id: item.event.id, err: String(error) }, 'device: send deferred'),
    );
  };

  const perform = (effect: Effect) => {
    try {
      switch (effect.kind) {
        case 'outputs':
          lastOutputs = effect.outputs;
          board.apply(effect.outputs);
          return;
        case 'locker-state':
          link.publishState('locker', effect.state);
          return;
        case 'signage-state':
          link.publishState('signage', effect.state);
          return;
        case 'rejected':
          log.warn({ reason: effect.reason }, 'device: command rejected');
          return;
        case 'schedules-changed': {
          const value = [...effect.schedules];
          enqueue(() => journal.saveDoc(SCHEDULES_DOC, value));
          return;
        }
        case 'report': {
          const { urgency, pressMs, ts } = effect.report;
          enqueue(async () => {
            let sent = false;
            const report = await journal.appendReport(
              { urgency, pressMs, ...synced(clockSync.synced) },
              ts,
              (sealed) => {
                if (!link.connected) return;
                sent = true;
                dispatch({ kind: 'report-queued', id: sealed.id, offline: false });
                send({ type: 'report', event: sealed });
              },
            );
            log.info({ id: report.id, urgency, offline: !sent }, 'device: report raised');
            // A write that failed kept the report in memory (resent like the rest): the light must say so.
            syncJournalFault();
            // Offline: 'stored' on the light only now that the journal holds it.
            if (!sent) dispatch({ kind: 'report-queued', id: report.id, offline: true });
          });
          return;
        }
        case 'locker-event': {
          const { ts, ...draft } = effect.event;
          enqueue(async () => {
            const event = await journal.appendLockerEvent({ ...draft, ...synced(clockSync.synced) }, ts);
            syncJournalFault();
            if (event.kind === 'tamper') log.warn({ id: event.id, reason: event.reason }, 'device: tamper');
            if (link.connected) send({ type: 'locker', event });
          });
          return;
        }
      }
    } catch (error) {
      // A schema violation here is our bug; log it loudly but keep the device running.
      log.error({ effect: effect.kind, err: String(error) }, 'device: effect failed');
    }
  };

  const resendStale = (now: number) => {
    if (!link.connected) return;
    for (const item of journal.pending()) {
      if (item.type !== 'report') continue;
      const sentAt = lastSent.get(item.event.id);
      if (sentAt === undefined || now - sentAt >= resendAfterMs) send(item);
    }
  };

  link.on('connected', () => {
    if (enrolling) {
      // S4: the hub let us in, so an admin has approved us; from now on the plain secret is enough.
      const { onApproved } = enrolling;
      enrolling = undefined;
      link.setPassword(opts.password);
      log.info({}, 'device: approved by the hub');
      onApproved().catch((error: unknown) =>
        log.error({ err: String(error) }, 'device: could not record approval'),
      );
    }
    dispatch({ kind: 'link', up: true });
    for (const item of journal.pending()) send(item);
  });
  link.on('disconnected', () => dispatch({ kind: 'link', up: false }));
  link.on('refused', ({ code }) => {
    // MQTT 3.1.1 CONNACK 5 = not authorised: what the broker answers a pending device (S4).
    if (enrolling && code === 5) log.warn({}, 'device: enrolled, waiting for approval on the dashboard');
    else log.warn({ code }, 'device: hub refused the connection');
  });
  link.on('command', (command) => {
    log.info({ kind: command.kind, id: command.id }, 'device: command');
    if (command.kind === 'update') {
      opts.onUpdateOffer?.(command);
      return;
    }
    dispatch({ kind: 'command', command });
  });
  link.on('ack', (ack) => {
    // The light at once; the journal after any write still running for this report (its queue is in order).
    dispatch({ kind: 'report-ack', id: ack.id });
    enqueue(async () => {
      await journal.ack(ack.id);
      lastSent.delete(ack.id); // only now: until the file is gone, resendStale must not take it for unsent
    });
  });

  // Listen before ready(): the board reports its current levels then, and the machine records them quietly.
  // Restored reports first, so the very first light the pupil sees already says 'stored'.
  for (const item of journal.pending()) {
    if (item.type === 'report')
      dispatch({ kind: 'report-queued', id: item.event.id, offline: true, restored: true });
  }
  let retryTimer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      retryTimer = setTimeout(resolve, ms);
    });

  /** Events from a port count only while it is the board in use. */
  const attach = (port: BoardPort) => {
    port.onInput((event) => {
      if (port === board) dispatch({ kind: 'board', event });
    });
    port.onStatus?.((status) => {
      if (status === 'lost' && port === board) void recover(port);
    });
  };

  /** R7: the board went away. Show the fault (and tamper in a lesson), then keep trying to open it again. */
  const recover = async (lost: BoardPort) => {
    dispatch({ kind: 'board-lost' });
    log.warn({ board: config.board.kind }, 'device: board lost; signage fault until it is back');
    await lost
      .close()
      .catch((error: unknown) => log.debug({ err: String(error) }, 'device: close lost board'));
    if (!opts.reopenBoard) return;
    for (let attempt = 1; !closing; attempt += 1) {
      await pause(opts.boardRetryMs ?? 3_000);
      if (closing) return;
      let port: BoardPort | undefined;
      try {
        port = await opts.reopenBoard();
        board = port;
        attach(port);
        await port.ready();
        if (closing) return; // the caller closes board() after stop()
        dispatch({ kind: 'board-ready' });
        log.info({ attempt }, 'device: board is back');
        return;
      } catch (error) {
        log.warn({ attempt, err: String(error) }, 'device: board still unavailable');
        if (port) await port.close().catch(() => undefined);
      }
    }
  };

  attach(board);
  await board.ready();
  dispatch({ kind: 'board-ready' });
  link.start();

  const tickTimer = setInterval(() => {
    dispatch({ kind: 'tick' });
    const now = clock();
    if (now - lastResendCheck >= 1_000) {
      lastResendCheck = now;
      resendStale(now);
      // Storage failing: try again to write what is held in memory (a full card may have been cleared).
      if (journal.faulty)
        enqueue(async () => {
          await journal.retryUnsaved();
          syncJournalFault();
        });
    }
  }, opts.tickMs ?? 50);

  const heartbeatTimer = setInterval(() => {
    if (!link.connected) return;
    enqueue(async () => {
      const now = clock();
      const envelope = await journal.nextEnvelope(now, clockSync.synced);
      const heartbeat = {
        ...envelope,
        uptimeS: Math.max(0, Math.floor((now - startedAt) / 1_000)),
        software,
        queued: journal.queued,
        board: config.board.kind,
        boardConnected: !state.boardLost,
        ...(journal.faulty ? { journalFault: true } : {}),
      };
      // QoS 0 by design: a heartbeat lost to a reconnect race is replaced by the next one.
      await link.publishHeartbeat(heartbeat).catch((error: unknown) => {
        if (error instanceof LinkError) log.debug({ err: error.message }, 'device: heartbeat skipped');
        else throw error;
      });
    });
  }, config.timing.heartbeatMs);

  const idle = async () => {
    let seen: Promise<void> | undefined;
    while (seen !== work) {
      seen = work;
      await work;
    }
  };

  return {
    async stop() {
      if (closing) return;
      closing = true;
      clearInterval(tickTimer);
      clearInterval(heartbeatTimer);
      clearTimeout(retryTimer);
      wake?.();
      clockSync.stop();
      await idle();
      stopped = true;
      await link.stop();
      await journal.close();
    },
    state: () => state,
    outputs: () => lastOutputs,
    queued: () => journal.queued,
    connected: () => link.connected,
    idle,
    board: () => board,
    software,
    onLink: (listener) => {
      const offs = [
        link.on('connected', () => listener(true)),
        link.on('disconnected', () => listener(false)),
      ];
      return () => {
        for (const off of offs) off();
      };
    },
    publishUpdateProgress: (progress) => link.publishUpdateProgress(progress),
  };
}

const synced = (value: boolean | undefined) => (value === undefined ? {} : { clockSynced: value });

async function loadSchedules(journal: EventJournal, log: DeviceLog): Promise<ScheduleCommand[]> {
  const raw = await journal.loadDoc(SCHEDULES_DOC);
  if (!Array.isArray(raw)) return [];
  const schedules: ScheduleCommand[] = [];
  for (const candidate of raw) {
    const result = check('command', candidate);
    if (result.ok && result.value.kind === 'schedule') schedules.push(result.value);
    else log.warn({}, 'device: stored schedule ignored (invalid)');
  }
  return schedules;
}

export { readSoftwareVersion } from './updates/software-version.js';
