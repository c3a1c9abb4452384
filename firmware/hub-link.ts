/**
 * The device's only MQTT I/O. One persistent session per device (clientId = deviceId, clean: false), so QoS 1
 * commands and acks sent while the device was away are delivered when it returns. A retained last will marks
 * the device offline when the connection dies; a retained 'online' is published on every connect.
 *
 * Every outgoing message is validated against its schema before it leaves (a bug is caught at the source);
 * every incoming payload is validated and dropped with a log line if bad, never thrown.
 *
 * The link does not queue: publishing while disconnected fails fast with E_LINK_OFFLINE, because the
 * journal is the queue and the device resends from it on every connect (see firmware/device.ts).
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type {
  Availability,
  Command,
  Heartbeat,
  LockerEvent,
  LockerState,
  Report,
  ReportAck,
  SignageState,
  UpdateProgress,
} from '../schemas/messages.js';
import { type DeviceAddress, parseTopic, topics } from '../schemas/topics.js';
import { parse, parsePayload } from '../schemas/validate.js';
import type { Logger } from '../shared/log.js';
import { type BackoffOptions, backoffDelay, LINK_BACKOFF } from './backoff.js';

export type LinkLog = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export class LinkError extends Error {
  constructor(
    readonly code: 'E_LINK_OFFLINE' | 'E_LINK_STOPPED' | 'E_LINK_PUBLISH',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LinkError';
  }
}

/** mqtt.js options the caller may add (TLS material, protocol version …); identity and session are ours. */
export type LinkMqttExtras = Omit<
  IClientOptions,
  'clientId' | 'username' | 'password' | 'clean' | 'will' | 'keepalive' | 'reconnectPeriod'
>;

export interface HubLinkOptions {
  address: DeviceAddress;
  url: string;
  clientId: string;
  username: string;
  password: string;
  log: LinkLog;
  clock?: () => number;
  keepaliveS?: number;
  /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs, ±20 % jitter. Default 1000 ms. */
  reconnectPeriodMs?: number;
  /** Default 30000 ms. */
  reconnectMaxMs?: number;
  /** Randomness for the jitter (tests pass a fixed one). */
  random?: () => number;
  connectTimeoutMs?: number;
  mqtt?: LinkMqttExtras;
}

export interface HubLinkEvents {
  connected: { sessionPresent: boolean };
  disconnected: { reason: string };
  command: Command;
  ack: ReportAck;
  /** The broker refused the connection (CONNACK code): bad credentials, or a device awaiting approval (S4). */
  refused: { code: number; message: string };
}

type Listener<K extends keyof HubLinkEvents> = (payload: HubLinkEvents[K]) => void;

export class HubLink {
  private client: MqttClient | null = null;
  private isConnected = false;
  private stopped = false;
  private firstConnect = true;
  private readonly clock: () => number;
  private readonly listeners: { [K in keyof HubLinkEvents]: Set<Listener<K>> } = {
    connected: new Set(),
    disconnected: new Set(),
    command: new Set(),
    ack: new Set(),
    refused: new Set(),
  };
  private readonly backoff: BackoffOptions;
  private attempt = 0;
  private password: string;
  /** Events handed to mqtt.js and not yet PUBACKed: mqtt.js itself resends those after a reconnect. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** Latest retained state per topic, republished on every connect so the broker never keeps an old one. */
  private readonly retained = new Map<string, LockerState | SignageState>();

  /** Does nothing until start(), so construction never touches the network. */
  constructor(private readonly opts: HubLinkOptions) {
    this.clock = opts.clock ?? Date.now;
    this.password = opts.password;
    this.backoff = {
      ...LINK_BACKOFF,
      ...(opts.reconnectPeriodMs ? { baseMs: opts.reconnectPeriodMs } : {}),
      ...(opts.reconnectMaxMs ? { maxMs: opts.reconnectMaxMs } : {}),
    };
  }

  /** The password for the next connects (enrolment: the plain secret once the hub has approved us). */
  setPassword(password: string): void {
    this.password = password;
    if (this.client) this.client.options.password = password;
  }

  /** The delay mqtt.js waits before its next attempt: jittered exponential backoff (see backoff.ts). */
  get reconnectDelayMs(): number | undefined {
    return this.client?.options.reconnectPeriod;
  }

