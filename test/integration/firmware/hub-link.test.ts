/**
 * The device program (machine + journal + hub link) against a REAL Aedes broker on a free port and a tiny test
 * hub built on MQTT.js that acknowledges reports. The board is an in-memory BoardPort double: the real board path
 * (johnny-five, emulated Uno) has its own tests. Outages are real: the TCP listener is closed and every socket
 * destroyed, then the broker listens again on the same port with its sessions intact.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BoardPort, ButtonLight, InputEvent, Outputs } from '../../../firmware/board/board-port.js';
import { type RunningDevice, startDevice } from '../../../firmware/device.js';
import type { DeviceConfig } from '../../../schemas/config.js';
import type { Availability, Heartbeat, LockerEvent, LockerState, Report } from '../../../schemas/messages.js';
import { parseTopic, topics } from '../../../schemas/topics.js';
import { parse, parsePayload } from '../../../schemas/validate.js';
import { silentLogger } from '../../../shared/log.js';

const ADDRESS = { site: 'test-site', room: 'room-1', device: 'room-1-locker' };

/** In-memory board: inputs are pushed by the test, outputs are recorded. */
class FakeBoard implements BoardPort {
  private listener: ((event: InputEvent) => void) | null = null;
  readonly applied: Outputs[] = [];
  closed = false;

  async ready(): Promise<void> {
    // The real board reports its current levels once before ready() resolves.
    this.input({ kind: 'door', open: false });
    this.input({ kind: 'key', on: false });
  }
  onInput(listener: (event: InputEvent) => void): void {
    this.listener = listener;
  }
  apply(outputs: Outputs): void {
    this.applied.push(outputs);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  input(event: InputEvent): void {
    this.listener?.(event);
  }
  get light(): ButtonLight | undefined {
    return this.applied.at(-1)?.buttonLight;
  }
  lights(): ButtonLight[] {
    return this.applied.map((o) => o.buttonLight).filter((l, i, all) => i === 0 || all[i - 1] !== l);
  }
  async press(ms: number): Promise<void> {
    this.input({ kind: 'button', pressed: true });
    await sleep(ms);
    this.input({ kind: 'button', pressed: false });
  }
}

/** A hub in miniature: records what arrives (with its QoS) and acknowledges reports, as hub ingest will. */
class TestHub {
  readonly reports: { report: Report; qos: number }[] = [];
  readonly lockerEvents: { event: LockerEvent; qos: number }[] = [];
  readonly heartbeats: Heartbeat[] = [];
  readonly availability: Availability[] = [];
  readonly states = new Map<string, unknown>();
  autoAck = true;
  private refs = 0;

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.qos));
  }

  static async start(port: number): Promise<TestHub> {
    const client = connect(`mqtt://127.0.0.1:${port}`, {
      clientId: 'test-hub',
      clean: false,
      reconnectPeriod: 200,
    });
    const hub = new TestHub(client);
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    await client.subscribeAsync(topics.siteWildcard(ADDRESS.site), { qos: 1 });
    return hub;
  }

  uniqueReportIds(): string[] {
    return [...new Set(this.reports.map((r) => r.report.id))];
  }

  ack(id: string): void {
    this.refs += 1;
    const ref = `AB${String.fromCharCode(65 + (this.refs % 26))}${(this.refs % 8) + 2}`;
    const ack = parse('report-ack', { v: 1, id, ref, storedAt: Date.now() });
    this.client.publish(topics.reportAck(ADDRESS), JSON.stringify(ack), { qos: 1 });
  }

  private onMessage(topic: string, payload: Buffer, qos: number): void {
    const parsed = parseTopic(topic);
    if (!parsed) return;
    if (parsed.kind === 'event' && parsed.event === 'report') {
      const r = parsePayload('report', payload);
      if (!r.ok) throw r.error;
      this.reports.push({ report: r.value, qos });
      if (this.autoAck) this.ack(r.value.id); // a real hub acks every delivery, duplicates included
    } else if (parsed.kind === 'event' && parsed.event === 'locker') {
      const r = parsePayload('locker-event', payload);
      if (r.ok) this.lockerEvents.push({ event: r.value, qos });
    } else if (parsed.kind === 'event' && parsed.event === 'heartbeat') {
      const r = parsePayload('heartbeat', payload);
      if (r.ok) this.heartbeats.push(r.value);
    } else if (parsed.kind === 'availability') {
      const r = parsePayload('availability', payload);
      if (r.ok) this.availability.push(r.value);
    } else if (parsed.kind === 'state') {
      this.states.set(parsed.part, JSON.parse(payload.toString('utf8')));
    }
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** The broker: one Aedes instance (sessions survive), a TCP listener that the tests can take away and bring back. */
let broker: Aedes;
let server: Server;
let port = 0;
const sockets = new Set<Socket>();

async function listen(onPort: number): Promise<void> {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(onPort, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  port = address.port;
}

async function brokerDown(): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of sockets) socket.destroy();
  await closed;
}

