/**
 * A light classroom device for fault tests and benchmarks: one MQTT.js client speaking the real device protocol
 * (firmware/device.ts + hub-link.ts) without a board. A report stays in its journal until the hub's ReportAck and is
 * resent with the same id on every connect and when stale; a locker event stays until the broker's PUBACK.
 * Heartbeats are QoS 0 and not journalled, as on the device.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { eventHash } from '../../schemas/event-hash.js';
import type { Heartbeat, LockerEvent, Report, ReportAck } from '../../schemas/messages.js';
import { type DeviceAddress, topics } from '../../schemas/topics.js';

export interface SimDeviceOptions {
  port: number;
  address: DeviceAddress;
  secret: string;
  /** Unacknowledged reports are resent this long after their last send. */
  resendAfterMs?: number;
  reconnectPeriodMs?: number;
  /** The device's own clock: fault tests make it jump. */
  clock?: () => number;
  /** Sequence to continue from (a restarted device keeps its journal's sequence). */
  startSeq?: number;
  /**
   * Chain its events as the real device does (firmware/event-journal.ts): each durable event's `prev` is the hash of
   * the one before, heartbeats carry the head. So the hub's chain checks (R7) run on what this device sends.
   */
  chained?: boolean;
}

interface PendingItem {
  kind: 'report' | 'locker';
  topic: string;
  body: string;
  sentAt?: number;
}

export class SimDevice {
  readonly address: DeviceAddress;
  readonly sent = { reports: [] as string[], lockers: [] as string[], heartbeats: 0 };
  readonly acks = new Map<string, ReportAck>();
  /** performance.now() at each report's first send and at its ack: the round trip as the device sees it. */
  readonly reportSentAt = new Map<string, number>();
  readonly ackedAt = new Map<string, number>();
  /** The journal: what has not been confirmed yet. */
  readonly pending = new Map<string, PendingItem>();
  private client: MqttClient | null = null;
  private seq: number;
  /** Hash of the newest durable event (chained devices only). */
  private head: string | undefined;
  private readonly clock: () => number;
  private readonly bootAt: number;
  private resendTimer: NodeJS.Timeout | null = null;
  connects = 0;

  constructor(private readonly opts: SimDeviceOptions) {
    this.address = opts.address;
    this.seq = opts.startSeq ?? 0;
    this.clock = opts.clock ?? Date.now;
    this.bootAt = Date.now();
  }

  get id(): string {
    return this.address.device;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Connects (and keeps reconnecting); resolves on the first CONNACK. */
  start(): Promise<void> {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port: this.opts.port,
      clientId: this.id,
      username: this.id,
      password: this.opts.secret,
      clean: false,
      keepalive: 10,
      reconnectPeriod: this.opts.reconnectPeriodMs ?? 300,
      connectTimeout: 5_000,
      queueQoSZero: false,
    });
    this.client = client;
    client.on('connect', (connack) => {
      // As the real device does (firmware/hub-link.ts): a report must not wait behind Nagle for the ACK of what went
      // before it (without it, a light device's publishes and acks left in clusters about 40 ms apart).
      (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
      this.connects += 1;
      if (this.connects === 1 || !connack.sessionPresent) {
        client.subscribe(topics.deviceInbox(this.address), { qos: 1 });
      }
      for (const [id, item] of this.pending) this.send(id, item);
    });
    client.on('message', (topic, payload) => {
      if (topic !== topics.reportAck(this.address)) return;
      const ack = JSON.parse(payload.toString()) as ReportAck;
      if (!this.acks.has(ack.id)) this.ackedAt.set(ack.id, performance.now());
      this.acks.set(ack.id, ack);
      this.pending.delete(ack.id);
    });
    client.on('error', () => {}); // reconnects by itself; refusals show up as no progress
    const resendAfterMs = this.opts.resendAfterMs ?? 2_000;
    this.resendTimer = setInterval(
      () => {
        const now = Date.now();
        for (const [id, item] of this.pending) {
          if (item.kind === 'report' && (item.sentAt === undefined || now - item.sentAt >= resendAfterMs))
            this.send(id, item);
        }
      },
      Math.max(100, resendAfterMs / 2),
    );
    return new Promise((resolve) => client.once('connect', () => resolve()));
  }

  private send(id: string, item: PendingItem): void {
    const client = this.client;
    if (!client?.connected) return;
    item.sentAt = Date.now();
    client.publish(item.topic, item.body, { qos: 1 }, (error) => {
      // A locker event leaves the journal on PUBACK (the hub acks after its durable ingest).
      if (!error && item.kind === 'locker') this.pending.delete(id);
    });
  }

  private nextEnvelope() {
    this.seq += 1;
    const prev = this.opts.chained ? this.head : undefined;
    return {
      v: 1 as const,
      id: `${this.id}:${this.seq}`,
      seq: this.seq,
      ts: this.clock(),
      ...(prev ? { prev } : {}),
    };
  }

  /** The event becomes the chain's head (chained devices only). */
  private link(event: Report | LockerEvent): void {
    if (this.opts.chained) this.head = eventHash(event);
  }

  report(urgency: Report['urgency'] = 'normal'): string {
    const report: Report = { ...this.nextEnvelope(), urgency, pressMs: 120, queuedMs: 0 };
    this.link(report);
    const item: PendingItem = {
      kind: 'report',
      topic: topics.event(this.address, 'report'),
      body: JSON.stringify(report),
    };
    this.pending.set(report.id, item);
    this.sent.reports.push(report.id);
    this.reportSentAt.set(report.id, performance.now());
    this.send(report.id, item);
    return report.id;
  }

  lockerEvent(kind: LockerEvent['kind'], phones: number): string {
    const event: LockerEvent = { ...this.nextEnvelope(), kind, phones };
    this.link(event);
    const item: PendingItem = {
      kind: 'locker',
      topic: topics.event(this.address, 'locker'),
      body: JSON.stringify(event),
    };
    this.pending.set(event.id, item);
    this.sent.lockers.push(event.id);
    this.send(event.id, item);
    return event.id;
  }

  heartbeat(): void {
    if (!this.client?.connected) return;
    const hb: Heartbeat = {
      ...this.nextEnvelope(),
      uptimeS: Math.floor((Date.now() - this.bootAt) / 1000),
      software: '0.1.0',
      queued: this.pending.size,
      board: 'emulated-uno',
    };
    this.sent.heartbeats += 1;
    this.client.publish(topics.event(this.address, 'heartbeat'), JSON.stringify(hb), { qos: 0 });
  }

  /** Publishes raw bytes on one of its own topics (fuzzing). */
  publishRaw(kind: 'report' | 'locker' | 'heartbeat', payload: Buffer | string): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('not started'));
    return client.publishAsync(topics.event(this.address, kind), payload, { qos: 1 }).then(() => {});
  }

  /** Drops the connection without a goodbye (network gone); events keep piling up in the journal. */
  goOffline(): void {
    this.client?.end(true);
    this.client = null;
    if (this.resendTimer) clearInterval(this.resendTimer);
    this.resendTimer = null;
  }

  /** Back online with the journal intact. */
  goOnline(): Promise<void> {
    return this.start();
  }

  async stop(): Promise<void> {
    if (this.resendTimer) clearInterval(this.resendTimer);
    this.resendTimer = null;
    const client = this.client;
    this.client = null;
    if (client) await client.endAsync(true).catch(() => {});
  }
}
