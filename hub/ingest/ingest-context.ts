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
import type { IncidentStore } from '../incidents/incident-store.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { Logger } from '../log.js';
import type { RejectCounter } from '../metrics/reject-counter.js';
import type { MetricsOutbox } from '../outbox/metrics-outbox.js';
import type { ChainMonitor } from './chain-monitor.js';
import { ReportRate, type ReportRateOptions } from './report-rate.js';

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

/** One message type's handler: its validated value in, its outcome out. Runs inside the device's queue. */
export type MessageHandler<T> = (ctx: IngestContext, ref: DeviceAddress, value: T) => Promise<HandlerOutcome>;

export class IngestContext {
  readonly stats: IngestStats = { accepted: 0, duplicates: 0, reportsStored: 0, reportsCollapsed: 0 };
  /** When each device's last heartbeat point was taken (hub clock). */
  readonly heartbeatPointAt = new Map<string, number>();
  readonly rate: ReportRate;
  /** Each flooding device's flood incident id (touched only inside that device's queue). */
  readonly floods = new Map<string, string>();

  constructor(readonly deps: IngestDeps) {
    this.rate = new ReportRate(deps.reportRate ?? DEFAULT_LIMITS.reports);
  }

  /**
   * Messages with nothing to check against stored state (heartbeats, locker state) are pipelined: their write is
   * submitted in arrival order (HubDb commits in submission order, grouped with other writes) and the device's next
   * message is processed meanwhile; the caller, and so the acknowledgement, still waits for the write itself.
   */
  pipelined(written: Promise<void>, after: () => void): Pipelined {
    const stored = written.then(() => {
      after();
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