let dataDir: string;
let hub: TestHub;
let devices: RunningDevice[] = [];

function deviceConfig(): DeviceConfig {
  return parse('device-config', {
    version: 1,
    site: ADDRESS.site,
    room: ADDRESS.room,
    deviceId: ADDRESS.device,
    dataDir,
    hub: { url: `mqtt://127.0.0.1:${port}`, username: ADDRESS.device, passwordFile: '/dev/null' },
    board: { kind: 'emulated-uno' },
    pins: {
      lock: 8,
      door: 2,
      key: 3,
      button: 4,
      buttonLight: 5,
      signage: { red: 9, green: 10, blue: 11 },
      slots: [6, 7],
    },
    timing: { longPressMs: 500, heldTamperMs: 5_000, confirmShowMs: 500, heartbeatMs: 1_000 },
    lockerMode: 'lesson',
  });
}

async function start(board: FakeBoard): Promise<RunningDevice> {
  const device = await startDevice({
    config: deviceConfig(),
    board,
    password: 'not-checked-by-this-broker',
    log: silentLogger,
    machine: { ackTimeoutMs: 5_000 },
  });
  devices.push(device);
  return device;
}

async function until(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<number> {
  const started = performance.now();
  while (!predicate()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
  return performance.now() - started;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function note(line: string): void {
  process.stdout.write(`hub-link: ${line}\n`);
}

beforeAll(async () => {
  broker = await Aedes.createBroker();
  await listen(0);
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => broker.close(() => resolve()));
});

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pa-device-'));
  hub = await TestHub.start(port);
});

