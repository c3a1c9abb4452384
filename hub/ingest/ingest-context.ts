/**
 * What every ingest handler shares: the hub's ports, the counters, per-device memory, and the steps more than one
 * message type takes (chain check, dedupe lookup, acknowledgement, pipelined writes). Handlers live in handlers/, one
 * per message type, and each builds its own database operations.
 */

import { eventHash } from '../../schemas/event-hash.js';
import type { LockerEvent, Report, ReportAck } from '../../schemas/messages.js';
import { type DeviceAddress, topics } from '../../schemas/topics.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { EventBus, IncidentSummary } from '../event-bus.js';
import type { FloodTally, Incident, IncidentStore } from '../incidents/incident-store.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { Logger } from '../log.js';
import type { RejectCounter } from '../metrics/reject-counter.js';
import type { MetricsOutbox } from '../outbox/metrics-outbox.js';
import type { ChainMonitor } from './chain-monitor.js';
import { DurableWrites } from './durable-writes.js';
import { type RateBucket, ReportRate, type ReportRateOptions } from './report-rate.js';

export interface IngestDeps {
  db: HubDb;
  incidents: IncidentStore;
  outbox: MetricsOutbox;
  registry: DeviceRegistry;
  bus: EventBus;
  rejects: RejectCounter;
  log: Logger;
  publish: (topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }) => Promise<void>;
  now: () => number;
  /**
   * The first notice of each new incident, queued in the incident's own batch so a crash cannot come between them;
   * kick() once the batch is committed. Absent: no notifications configured.
   */
  notices?: { createdOps(incident: IncidentSummary): BatchOp[]; kick(): void };
  /** Hash-chain and gap checks (R7); optional so a bare ingest can run without them. */
  chain?: ChainMonitor;
  /**
   * At most one heartbeat point per device in this many ms goes to InfluxDB (the first of each window); every
   * heartbeat still updates last-seen, the live grid and the chain checks. Nothing reads heartbeat points but
   * retention, and at 3,000 devices every 10 s, one a minute spares a Pi's SD card 22M points a day. Default 60 s.
   */
  heartbeatPointMs?: number;
  /** Reports per device that become incidents one by one; beyond it they are collapsed into one flood incident. */
  reportRate?: ReportRateOptions;
}

export interface IngestStats {
  accepted: number;
  duplicates: number;
  reportsStored: number;
  /** Of reportsStored: those collapsed into a flood incident. */
  reportsCollapsed: number;
}

/** A message whose write is submitted but not yet committed; `stored` settles with the write. */
export interface Pipelined {
  stored: Promise<boolean>;
}

/** true: stored (or a duplicate); Pipelined: submitted, settles with its write. Rejections are decided before. */
export type HandlerOutcome = boolean | Pipelined;

/** What a stored report is acknowledged with: also what a resend racing the original's write is acknowledged with. */
export interface StoredReport {
  ref: string;
  receivedAt: number;
}

/** A device's flood incident and its tally as this hub has counted it (the stored tally may still be on its way). */
export interface Flood {
  incident: Incident;
  tally: FloodTally;
  /** While the write that opens the flood incident is on its way to disk; settles with it. */
  created?: Promise<void>;
}

/** A device's report rate and flood incident as saved with each report, so a restart mid-flood carries on with it. */
interface SavedRate {
  bucket: RateBucket;
  floodId?: string;
}

/** One message type's handler: its validated value in, its outcome out. Runs inside the device's queue. */
export type MessageHandler<T> = (ctx: IngestContext, ref: DeviceAddress, value: T) => Promise<HandlerOutcome>;

/**
 * Reports charged and not stored, at most: a full disk can hold a few per device for as long as it lasts. Beyond it
 * the oldest charge is forgotten, and its resend is charged again (as every resend was before charges were kept).
 */
const MAX_UNSTORED_CHARGES = 10_000;

export class IngestContext {
  readonly stats: IngestStats = { accepted: 0, duplicates: 0, reportsStored: 0, reportsCollapsed: 0 };
  /** When each device's last heartbeat point was taken (hub clock). */
  readonly heartbeatPointAt = new Map<string, number>();
  readonly rate: ReportRate;
  /** Each flooding device's flood incident (touched only inside that device's queue). */
  readonly floods = new Map<string, Flood>();
  /**
   * Reports charged against their device's rate and not yet stored, by report id, with the decision taken (see
   * chargeReport). Oldest first, at most MAX_UNSTORED_CHARGES.
   */
  private readonly charged = new Map<string, 'single' | 'flood'>();
  /** Devices whose saved report rate has been read since the start (see loadRate). */
  private readonly rateLoaded = new Set<string>();
  /** Durable events (locker events, reports, tamper) go through here: group-committed, claimed until on disk. */
  readonly writes: DurableWrites;

  constructor(readonly deps: IngestDeps) {
    this.rate = new ReportRate(deps.reportRate ?? DEFAULT_LIMITS.reports);
    this.writes = new DurableWrites(deps.db, (device) => deps.chain?.unsaved(device));
  }

