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
  type LockerEventDraft,
  MACHINE_DEFAULTS,
  type MachineConfig,
  type MachineInput,
  type MachineState,
  type ReportDraft,
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

/** What start() prepares before the device exists: the opened journal, link and clock watcher. */
interface DeviceParts {
  journal: EventJournal;
  link: HubLink;
  clockSync: ClockSyncWatcher;
  machineConfig: MachineConfig;
  schedules: ScheduleCommand[];
  software: string;
}

export async function startDevice(opts: DeviceOptions): Promise<RunningDevice> {
  return Device.start(opts);
}

/**
 * One running device. start() opens storage and the link, wires the link's and board's events to the machine,
 * and starts the tick and heartbeat timers; every other method carries out one kind of effect or event.
 */
export class Device implements RunningDevice {
  static async start(opts: DeviceOptions): Promise<Device> {
    const { config, log } = opts;
    const clock = opts.clock ?? Date.now;
    const software = opts.software ?? (await readSoftwareVersion());
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

    const device = new Device(opts, clock, { journal, link, clockSync, machineConfig, schedules, software });
    await device.run();
    return device;
  }

  private readonly config: DeviceConfig;
  private readonly log: DeviceLog;
  private readonly clock: () => number;
  private readonly startedAt: number;
  private readonly resendAfterMs: number;
  private readonly journal: EventJournal;
  private readonly link: HubLink;
  private readonly clockSync: ClockSyncWatcher;
  readonly software: string;
  /** Last send time per pending report id, for resendStale. */
  private readonly lastSent = new Map<string, number>();

  private port: BoardPort;
  private machine: MachineState;
  private lastOutputs: Outputs | null = null;
  /** Enrolment still waiting for its first accepted connect (S4). */
  private enrolling: DeviceOptions['enrolment'];
  private stopped = false;
  /** Set first in stop(): no new journal work; what is already queued still finishes. */
  private closing = false;
  private work: Promise<void> = Promise.resolve();
  private lastResendCheck: number;
  private tickTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  private constructor(
    private readonly opts: DeviceOptions,
    clock: () => number,
    parts: DeviceParts,
  ) {
    this.config = opts.config;
    this.log = opts.log;
    this.clock = clock;
    this.startedAt = clock();
    this.resendAfterMs = opts.resendAfterMs ?? 30_000;
    this.journal = parts.journal;
    this.link = parts.link;
    this.clockSync = parts.clockSync;
    this.software = parts.software;
    this.port = opts.board;
    this.enrolling = opts.enrolment;
    this.machine = initialState(parts.machineConfig, clock(), parts.schedules);
    this.lastResendCheck = clock();
  }