afterEach(async () => {
  for (const device of devices) await device.stop();
  devices = [];
  await hub.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('device ↔ hub over a real Aedes broker', () => {
  it('R1: a press reaches the hub with QoS 1, the hub acks, the light shows confirmed and then ready', async () => {
    const board = new FakeBoard();
    const device = await start(board);
    await until('connected', () => device.connected());
    await until('online at hub', () => hub.availability.at(-1)?.status === 'online');

    const pressed = performance.now();
    await board.press(100);
    await until('report at hub', () => hub.reports.length === 1);
    const atHub = performance.now() - pressed - 100;
    await until('light confirmed', () => board.light === 'confirmed');
    const confirmed = performance.now() - pressed - 100;
    note(
      `release → report at hub ${atHub.toFixed(1)} ms, release → light confirmed ${confirmed.toFixed(1)} ms`,
    );

    const [{ report, qos }] = hub.reports as [{ report: Report; qos: number }];
    expect(qos).toBe(1);
    expect(report).toMatchObject({ id: `${ADDRESS.device}:${report.seq}`, urgency: 'normal' });
    // Sent at once, not held for an outage: queuedMs is only the journal write, far below the 30 s resend interval.
    expect(report.queuedMs).toBeLessThan(10_000);
    expect(board.applied.find((o) => o.buttonLight === 'confirmed')?.chirp).toBe('confirmed');
    await until('light ready again', () => board.light === 'ready', 3_000);
    expect(board.lights()).toEqual(['ready', 'sending', 'confirmed', 'ready']);
    await until('journal empty', () => device.queued() === 0);

    // Retained state reached the hub, validated on the way out.
    await until('retained states', () => hub.states.has('locker') && hub.states.has('signage'));
    parse('locker-state', hub.states.get('locker'));
    expect((hub.states.get('locker') as LockerState).locked).toBe(true);
  });

  it('R1: broker down → light stored → broker back → resent → exactly one report id at the hub', async () => {
    const board = new FakeBoard();
    const device = await start(board);
    await until('connected', () => device.connected());

    await brokerDown();
    await until('device sees the outage', () => !device.connected());
    await board.press(700); // long press: urgent
    await until('light stored', () => board.light === 'stored');
    expect(device.queued()).toBe(1);
    await sleep(1_000); // the outage lasts a while; the light must not change its story

    expect(board.light).toBe('stored');
    const back = performance.now();
    await listen(port);
    await until('light confirmed', () => board.light === 'confirmed', 15_000);
    note(
      `broker back → light confirmed ${(performance.now() - back).toFixed(0)} ms (reconnectPeriod 1500 ms)`,
    );

    expect(hub.uniqueReportIds()).toHaveLength(1);
    const delivered = hub.reports.map((r) => r.report);
    note(`deliveries of the one report: ${delivered.length}`);
    expect(delivered[0]).toMatchObject({ urgency: 'urgent' });
    expect(delivered.every((r) => r.queuedMs >= 1_000)).toBe(true); // outage evidence travels with it
    expect(hub.reports.every((r) => r.qos === 1)).toBe(true);
    expect(board.lights()).toEqual(['ready', 'sending', 'stored', 'sending', 'confirmed']);
    await until('journal empty', () => device.queued() === 0);
  });

  it('R1: a report pending at shutdown is resent by the restarted device and confirmed then', async () => {
    hub.autoAck = false; // the hub is busy: delivered, not acknowledged
    const first = new FakeBoard();
    const before = await start(first);
    await until('connected', () => before.connected());
    await first.press(100);
    await until('report at hub', () => hub.reports.length === 1);
    const id = hub.reports[0]?.report.id;
    await before.stop();
    devices = [];
    await until('offline at hub', () => hub.availability.at(-1)?.status === 'offline');

    hub.autoAck = true;
    const second = new FakeBoard();
    const after = await start(second);
    expect(after.queued()).toBe(1);
    expect(second.applied[0]?.buttonLight).toBe('stored'); // the truth at boot: a report is still waiting
    await until('light confirmed after restart', () => second.light === 'confirmed');
    expect(hub.uniqueReportIds()).toEqual([id]);
    await until('journal empty', () => after.queued() === 0);
  });

  it('R7: a locker door opened while locked reaches the hub as a tamper event (QoS 1)', async () => {
    const board = new FakeBoard();
    const device = await start(board);
    await until('connected', () => device.connected());
    board.input({ kind: 'door', open: true });
    await until('tamper at hub', () => hub.lockerEvents.some((e) => e.event.kind === 'tamper'));
    const tamper = hub.lockerEvents.find((e) => e.event.kind === 'tamper');
    expect(tamper).toMatchObject({ qos: 1, event: { reason: 'door-opened-while-locked' } });
    // Locker events leave the journal once the broker has them.
    await until('journal empty', () => device.queued() === 0);
    const chain = hub.lockerEvents.map((e) => e.event);
    expect(chain[1]?.prev).toBeDefined();
  });

  it('P1: hub commands reach the board; invalid payloads are dropped and the device carries on', async () => {
    const board = new FakeBoard();
    const device = await start(board);
    await until('connected', () => device.connected());
    await sleep(100); // let the device's subscription settle
    const set = (cmd: 'lock' | 'signage', payload: string) =>
      hub.client.publishAsync(topics.set(ADDRESS, cmd), payload, { qos: 1 });
    await set('lock', 'not json');
    await set(
      'lock',
      JSON.stringify({ v: 1, id: 'c1', ts: Date.now(), kind: 'lock', locked: 'yes', reason: 'x' }),
    );
    await set(
      'lock',
      JSON.stringify({ v: 1, id: 'c2', ts: Date.now(), kind: 'signage', mode: 'phones-away' }),
    );
    await set(
      'lock',
      JSON.stringify({ v: 1, id: 'c3', ts: Date.now(), kind: 'lock', locked: false, reason: 'staff' }),
    );
    await set(
      'signage',
      JSON.stringify({ v: 1, id: 'c4', ts: Date.now(), kind: 'signage', mode: 'authorised-use' }),
    );
    await until('unlocked with P6 signage', () => {
      const o = board.applied.at(-1);
      return o?.locked === false && o.signage === 'authorised-use';
    });
    expect(board.applied.some((o) => o.signage === 'phones-away')).toBe(false); // mismatched topic dropped
    expect(device.connected()).toBe(true);
  });

  it('S8: heartbeats carry the software version, queued count and board kind', async () => {
    const board = new FakeBoard();
    const device = await start(board);
    await until('connected', () => device.connected());
    await until('heartbeat', () => hub.heartbeats.length > 0, 3_000);
    expect(hub.heartbeats[0]).toMatchObject({ software: '0.1.0', queued: 0, board: 'emulated-uno' });
  });
});
