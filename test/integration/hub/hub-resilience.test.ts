/**
 * What the hub must survive without losing or leaking anything, against real parts: aedes on a loopback port,
 * MQTT.js clients and raw sockets, LevelDB, a private influxd that is hung and killed, and the hub itself stopped and
 * started again on the same data directory. Time for the policy driver is a fake clock the test moves.
 */
import { connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolPassword } from '../../../hub/devices/enrolment.js';
import { parseClock, zonedTime } from '../../../hub/policy/calendar.js';
import { quoteString } from '../../../hub/store/influxql.js';
import type { Command, LockerEvent, Report } from '../../../schemas/messages.js';
import { type DeviceAddress, topics } from '../../../schemas/topics.js';
import { connectClient, type HubFixture, startTestHub, waitFor } from '../../support/hub-fixture.js';
import { connectPacket, publishQos0, publishQos1 } from '../../support/mqtt-wire.js';

const WED = '2026-09-02'; // first day of the autumn term in the demo school
const at = (hhmm: string) => zonedTime(WED, parseClock(hhmm), 'Europe/London');
const room1: DeviceAddress = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const room2: DeviceAddress = { site: 'demo-school', room: 'room-2', device: 'room-2-locker' };
const secret = 'correct-horse-battery-staple-9';

const lockerEvent = (a: DeviceAddress, seq: number, kind: LockerEvent['kind'] = 'phones-changed'): string =>
  JSON.stringify({
    v: 1,
    id: `${a.device}:${seq}`,
    seq,
    ts: Date.now(),
    kind,
    phones: seq % 30,
  } satisfies LockerEvent);
const report = (a: DeviceAddress, seq: number): Report => ({
  v: 1,
  id: `${a.device}:${seq}`,
  seq,
  ts: Date.now(),
  urgency: 'normal',
  pressMs: 140,
  queuedMs: 0,
});

/** Sends bytes in one write, and resolves with what came back once the broker closes the connection. */
function pipelined(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => socket.write(bytes));
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('broker kept the connection of an unapproved device open'));
    }, 8_000);
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received));
    });
  });
}

/** Connects with MQTT.js and resolves with the client and its CONNACK (for sessionPresent). */
function connectWithAck(
  port: number,
  a: DeviceAddress,
  options: IClientOptions = {},
): Promise<{ client: MqttClient; sessionPresent: boolean }> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port,
      clientId: a.device,
      username: a.device,
      password: secret,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...options,
    });
    client.once('connect', (connack) => resolve({ client, sessionPresent: connack.sessionPresent }));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
  });
}

async function countPoints(fixture: HubFixture, measurement: string, device: string): Promise<number> {
  const series = await fixture.hub.store.query(
    `SELECT count("phones") FROM "${measurement}" WHERE "device" = ${quoteString(device)}`,
  );
  return (series[0]?.values[0]?.[1] as number | undefined) ?? 0;
}

