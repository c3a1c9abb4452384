/**
 * Device message ingest: topic → schema → dedupe → durable store → acknowledgement. Bad input is rejected with a
 * reason, counted and logged; it never throws out of here and never changes state.
 */

import { eventHash } from '../../schemas/event-hash.js';
import type {
  Availability,
  Heartbeat,
  LockerEvent,
  LockerState,
  Report,
  ReportAck,
  SignageState,
  UpdateProgress,
} from '../../schemas/messages.js';
import { type DeviceAddress, parseTopic, schemaFor, topics } from '../../schemas/topics.js';
import { parsePayload } from '../../schemas/validate.js';
import type { DevicePublish } from '../broker/broker.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { EventBus, IncidentSummary } from '../event-bus.js';
import { type Incident, type IncidentStore, REPORT_FLOOD, summarise } from '../incidents/incident-store.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { Logger } from '../log.js';
import type { RejectCounter } from '../metrics/reject-counter.js';
import type { MetricsOutbox } from '../outbox/metrics-outbox.js';
import type { ChainMonitor } from './chain-monitor.js';
import { KeyedQueue } from './keyed-queue.js';
import { heartbeatPoint, lockerEventPoint, lockerStatePoint, reportPoint } from './metric-points.js';
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

/** A message whose write is submitted but not yet committed; `stored` settles with the write. */
interface Pipelined {
  stored: Promise<boolean>;
}

export interface IngestStats {
  accepted: number;
  duplicates: number;
  reportsStored: number;
  /** Of reportsStored: those collapsed into a flood incident. */
  reportsCollapsed: number;
}

export class Ingest {
  readonly stats: IngestStats = { accepted: 0, duplicates: 0, reportsStored: 0, reportsCollapsed: 0 };
  private readonly queue = new KeyedQueue();
  /** When each device's last heartbeat point was taken (hub clock). */
  private readonly heartbeatPointAt = new Map<string, number>();
  private readonly rate: ReportRate;
  /** Each flooding device's flood incident id (touched only inside that device's queue). */
  private readonly floods = new Map<string, string>();

  constructor(private readonly deps: IngestDeps) {
    this.rate = new ReportRate(deps.reportRate ?? DEFAULT_LIMITS.reports);
  }

  private reject(reason: string, message: DevicePublish, detail?: string): false {
    this.deps.rejects.add(reason);
    this.deps.log.warn(
      { reason, detail, topic: message.topic, device: message.principal.id },
      'message rejected',
    );
    this.deps.bus.emit('ingest.rejected', { reason, topic: message.topic, clientId: message.principal.id });
    return false;
  }

  /**
   * Serialised per device, so a resend racing its original is seen as the duplicate it is. Resolves true once the
   * message is durably stored (or was a duplicate), false when it was rejected; throws when storage failed, so the
   * broker withholds its acknowledgement and the device resends.
   */
  handle(message: DevicePublish): Promise<boolean> {
    let outcome: boolean | Pipelined = false;
    return this.queue
      .run(message.principal.id, async () => {
        outcome = await this.process(message);
      })
      .then(() => (typeof outcome === 'boolean' ? outcome : outcome.stored));
  }

  /**
   * Messages with nothing to check against stored state (heartbeats, locker state) are pipelined: their write is
   * submitted in arrival order (HubDb commits in submission order, grouped with other writes) and the device's next
   * message is processed meanwhile; the caller, and so the acknowledgement, still waits for the write itself.
   */
  private pipelined(written: Promise<void>, after: () => void): Pipelined {
    const stored = written.then(() => {
      after();
      return true;
    });
    stored.catch(() => {}); // handled by handle()'s caller; this only stops an early unhandled-rejection warning
    return { stored };
  }

