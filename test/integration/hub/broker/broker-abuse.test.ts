/**
 * Input abuse at the broker: garbage bytes, oversized and malformed packets are dropped and counted, one connection
 * at a time, while a real device on the same broker carries on. Real aedes, raw TCP sockets, MQTT.js.
 */
import { type Socket, connect as tcpConnect } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report, ReportAck } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import {
  connectClient,
  type HubFixture,
  provisionAndConnect,
  startTestHub,
  waitFor,
} from '../../../support/hub-fixture.js';
import { remainingLength } from '../../../support/mqtt-wire.js';

const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const secret = 'correct-horse-battery-staple-1';

/** Sends bytes on a fresh connection and resolves with what came back once the broker closes it. */
function sendRaw(port: number, ...chunks: Buffer[]): Promise<{ received: Buffer; closed: true }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = tcpConnect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('broker kept the abusive connection open'));
    }, 8_000);
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(received), closed: true });
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

/** A fixed header claiming `length` bytes of body, with no body. */
const header = (type: number, length: number): Buffer => Buffer.from([type << 4, ...remainingLength(length)]);

function report(seq: number): Report {
  return {
    v: 1,
    id: `${address.device}:${seq}`,
    seq,
    ts: Date.now(),
    urgency: 'urgent',
    pressMs: 90,
    queuedMs: 0,
  };
}

describe('broker input abuse', () => {
  let fixture: HubFixture;
  let device: MqttClient;
  const acks: ReportAck[] = [];

  beforeAll(async () => {
    fixture = await startTestHub();
    device = await provisionAndConnect(fixture.hub, address, secret);
    device.on('message', (_t, payload) => acks.push(JSON.parse(payload.toString()) as ReportAck));
    await device.subscribeAsync(topics.deviceInbox(address), { qos: 1 });
  });

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
  });

  it('drops a client that sends garbage instead of CONNECT, and counts it', async () => {
    const { received } = await sendRaw(
      fixture.hub.mqttPort,
      Buffer.from('GET / HTTP/1.1\r\nHost: hub\r\n\r\n'),
    );
    expect(received.length).toBe(0);
    expect(fixture.hub.rejects.snapshot()['mqtt: E_MQTT_NOT_CONNECT']).toBe(1);
  });

  it('drops a packet declared larger than 64 KiB as soon as its header arrives, before authentication', async () => {
    await sendRaw(fixture.hub.mqttPort, header(1, 10 * 1024 * 1024));
    // A valid MQTT 3.1.1 CONNECT: protocol name, level 4, clean session, keepalive 10 s, client id 'x'.
    const connect = Buffer.from([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 10, 0, 1, 0x78]);
    await sendRaw(fixture.hub.mqttPort, connect, header(3, 200 * 1024));
    expect(fixture.hub.rejects.snapshot()['mqtt: E_MQTT_TOO_LARGE']).toBe(2);
  });

  it('drops a malformed remaining-length field and a reserved packet type', async () => {
    await sendRaw(fixture.hub.mqttPort, Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    expect(fixture.hub.rejects.snapshot()['mqtt: E_MQTT_MALFORMED']).toBe(1);
  });

  it('drops a CONNECT whose body is garbage (parser error), counted', async () => {
    const before = fixture.hub.rejects.total();
    const junk = Buffer.from('this is not an MQTT connect packet');
    await sendRaw(fixture.hub.mqttPort, Buffer.concat([header(1, junk.length), junk]));
    expect(fixture.hub.rejects.total()).toBeGreaterThan(before);
  });

  it('drops an authenticated device that publishes more than 64 KiB, and only that connection', async () => {
    const other = { ...address, room: 'room-2', device: 'room-2-locker' };
    await fixture.hub.registry.provision({
      id: other.device,
      address: other,
      secret,
      lockerMode: 'lesson',
      now: Date.now(),
    });
    const big = await connectClient(fixture.hub.mqttPort, {
      clientId: other.device,
      username: other.device,
      password: secret,
    });
    const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
    big.publish(topics.event(other, 'report'), Buffer.alloc(100 * 1024, 0x20), { qos: 1 });
    await closed;
    big.end(true);
    expect(fixture.hub.rejects.snapshot()['mqtt: E_MQTT_TOO_LARGE']).toBe(3);
    expect(await fixture.hub.incidents.findByEvent(`${other.device}:1`)).toBeUndefined();
  });

  it('a well-behaved device on the same broker kept working throughout', async () => {
    expect(device.connected).toBe(true);
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(report(1)), { qos: 1 });
    await waitFor(() => acks.find((a) => a.id === `${address.device}:1`), 'report ack');
    expect(fixture.hub.broker.connectedClients()).toBe(1);
  });
});