  private nextDelay(): number {
    return backoffDelay(this.attempt, (this.opts.random ?? Math.random)(), this.backoff);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  on<K extends keyof HubLinkEvents>(event: K, listener: Listener<K>): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  start(): void {
    if (this.client) return;
    const { address, log } = this.opts;
    const will: Availability = { v: 1, ts: this.clock(), status: 'offline' };
    const client = connect(this.opts.url, {
      ...this.opts.mqtt,
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.password,
      clean: false,
      keepalive: this.opts.keepaliveS ?? 10,
      reconnectPeriod: this.nextDelay(),
      // mqtt.js 5 stops for good after a refused CONNACK unless told otherwise; a device must keep trying (a pending
      // device awaiting approval, S4; a hub briefly unable to check credentials), at the backoff's pace.
      reconnectOnConnackError: true,
      connectTimeout: this.opts.connectTimeoutMs ?? 5_000,
      // The journal queues; mqtt.js must not queue heartbeats while offline.
      queueQoSZero: false,
      will: {
        topic: topics.availability(address),
        payload: Buffer.from(JSON.stringify(parse('availability', will))),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;

    // mqtt.js waits a fixed reconnectPeriod, read when the connection closes. Each attempt raises the period for the
    // next close; a successful connect resets it to about baseMs.
    client.on('reconnect', () => {
      this.attempt += 1;
      client.options.reconnectPeriod = this.nextDelay();
    });
    client.on('connect', (connack) => {
      // A report is one small packet: it must not wait for the ACK of whatever went before it (Nagle). mqtt.js
      // leaves the socket (TCP or TLS) as Node made it; the hub sets the same on its side.
      (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
      this.attempt = 0;
      client.options.reconnectPeriod = this.nextDelay();
      this.isConnected = true;
      const sessionPresent = connack.sessionPresent === true;
      log.info({ sessionPresent }, 'link: connected to hub');
      // mqtt.js resubscribes by itself only for filters it subscribed in this process.
      if (this.firstConnect || !sessionPresent) {
        client.subscribe(topics.deviceInbox(address), { qos: 1 }, (error) => {
          if (error) log.error({ err: error.message }, 'link: subscribe failed');
        });
      }
      this.firstConnect = false;
      this.publishAvailability('online');
      for (const [topic, state] of this.retained) this.publishRetained(topic, state);
      this.emit('connected', { sessionPresent });
    });
    client.on('close', () => this.markDown('connection closed'));
    client.on('offline', () => this.markDown('offline'));
    client.on('error', (error) => {
      // Never fatal: mqtt.js keeps reconnecting (refusals included, see reconnectOnConnackError above).
      log.warn({ err: error.message }, 'link: mqtt error');
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') this.emit('refused', { code, message: error.message });
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  /** QoS 1; resolves on PUBACK. Safe to call again for the same id: the hub dedupes by id. */
  publishReport(report: Report): Promise<void> {
    return this.publishEvent('report', report.id, parse('report', report));
  }

  publishLockerEvent(event: LockerEvent): Promise<void> {
    return this.publishEvent('locker', event.id, parse('locker-event', event));
  }

  /** QoS 0: a lost heartbeat is replaced by the next one. */
  /** QoS 1, not journaled: a lost progress report is replaced by the next (the retained offer brings one on connect). */
  async publishUpdateProgress(progress: UpdateProgress): Promise<void> {
    const client = this.requireConnected();
    const body = JSON.stringify(parse('update-progress', progress));
    await client.publishAsync(topics.event(this.opts.address, 'update'), body, { qos: 1 });
  }

  async publishHeartbeat(heartbeat: Heartbeat): Promise<void> {
    const client = this.requireConnected();
    const body = JSON.stringify(parse('heartbeat', heartbeat));
    await client.publishAsync(topics.event(this.opts.address, 'heartbeat'), body, { qos: 0 });
  }

  /** Retained QoS 1. Remembered, so the latest state is (re)published on connect even if it changed offline. */
  publishState(part: 'locker', state: LockerState): void;
  publishState(part: 'signage', state: SignageState): void;
  publishState(part: 'locker' | 'signage', state: LockerState | SignageState): void {
    const valid = part === 'locker' ? parse('locker-state', state) : parse('signage-state', state);
    const topic = topics.state(this.opts.address, part);
    this.retained.set(topic, valid);
    if (this.isConnected) this.publishRetained(topic, valid);
  }

  /** Says goodbye (retained 'offline', since a clean DISCONNECT suppresses the will) and closes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const client = this.client;
    if (!client) return;
    if (this.isConnected) {
      const offline: Availability = { v: 1, ts: this.clock(), status: 'offline' };
      const bye = client.publishAsync(topics.availability(this.opts.address), JSON.stringify(offline), {
        qos: 1,
        retain: true,
      });
      await withTimeout(bye, 2_000).catch((error: unknown) =>
        this.opts.log.warn({ err: String(error) }, 'link: offline availability not confirmed'),
      );
    }
    await withTimeout(client.endAsync(), 2_000).catch(() => client.end(true));
    this.markDown('stopped');
    this.inflight.clear();
  }

  private publishEvent(kind: 'report' | 'locker', id: string, event: Report | LockerEvent): Promise<void> {
    const existing = this.inflight.get(id);
    if (existing) return existing;
    let client: MqttClient;
    try {
      client = this.requireConnected();
    } catch (error) {
      return Promise.reject(error);
    }
    const sent = client
      .publishAsync(topics.event(this.opts.address, kind), JSON.stringify(event), { qos: 1 })
      .then(
        () => undefined,
        (error: unknown) => {
          throw new LinkError('E_LINK_PUBLISH', `publish of ${id} failed: ${String(error)}`, {
            cause: error,
          });
        },
      )
      .finally(() => this.inflight.delete(id));
    this.inflight.set(id, sent);
    return sent;
  }

  private publishRetained(topic: string, state: LockerState | SignageState): void {
    this.client?.publish(topic, JSON.stringify(state), { qos: 1, retain: true }, (error) => {
      if (error) this.opts.log.debug({ topic, err: error.message }, 'link: retained state not confirmed');
    });
  }

  private publishAvailability(status: Availability['status']): void {
    const body: Availability = parse('availability', { v: 1, ts: this.clock(), status });
    this.client?.publish(topics.availability(this.opts.address), JSON.stringify(body), {
      qos: 1,
      retain: true,
    });
  }

  private requireConnected(): MqttClient {
    if (this.stopped) throw new LinkError('E_LINK_STOPPED', 'link is stopped');
    if (!this.client || !this.isConnected) throw new LinkError('E_LINK_OFFLINE', 'not connected to the hub');
    return this.client;
  }

  private markDown(reason: string): void {
    if (!this.isConnected) return;
    this.isConnected = false;
    this.opts.log.info({ reason }, 'link: disconnected from hub');
    this.emit('disconnected', { reason });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const { log, address } = this.opts;
    const parsed = parseTopic(topic);
    if (
      !parsed ||
      parsed.address.site !== address.site ||
      parsed.address.room !== address.room ||
      parsed.address.device !== address.device
    ) {
      log.warn({ topic }, 'link: message on a topic that is not ours dropped');
      return;
    }
    if (parsed.kind === 'set') {
      const result = parsePayload('command', payload);
      if (!result.ok) {
        log.warn({ topic, problems: result.error.problems }, 'link: invalid command dropped');
        return;
      }
      if (result.value.kind !== parsed.command) {
        log.warn({ topic, kind: result.value.kind }, 'link: command kind does not match its topic, dropped');
        return;
      }
      this.emit('command', result.value);
      return;
    }
    if (parsed.kind === 'ack') {
      const result = parsePayload('report-ack', payload);
      if (!result.ok) {
        log.warn({ topic, problems: result.error.problems }, 'link: invalid report ack dropped');
        return;
      }
      this.emit('ack', result.value);
      return;
    }
    log.warn({ topic }, 'link: unexpected message dropped');
  }

  private emit<K extends keyof HubLinkEvents>(event: K, payload: HubLinkEvents[K]): void {
    for (const listener of this.listeners[event]) {
      try {
        listener(payload);
      } catch (error) {
        // One failing listener must not stop a command or ack reaching the others.
        this.opts.log.error({ event, err: String(error) }, 'link: listener failed');
      }
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