  private async process(message: DevicePublish): Promise<boolean | Pipelined> {
    const topic = parseTopic(message.topic);
    if (!topic) return this.reject('topic: not in the phones-away tree', message);
    const schema = schemaFor(topic);
    const parsed = parsePayload(schema, message.payload);
    if (!parsed.ok) return this.reject(`schema: ${schema}`, message, parsed.error.problems.join('; '));
    // Validated against `schema` above; each case below narrows to that schema's type.
    const value: unknown = parsed.value;
    const envelope = parsed.value as { id?: unknown; seq?: unknown };
    if (typeof envelope.id === 'string' && envelope.id !== `${topic.address.device}:${envelope.seq}`) {
      return this.reject('event id does not match device and seq', message);
    }
    const ref = topic.address;
    const { bus, outbox } = this.deps;

    switch (schema) {
      case 'report':
        await this.storeReport(ref, value as Report);
        return true;
      case 'locker-event': {
        const event = value as LockerEvent;
        const chainOps = await this.checkChain(ref, event, 'locker');
        if (await this.isDuplicate(event.id)) {
          if (chainOps.length) await this.deps.db.batch(chainOps);
          return true;
        }
        const ops = [
          ...outbox.enqueueOps([lockerEventPoint(ref, event, this.deps.now())]),
          ...chainOps,
          { type: 'put' as const, sublevel: 'dedupe' as const, key: event.id, value: 'locker-event' },
        ];
        if (event.kind === 'tamper') {
          const prepared = await this.deps.incidents.prepare({
            kind: 'tamper',
            site: ref.site,
            room: ref.room,
            device: ref.device,
            eventId: event.id,
            urgency: 'urgent',
            reportedAt: event.ts,
            receivedAt: this.deps.now(),
            ...(event.reason ? { tamperReason: event.reason } : {}),
          });
          const summary = summarise(prepared.incident);
          await this.deps.db.batch(
            [...ops.slice(0, -1), ...prepared.ops, ...(this.deps.notices?.createdOps(summary) ?? [])],
            { sync: true },
          );
          this.deps.notices?.kick();
          bus.emit('incident.created', { incident: summary });
        } else {
          // fsynced too: the device drops the event once the broker acknowledges it, so it must survive a power cut.
          await this.deps.db.batch(ops, { sync: true });
        }
        outbox.kick();
        this.stats.accepted += 1;
        bus.emit('device.locker-event', { ref, event });
        return true;
      }
      case 'locker-state': {
        const state = value as LockerState;
        return this.pipelined(outbox.enqueue([lockerStatePoint(ref, state)]), () => {
          this.stats.accepted += 1;
          bus.emit('device.locker-state', { ref, state });
        });
      }
      case 'signage-state':
        this.stats.accepted += 1;
        bus.emit('device.signage-state', { ref, state: value as SignageState });
        return true;
      case 'heartbeat': {
        const heartbeat = value as Heartbeat;
        const chainOps =
          (await this.deps.chain?.observe(ref, {
            kind: 'heartbeat',
            seq: heartbeat.seq,
            queued: heartbeat.queued,
            ...(heartbeat.prev ? { prev: heartbeat.prev } : {}),
          })) ?? [];
        // Telemetry: its point takes the outbox's memory lane (no disk write per heartbeat). A changed chain state
        // (rare: a gap window extended) is still written, pipelined behind the device's earlier writes.
        const at = this.deps.now();
        const last = this.heartbeatPointAt.get(ref.device);
        if (last === undefined || at - last >= (this.deps.heartbeatPointMs ?? 60_000) || at < last) {
          this.heartbeatPointAt.set(ref.device, at);
          outbox.offer(heartbeatPoint(ref, heartbeat, at));
        }
        const seen = () => {
          this.deps.registry.touch(ref.device, { lastSeen: this.deps.now(), software: heartbeat.software });
          this.stats.accepted += 1;
          bus.emit('device.heartbeat', { ref, heartbeat });
        };
        if (chainOps.length > 0) return this.pipelined(this.deps.db.batch(chainOps), seen);
        seen();
        return true;
      }
      case 'availability':
        this.stats.accepted += 1;
        bus.emit('device.availability', { ref, availability: value as Availability });
        return true;
      case 'update-progress':
        // The roll-out (hub/updates/fleet-updates.ts) records it with the roll-out it belongs to.
        this.stats.accepted += 1;
        bus.emit('device.update-progress', { ref, progress: value as UpdateProgress });
        return true;
      default:
        return this.reject(`schema: ${schema} is not accepted from devices`, message);
    }
  }

  /** The event's place in the device's hash chain (R7); the returned ops persist it with the event. */
  private async checkChain(ref: DeviceAddress, event: LockerEvent | Report, kind: 'locker' | 'report') {
    if (!this.deps.chain) return [];
    return this.deps.chain.observe(ref, {
      kind: 'event',
      seq: event.seq,
      hash: eventHash(event),
      ...(event.prev ? { prev: event.prev } : {}),
      ...(kind === 'report' ? { report: true } : {}),
    });
  }