describe('hub resilience (real aedes, MQTT.js, influxd; hub restarted on its data dir)', () => {
  let fixture: HubFixture;
  let clock = at('08:55');
  /** Room 2's device, connected in the S5 case and used by the later ones. */
  let other: MqttClient;
  const clients: MqttClient[] = [];
  const track = (c: MqttClient) => {
    clients.push(c);
    return c;
  };
  const device = async (a: DeviceAddress, options: IClientOptions = {}) =>
    track(
      await connectClient(fixture.hub.mqttPort, {
        clientId: a.device,
        username: a.device,
        password: secret,
        ...options,
      }),
    );

  beforeAll(async () => {
    fixture = await startTestHub({ now: () => clock });
    for (const a of [room1, room2])
      await fixture.hub.registry.provision({
        id: a.device,
        address: a,
        secret,
        lockerMode: 'lesson',
        now: clock,
      });
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await fixture?.dispose();
  });

  it('S4: a pending device is refused, and messages pipelined behind its CONNECT are never ingested', async () => {
    const pending: DeviceAddress = { site: 'demo-school', room: 'room-3', device: 'room-3-newcomer' };
    const issued = await fixture.hub.devices.tokens.issue({
      maxUses: 1,
      ttlMs: 3_600_000,
      createdBy: 'test',
      now: Date.now(),
    });
    await expect(
      connectClient(fixture.hub.mqttPort, {
        clientId: pending.device,
        username: pending.device,
        password: enrolPassword(issued.token, secret),
      }),
    ).rejects.toThrow(/Not authorized/i);
    expect((await fixture.hub.registry.get(pending.device))?.status).toBe('pending');

    const before = { ...fixture.hub.ingest.stats };
    // Not waiting for CONNACK: CONNECT, a report (QoS 0) and a locker event (QoS 1) in a single TCP write. The
    // device's own address is used so the only thing standing in the way is the approval (S4), not the ACL.
    const reply = await pipelined(
      fixture.hub.mqttPort,
      Buffer.concat([
        connectPacket(pending.device, secret),
        publishQos0(topics.event(pending, 'report'), JSON.stringify(report(pending, 1))),
        publishQos1(topics.event(pending, 'locker'), lockerEvent(pending, 2, 'tamper'), 1),
      ]),
    );
    expect([...reply.subarray(0, 4)]).toEqual([0x20, 2, 0, 5]); // CONNACK: not authorised, and nothing else
    expect(fixture.hub.ingest.stats).toEqual(before);
    expect(await fixture.hub.incidents.findByEvent(`${pending.device}:1`)).toBeUndefined();
    expect(await fixture.hub.incidents.findByEvent(`${pending.device}:2`)).toBeUndefined();
    await fixture.hub.outbox.drain();
    expect(await countPoints(fixture, 'locker_event', pending.device)).toBe(0);
    expect(fixture.hub.rejects.snapshot()['auth: awaiting approval']).toBeGreaterThanOrEqual(2);
  });

  it('S5: a device subscribing to # (or the site, or another inbox) gets SUBACK 0x80 and hears no other device', async () => {
    const snoop = await device(room1);
    const heard: string[] = [];
    snoop.on('message', (topic) => heard.push(topic));
    // MQTT.js rejects a SUBACK that refuses any filter; the packet on the error is the broker's answer.
    const refused = (await snoop
      .subscribeAsync(['#', topics.siteWildcard('demo-school'), ...topics.deviceInbox(room2), '$SYS/#'], {
        qos: 1,
      })
      .catch((error: unknown) => error)) as { packet?: { granted?: unknown[] } };
    expect(refused.packet?.granted).toEqual([128, 128, 128, 128, 128]);
    expect(snoop.connected).toBe(true);

    // Room 2 works normally beside it: a report acknowledged, state published, commands received.
    other = await device(room2);
    const room2Heard: string[] = [];
    other.on('message', (topic) => room2Heard.push(topic));
    await other.subscribeAsync(topics.deviceInbox(room2), { qos: 1 });
    await other.publishAsync(topics.event(room2, 'report'), JSON.stringify(report(room2, 1)), { qos: 1 });
    await other.publishAsync(topics.event(room2, 'locker'), lockerEvent(room2, 2), { qos: 1 });
    await fixture.hub.policy.driver.refreshDevice(room2.device);
    await waitFor(() => room2Heard.includes(topics.reportAck(room2)), 'room 2 report ack');
    await waitFor(() => room2Heard.includes(topics.set(room2, 'lock')), 'room 2 lock command');

    // The snoop is alive and listening: its own inbox still works, and that is all it ever heard.
    await snoop.subscribeAsync(topics.deviceInbox(room1), { qos: 1 });
    await fixture.hub.policy.driver.refreshDevice(room1.device);
    await waitFor(() => heard.includes(topics.set(room1, 'lock')), 'room 1 own lock command');
    const own = `phones-away/v1/demo-school/room-1/room-1-locker/`;
    expect(heard.filter((t) => !t.startsWith(own))).toEqual([]);
    expect(fixture.hub.rejects.snapshot()['subscribe: devices subscribe only to their own inbox']).toBe(5);
    snoop.end(true);
  });

  it('exactly once: a QoS 1 locker event resent with the DUP flag is acknowledged again and stored once', async () => {
    const before = { ...fixture.hub.ingest.stats };
    const body = lockerEvent(room2, 3, 'door-opened');
    await other.publishAsync(topics.event(room2, 'locker'), body, { qos: 1 });
    // The device did not see the PUBACK (say) and resends the same event, flagged as a duplicate delivery.
    await other.publishAsync(topics.event(room2, 'locker'), body, { qos: 1, dup: true });
    await other.publishAsync(topics.event(room2, 'locker'), body, { qos: 1, dup: true });
    expect(fixture.hub.ingest.stats.accepted - before.accepted).toBe(1);
    expect(fixture.hub.ingest.stats.duplicates - before.duplicates).toBe(2);
    await fixture.hub.outbox.drain();
    const series = await fixture.hub.store.query(
      `SELECT "seq" FROM "locker_event" WHERE "device" = ${quoteString(room2.device)} AND "kind" = 'door-opened'`,
    );
    expect(series[0]?.values.map((v) => v[1])).toEqual([3]);
  });

  it('D5: influxd hung (SIGSTOP) for a while: events are still acknowledged; resumed, nothing is lost', async () => {
    const influxd = fixture.hub.influxd;
    if (!influxd) throw new Error('the test hub runs its own influxd');
    await fixture.hub.outbox.drain();
    const stored = await countPoints(fixture, 'locker_event', room2.device);
    influxd.kill('SIGSTOP');
    try {
      for (let seq = 10; seq < 40; seq++)
        await other.publishAsync(topics.event(room2, 'locker'), lockerEvent(room2, seq), { qos: 1 }); // PUBACK = on disk
      await new Promise((r) => setTimeout(r, 1_500)); // a while: the outbox is stuck on a write that cannot finish
      expect(await fixture.hub.outbox.pending()).toBeGreaterThan(0);
      expect(await fixture.hub.store.ping()).toBe(false);
    } finally {
      influxd.kill('SIGCONT');
    }
    await fixture.hub.outbox.drain();
    expect(await countPoints(fixture, 'locker_event', room2.device)).toBe(stored + 30);
  });

  it('D5: influxd killed (SIGKILL): the hub starts it again by itself and the outbox delivers everything, no restart of the hub', async () => {
    const influxd = fixture.hub.influxd;
    if (!influxd) throw new Error('the test hub runs its own influxd');
    await fixture.hub.outbox.drain();
    const stored = await countPoints(fixture, 'locker_event', room2.device);
    const { pid, url } = influxd;
    const restarts = influxd.supervision.restarts;
    influxd.kill('SIGKILL');
    await influxd.exited;
    for (let seq = 40; seq < 60; seq++)
      await other.publishAsync(topics.event(room2, 'locker'), lockerEvent(room2, seq), { qos: 1 });
    await waitFor(() => influxd.supervision.restarts === restarts + 1, 'influxd started again');
    expect(influxd.pid).not.toBe(pid);
    expect(fixture.hub.influxUrl).toBe(url); // same address: dashboards and backups keep working
    await fixture.hub.outbox.drain();
    expect(await countPoints(fixture, 'locker_event', room2.device)).toBe(stored + 20);
  });

  it('a device reconnecting before its old connection is gone (takeover) counts as having resumed its session', async () => {
    const first = await connectWithAck(fixture.hub.mqttPort, room1, { clean: false });
    track(first.client);
    await first.client.subscribeAsync(topics.deviceInbox(room1), { qos: 1 });
    const oldClosed = new Promise<void>((resolve) => first.client.once('close', () => resolve()));
    // Same client id while the first connection is still open: the broker closes the old one (MQTT-3.1.4-2).
    const second = await connectWithAck(fixture.hub.mqttPort, room1, { clean: false });
    track(second.client);
    await oldClosed;
    await sleep(50); // let the old connection's disconnect run through the broker's listeners
    expect(second.sessionPresent).toBe(true);
    expect(fixture.hub.broker.sessionResumed(room1.device)).toBe(true);
    await second.client.endAsync();
    await waitFor(() => !fixture.hub.broker.sessionResumed(room1.device), 'not resumed once disconnected');
  });

  it('hub stopped and started on the same data dir: the queued command, the outbox and the incidents survive', async () => {
    // Room 1 with a persistent session (clean: false), subscribed at QoS 1, then away.
    const first = await connectWithAck(fixture.hub.mqttPort, room1, { clean: false });
    track(first.client);
    await first.client.subscribeAsync(topics.deviceInbox(room1), { qos: 1 });
    const acks: string[] = [];
    first.client.on('message', (topic, payload) => {
      if (topic === topics.reportAck(room1)) acks.push(payload.toString());
    });
    const r = report(room1, 1);
    await first.client.publishAsync(topics.event(room1, 'report'), JSON.stringify(r), { qos: 1 });
    await waitFor(() => acks.length > 0, 'report ack');
    const incident = await fixture.hub.incidents.findByEvent(r.id);
    expect(incident).toBeDefined();
    await first.client.endAsync();

    // InfluxDB hangs (a crashed one is started again at once: the test before); room 2's events pile up in the outbox.
    await fixture.hub.outbox.drain();
    const storedBefore = await countPoints(fixture, 'locker_event', room2.device);
    fixture.hub.influxd?.kill('SIGSTOP');
    for (let seq = 100; seq < 120; seq++)
      await other.publishAsync(topics.event(room2, 'locker'), lockerEvent(room2, seq), { qos: 1 });
    expect(await fixture.hub.outbox.pending()).toBeGreaterThanOrEqual(20);

    // The 11:00 bell (break) while room 1 is away: its unlock command is queued in room 1's session. (From 08:40
    // registration the locker is already locked, so 09:00 sends no lock command: P1, P5.)
    clock = at('11:00');
    await fixture.hub.policy.driver.tick(clock);
    await fixture.stop();

    clock = at('11:01');
    const dataDir = fixture.dataDir;
    fixture = await startTestHub({ dataDir, now: () => clock });

    // Back without subscribing again. The restarted driver has since re-sent room 1's commands at 11:01, so the
    // retained lock command is the 11:01 one: a command stamped 11:00 can only come from the stored session queue.
    const back = await connectWithAck(fixture.hub.mqttPort, room1, { clean: false });
    track(back.client);
    expect(back.sessionPresent).toBe(true);
    const received: Command[] = [];
    back.client.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()) as Command));
    const queued = await waitFor(
      () => received.find((c) => c.kind === 'lock' && c.ts === at('11:00')),
      'the lock command queued at 11:00',
    );
    expect(queued).toMatchObject({ locked: false, reason: 'timetable' });

    // The outbox's pending points reach the new influxd (same data dir): these 20 on top of what it held before.
    await fixture.hub.outbox.drain();
    expect(await countPoints(fixture, 'locker_event', room2.device)).toBe(storedBefore + 20);
    expect(await fixture.hub.incidents.findByEvent(r.id)).toMatchObject({
      ref: incident?.ref,
      room: 'room-1',
    });
  });
});