  /**
   * Every message's write is pipelined: submitted in arrival order (HubDb commits in submission order, grouped with
   * other devices' writes in one fsync) while the device's next message is checked; the caller, and so the PUBACK or
   * ReportAck, still waits for the write itself, and `after` runs once it is on disk (in commit order).
   */
  pipelined<T>(written: Promise<T>, after: (value: T) => void | Promise<void>): Pipelined {
    const stored = written.then(async (value) => {
      await after(value);
      return true;
    });
    stored.catch(() => {}); // handled by Ingest.handle()'s caller; this only stops an early unhandled-rejection warning
    return { stored };
  }

  /** The event's place in the device's hash chain (R7); the returned ops persist it with the event. */
  async checkChain(
    ref: DeviceAddress,
    event: LockerEvent | Report,
    kind: 'locker' | 'report',
  ): Promise<BatchOp[]> {
    if (!this.deps.chain) return [];
    return this.deps.chain.observe(ref, {
      kind: 'event',
      seq: event.seq,
      hash: eventHash(event),
      ...(event.prev ? { prev: event.prev } : {}),
      ...(kind === 'report' ? { report: true } : {}),
    });
  }

  /**
   * The device's report rate and flood incident as last saved, read once per device after a start: without it a
   * restart mid-flood would give the flooding device a full burst of single incidents (and notices) again.
   */
  async loadRate(device: string): Promise<void> {
    if (this.rateLoaded.has(device)) return;
    const saved = await this.deps.db.get<SavedRate>('meta', `report-rate/${device}`);
    if (saved) {
      this.rate.restore(device, saved.bucket);
      // Gone when retention has removed the flood incident: the next flooded report opens a new one.
      const incident = saved.floodId ? await this.deps.incidents.get(saved.floodId) : undefined;
      if (incident)
        this.floods.set(device, {
          incident,
          tally: incident.flood ?? { reports: 1, lastAt: incident.receivedAt },
        });
    }
    this.rateLoaded.add(device);
  }

  /**
   * A report's charge against its device's rate: once per press (report id), not once per attempt to store it. A
   * resend of a report whose write failed (a full disk) is the same press and keeps the decision it had. Charged per
   * attempt, each failed write took a token, and a pupil's report resent once the disk had room again was collapsed
   * into a "report flood" without an incident of its own (the disk-full fault test). Settled by `outcome`: once the
   * report is stored its dedupe key answers every resend, so the charge is forgotten.
   */
  chargeReport(device: string, reportId: string, at: number): 'single' | 'flood' {
    const earlier = this.charged.get(reportId);
    if (earlier) return earlier;
    const decision = this.rate.take(device, at);
    if (this.charged.size >= MAX_UNSTORED_CHARGES) {
      const oldest = this.charged.keys().next().value;
      if (oldest !== undefined) this.charged.delete(oldest);
    }
    this.charged.set(reportId, decision);
    return decision;
  }

  /** Forgets a report's charge once its write is on disk; a failed write keeps it for the resend. */
  settleCharge(reportId: string, outcome: HandlerOutcome): HandlerOutcome {
    if (typeof outcome === 'boolean') {
      if (outcome) this.charged.delete(reportId);
      return outcome;
    }
    outcome.stored.then(
      () => this.charged.delete(reportId),
      () => undefined,
    );
    return outcome;
  }

  /** The op that saves the device's rate and flood incident, written in each report's own batch. */
  rateOps(device: string): BatchOp[] {
    const bucket = this.rate.snapshot(device);
    if (!bucket) return [];
    const floodId = this.floods.get(device)?.incident.id;
    const saved: SavedRate = { bucket, ...(floodId ? { floodId } : {}) };
    return [{ type: 'put', sublevel: 'meta', key: `report-rate/${device}`, value: saved }];
  }

  /**
   * True when the event's seq is past every event observed for the device, so it cannot have been stored before and
   * its dedupe read is skipped (see ChainMonitor.isPastChain). Call before checkChain(), which observes the event.
   */
  isPastChain(ref: DeviceAddress, seq: number): boolean {
    return this.deps.chain?.isPastChain(ref.device, seq) ?? false;
  }

  async isDuplicate(eventId: string): Promise<boolean> {
    if ((await this.deps.db.get('dedupe', eventId)) === undefined) return false;
    this.stats.duplicates += 1;
    return true;
  }

  /** The first notice of a new incident, for the incident's own batch; none when notifications are off. */
  noticeOps(summary: IncidentSummary): BatchOp[] {
    return this.deps.notices?.createdOps(summary) ?? [];
  }

  async acknowledge(ref: DeviceAddress, id: string, incidentRef: string, storedAt: number): Promise<void> {
    const ack: ReportAck = { v: 1, id, ref: incidentRef, storedAt };
    await this.deps.publish(topics.reportAck(ref), JSON.stringify(ack), { qos: 1, retain: false });
  }
}