  /** Wires events, brings the board up, then connects and starts the timers. */
  private async run(): Promise<void> {
    const { link } = this;
    link.on('connected', () => this.onConnected());
    link.on('disconnected', () => this.dispatch({ kind: 'link', up: false }));
    link.on('refused', ({ code }) => this.onRefused(code));
    link.on('command', (command) => {
      this.log.info({ kind: command.kind, id: command.id }, 'device: command');
      if (command.kind === 'update') {
        this.opts.onUpdateOffer?.(command);
        return;
      }
      this.dispatch({ kind: 'command', command });
    });
    link.on('ack', (ack) => this.onAck(ack.id));

    // Listen before ready(): the board reports its current levels then, and the machine records them quietly.
    // Restored reports first, so the very first light the pupil sees already says 'stored'.
    for (const item of this.journal.pending()) {
      if (item.type === 'report')
        this.dispatch({ kind: 'report-queued', id: item.event.id, offline: true, restored: true });
    }
    this.attach(this.port);
    await this.port.ready();
    this.dispatch({ kind: 'board-ready' });
    link.start();

    this.tickTimer = setInterval(() => this.tick(), this.opts.tickMs ?? 50);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.config.timing.heartbeatMs);
  }

  async stop(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.tickTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.retryTimer);
    this.wake?.();
    this.clockSync.stop();
    await this.idle();
    this.stopped = true;
    await this.link.stop();
    await this.journal.close();
  }

  state(): MachineState {
    return this.machine;
  }

  outputs(): Outputs | null {
    return this.lastOutputs;
  }

  queued(): number {
    return this.journal.queued;
  }

  connected(): boolean {
    return this.link.connected;
  }

  onLink(listener: (up: boolean) => void): () => void {
    const offs = [
      this.link.on('connected', () => listener(true)),
      this.link.on('disconnected', () => listener(false)),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  publishUpdateProgress(progress: UpdateProgress): Promise<void> {
    return this.link.publishUpdateProgress(progress);
  }

  board(): BoardPort {
    return this.port;
  }

  async idle(): Promise<void> {
    let seen: Promise<void> | undefined;
    while (seen !== this.work) {
      seen = this.work;
      await this.work;
    }
  }

  /** Journal writes run one after another, in the order the machine asked for them. */
  private enqueue(job: () => Promise<void>): void {
    if (this.closing) return;
    this.work = this.work
      .then(job)
      .catch((error: unknown) => this.log.error({ err: String(error) }, 'device: effect failed'));
  }

  private dispatch(input: MachineInput): void {
    if (this.stopped) return;
    const result = step(this.machine, input, this.clock());
    this.machine = result.state;
    for (const effect of result.effects) this.perform(effect);
  }

  /** Tells the machine when the journal's storage starts or stops failing (the button light, R1). */
  private syncJournalFault(): void {
    const { journal } = this;
    if (journal.faulty === this.machine.journalFault) return;
    if (journal.faulty)
      this.log.error({}, 'device: journal storage failing; reports held in memory and retried');
    else this.log.info({}, 'device: journal storage works again');
    this.dispatch({ kind: 'journal', fault: journal.faulty });
  }

  private send(item: PendingItem): void {
    const now = this.clock();
    this.lastSent.set(item.event.id, now);
    const sent =
      item.type === 'report'
        ? this.link.publishReport({ ...item.event, queuedMs: Math.max(0, Math.round(now - item.event.ts)) })
        : this.link.publishLockerEvent(item.event).then(async () => {
            this.lastSent.delete(item.event.id);
            await this.journal.ack(item.event.id);
          });
    // Not delivered now means delivered later: the item stays in the journal for the next connect.
    sent.catch((error: unknown) =>
      this.log.debug({ id: item.event.id, err: String(error) }, 'device: send deferred'),
    );
  }

  private perform(effect: Effect): void {
    try {
      switch (effect.kind) {
        case 'outputs':
          this.lastOutputs = effect.outputs;
          this.port.apply(effect.outputs);
          return;
        case 'locker-state':
          this.link.publishState('locker', effect.state);
          return;
        case 'signage-state':
          this.link.publishState('signage', effect.state);
          return;
        case 'rejected':
          this.log.warn({ reason: effect.reason }, 'device: command rejected');
          return;
        case 'schedules-changed': {
          const value = [...effect.schedules];
          this.enqueue(() => this.journal.saveDoc(SCHEDULES_DOC, value));
          return;
        }
        case 'report':
          this.enqueue(() => this.raiseReport(effect.report));
          return;
        case 'locker-event':
          this.enqueue(() => this.recordLockerEvent(effect.event));
          return;
      }
    } catch (error) {
      // A schema violation here is our bug; log it loudly but keep the device running.
      this.log.error({ effect: effect.kind, err: String(error) }, 'device: effect failed');
    }
  }

  private async raiseReport({ urgency, pressMs, ts }: ReportDraft): Promise<void> {
    let sent = false;
    const report = await this.journal.appendReport(
      { urgency, pressMs, ...synced(this.clockSync.synced) },
      ts,
      (sealed) => {
        if (!this.link.connected) return;
        sent = true;
        this.dispatch({ kind: 'report-queued', id: sealed.id, offline: false });
        this.send({ type: 'report', event: sealed });
      },
    );
    this.log.info({ id: report.id, urgency, offline: !sent }, 'device: report raised');
    // A write that failed kept the report in memory (resent like the rest): the light must say so.
    this.syncJournalFault();
    // Offline: 'stored' on the light only now that the journal holds it.
    if (!sent) this.dispatch({ kind: 'report-queued', id: report.id, offline: true });
  }

  private async recordLockerEvent({ ts, ...draft }: LockerEventDraft): Promise<void> {
    const event = await this.journal.appendLockerEvent({ ...draft, ...synced(this.clockSync.synced) }, ts);
    this.syncJournalFault();
    if (event.kind === 'tamper') this.log.warn({ id: event.id, reason: event.reason }, 'device: tamper');
    if (this.link.connected) this.send({ type: 'locker', event });
  }

  private resendStale(now: number): void {
    if (!this.link.connected) return;
    for (const item of this.journal.pending()) {
      if (item.type !== 'report') continue;
      const sentAt = this.lastSent.get(item.event.id);
      if (sentAt === undefined || now - sentAt >= this.resendAfterMs) this.send(item);
    }
  }

  private onConnected(): void {
    if (this.enrolling) {
      // S4: the hub let us in, so an admin has approved us; from now on the plain secret is enough.
      const { onApproved } = this.enrolling;
      this.enrolling = undefined;
      this.link.setPassword(this.opts.password);
      this.log.info({}, 'device: approved by the hub');
      onApproved().catch((error: unknown) =>
        this.log.error({ err: String(error) }, 'device: could not record approval'),
      );
    }
    this.dispatch({ kind: 'link', up: true });
    for (const item of this.journal.pending()) this.send(item);
  }

  private onRefused(code: number | undefined): void {
    // MQTT 3.1.1 CONNACK 5 = not authorised: what the broker answers a pending device (S4).
    if (this.enrolling && code === 5)
      this.log.warn({}, 'device: enrolled, waiting for approval on the dashboard');
    else this.log.warn({ code }, 'device: hub refused the connection');
  }

  private onAck(id: string): void {
    // The light at once; the journal after any write still running for this report (its queue is in order).
    this.dispatch({ kind: 'report-ack', id });
    this.enqueue(async () => {
      await this.journal.ack(id);
      this.lastSent.delete(id); // only now: until the file is gone, resendStale must not take it for unsent
    });
  }

  private tick(): void {
    this.dispatch({ kind: 'tick' });
    const now = this.clock();
    if (now - this.lastResendCheck < 1_000) return;
    this.lastResendCheck = now;
    this.resendStale(now);
    // Storage failing: try again to write what is held in memory (a full card may have been cleared).
    if (this.journal.faulty)
      this.enqueue(async () => {
        await this.journal.retryUnsaved();
        this.syncJournalFault();
      });
  }

  private heartbeat(): void {
    if (!this.link.connected) return;
    this.enqueue(async () => {
      const now = this.clock();
      const { journal } = this;
      const envelope = await journal.nextEnvelope(now, this.clockSync.synced);
      const heartbeat = {
        ...envelope,
        uptimeS: Math.max(0, Math.floor((now - this.startedAt) / 1_000)),
        software: this.software,
        queued: journal.queued,
        board: this.config.board.kind,
        boardConnected: !this.machine.boardLost,
        ...(journal.faulty ? { journalFault: true } : {}),
      };
      // QoS 0 by design: a heartbeat lost to a reconnect race is replaced by the next one.
      await this.link.publishHeartbeat(heartbeat).catch((error: unknown) => {
        if (error instanceof LinkError) this.log.debug({ err: error.message }, 'device: heartbeat skipped');
        else throw error;
      });
    });
  }

  /** Events from a port count only while it is the board in use. */
  private attach(port: BoardPort): void {
    port.onInput((event) => {
      if (port === this.port) this.dispatch({ kind: 'board', event });
    });
    port.onStatus?.((status) => {
      if (status === 'lost' && port === this.port) void this.recover(port);
    });
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.retryTimer = setTimeout(resolve, ms);
    });
  }

  /** R7: the board went away. Show the fault (and tamper in a lesson), then keep trying to open it again. */
  private async recover(lost: BoardPort): Promise<void> {
    this.dispatch({ kind: 'board-lost' });
    this.log.warn({ board: this.config.board.kind }, 'device: board lost; signage fault until it is back');
    await lost
      .close()
      .catch((error: unknown) => this.log.debug({ err: String(error) }, 'device: close lost board'));
    const { reopenBoard } = this.opts;
    if (!reopenBoard) return;
    for (let attempt = 1; !this.closing; attempt += 1) {
      await this.pause(this.opts.boardRetryMs ?? 3_000);
      if (this.closing) return;
      let port: BoardPort | undefined;
      try {
        port = await reopenBoard();
        this.port = port;
        this.attach(port);
        await port.ready();
        if (this.closing) return; // the caller closes board() after stop()
        this.dispatch({ kind: 'board-ready' });
        this.log.info({ attempt }, 'device: board is back');
        return;
      } catch (error) {
        this.log.warn({ attempt, err: String(error) }, 'device: board still unavailable');
        if (port) await port.close().catch(() => undefined);
      }
    }
  }
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