  private async isDuplicate(eventId: string): Promise<boolean> {
    if ((await this.deps.db.get('dedupe', eventId)) === undefined) return false;
    this.stats.duplicates += 1;
    return true;
  }

  /** Exactly once: a resent report finds its incident and is acknowledged again, never stored twice. */
  private async storeReport(ref: DeviceAddress, report: Report): Promise<void> {
    const { incidents, outbox, bus, now } = this.deps;
    const chainOps = await this.checkChain(ref, report, 'report');
    const existing = await incidents.findByEvent(report.id);
    if (existing) {
      if (chainOps.length) await this.deps.db.batch(chainOps);
      this.stats.duplicates += 1;
      return this.acknowledge(ref, report.id, existing.ref, existing.receivedAt);
    }
    const receivedAt = now();
    if (this.rate.take(ref.device, receivedAt) === 'flood') {
      return this.storeFlooded(ref, report, chainOps, receivedAt);
    }
    this.floods.delete(ref.device);
    const prepared = await incidents.prepare({
      kind: 'report',
      site: ref.site,
      room: ref.room,
      device: ref.device,
      eventId: report.id,
      urgency: report.urgency,
      reportedAt: report.ts,
      receivedAt,
    });
    const summary = summarise(prepared.incident);
    await this.deps.db.batch(
      [
        ...prepared.ops,
        ...chainOps,
        ...outbox.enqueueOps([reportPoint(ref, report, receivedAt)]),
        ...(this.deps.notices?.createdOps(summary) ?? []),
      ],
      { sync: true },
    );
    outbox.kick();
    this.stats.accepted += 1;
    this.stats.reportsStored += 1;
    // The pupil's ack light first: the publish is queued before the dashboard's listeners run.
    const acknowledged = this.acknowledge(ref, report.id, prepared.incident.ref, receivedAt);
    this.deps.notices?.kick();
    bus.emit('incident.created', { incident: summary });
    await acknowledged;
  }

  /**
   * A report beyond the device's rate (one device's credentials pressing without limit). Still stored, fsynced and
   * acknowledged like any other, but collapsed: the first opens one urgent tamper incident ('report-flood', one
   * notice), the rest only add to its tally. Other devices are never queued behind this: each device has its own queue.
   */
  private async storeFlooded(
    ref: DeviceAddress,
    report: Report,
    chainOps: Awaited<ReturnType<Ingest['checkChain']>>,
    receivedAt: number,
  ): Promise<void> {
    const { incidents, outbox, bus } = this.deps;
    const floodId = this.floods.get(ref.device);
    const existing = floodId ? await incidents.get(floodId) : undefined;
    const point = outbox.enqueueOps([reportPoint(ref, report, receivedAt)]);
    let incident: Incident;
    if (existing) {
      incident = existing;
      const tally = { reports: (existing.flood?.reports ?? 1) + 1, lastAt: receivedAt };
      await this.deps.db.batch([...incidents.floodOps(existing, report.id, tally), ...chainOps, ...point], {
        sync: true,
      });
    } else {
      const prepared = await incidents.prepare({
        kind: 'tamper',
        site: ref.site,
        room: ref.room,
        device: ref.device,
        eventId: report.id,
        urgency: 'urgent',
        reportedAt: report.ts,
        receivedAt,
        tamperReason: REPORT_FLOOD,
      });
      incident = prepared.incident;
      const summary = summarise(incident);
      await this.deps.db.batch(
        [
          ...prepared.ops,
          ...incidents.floodOps(incident, report.id, { reports: 1, lastAt: receivedAt }),
          ...chainOps,
          ...point,
          ...(this.deps.notices?.createdOps(summary) ?? []),
        ],
        { sync: true },
      );
      this.floods.set(ref.device, incident.id);
      this.deps.log.warn({ device: ref.device, ref: incident.ref }, 'report flood: later reports collapsed');
      this.deps.notices?.kick();
      bus.emit('incident.created', { incident: summary });
    }
    outbox.kick();
    this.stats.accepted += 1;
    this.stats.reportsStored += 1;
    this.stats.reportsCollapsed += 1;
    await this.acknowledge(ref, report.id, incident.ref, receivedAt);
  }

  private async acknowledge(
    ref: DeviceAddress,
    id: string,
    incidentRef: string,
    storedAt: number,
  ): Promise<void> {
    const ack: ReportAck = { v: 1, id, ref: incidentRef, storedAt };
    await this.deps.publish(topics.reportAck(ref), JSON.stringify(ack), { qos: 1, retain: false });
  }
}
