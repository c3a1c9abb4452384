/**
 * The hub against real parts: aedes on a loopback socket, MQTT.js clients, LevelDB and a private influxd.
 */
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

const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const secret = 'correct-horse-battery-staple-1';

function report(seq: number, overrides: Partial<Report> = {}): Report {
  return {
    v: 1,
    id: `${address.device}:${seq}`,
    seq,
    ts: Date.now(),
    urgency: 'normal',
    pressMs: 150,
    queuedMs: 0,
    ...overrides,
  };
}

describe('hub ingest (real aedes, real influxd)', () => {
  let fixture: HubFixture;
  let device: MqttClient;
  const acks: ReportAck[] = [];

  beforeAll(async () => {
    fixture = await startTestHub();
    device = await provisionAndConnect(fixture.hub, address, secret);
    device.on('message', (topic, payload) => {
      if (topic === topics.reportAck(address)) acks.push(JSON.parse(payload.toString()) as ReportAck);
    });
    await device.subscribeAsync(topics.deviceInbox(address), { qos: 1 });
  });

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
  });

  it('S1: refuses anonymous connections and wrong secrets', async () => {
    await expect(connectClient(fixture.hub.mqttPort, { clientId: 'anon' })).rejects.toThrow(
      /Bad username or password|Not authorized/i,
    );
    await expect(
      connectClient(fixture.hub.mqttPort, {
        clientId: address.device,
        username: address.device,
        password: 'wrong-secret',
      }),
    ).rejects.toThrow(/Bad username or password/i);
    await expect(
      connectClient(fixture.hub.mqttPort, { clientId: 'intruder', username: 'intruder', password: secret }),
    ).rejects.toThrow(/Bad username or password/i);
    expect(fixture.hub.rejects.snapshot()['auth: anonymous']).toBeGreaterThanOrEqual(1);
  });

  it('R1, R3: a report is stored as an incident and acknowledged with its reference', async () => {
    const r = report(1);
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(r), { qos: 1 });
    const ack = await waitFor(() => acks.find((a) => a.id === r.id), 'report ack');
    expect(ack.ref).toMatch(/^[A-Z2-9]{4}$/);
    const stored = await fixture.hub.incidents.findByEvent(r.id);
    expect(stored).toMatchObject({ ref: ack.ref, room: 'room-1', kind: 'report', status: 'reported' });
  });

  it('exactly once: a resent report is acknowledged again with the same reference, never stored twice', async () => {
    const r = report(2);
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(r), { qos: 1 });
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(r), { qos: 1 });
    await waitFor(() => acks.filter((a) => a.id === r.id).length === 2, 'two acks');
    const refs = new Set(acks.filter((a) => a.id === r.id).map((a) => a.ref));
    expect(refs.size).toBe(1);
    const all = await fixture.hub.incidents.list();
    expect(all.filter((i) => i.eventId === r.id)).toHaveLength(1);
  });

  it('bad input is rejected with a reason, counted, and changes nothing', async () => {
    const before = (await fixture.hub.incidents.list()).length;
    const payloads = [
      'not json',
      '{}',
      JSON.stringify(report(3, { urgency: 'panic' as 'urgent' })),
      '[]',
      '{"v":1',
      'null',
    ];
    for (const p of payloads) await device.publishAsync(topics.event(address, 'report'), p, { qos: 1 });
    // An id that names another device is refused even when the topic is right.
    await device.publishAsync(
      topics.event(address, 'report'),
      JSON.stringify({ ...report(4), id: 'room-2-locker:4' }),
      { qos: 1 },
    );
    const snapshot = fixture.hub.rejects.snapshot();
    expect(snapshot['schema: report']).toBeGreaterThanOrEqual(payloads.length);
    expect(snapshot['event id does not match device and seq']).toBe(1);
    expect((await fixture.hub.incidents.list()).length).toBe(before);
    expect(device.connected).toBe(true);
  });

  it('D5: reports reach InfluxDB through the durable outbox, once each', async () => {
    await fixture.hub.outbox.drain();
    const series = await fixture.hub.store.query(
      'SELECT count("count") FROM "report" WHERE "room" = \'room-1\'',
    );
    expect(series[0]?.values[0]?.[1]).toBe(2);
  });
  it('S5: a device that publishes as another device is refused and disconnected', async () => {
    const other = { ...address, room: 'room-2', device: 'room-2-locker' };
    const rogue = await connectClient(fixture.hub.mqttPort, {
      clientId: address.device,
      username: address.device,
      password: secret,
    });
    const closed = new Promise<void>((resolve) => rogue.once('close', () => resolve()));
    rogue.publish(topics.event(other, 'report'), JSON.stringify({ ...report(5), id: 'room-2-locker:5' }), {
      qos: 1,
    });
    await closed; // MQTT 3.1.1 has no per-message refusal: aedes drops the connection
    rogue.end(true);
    expect(fixture.hub.rejects.snapshot()['publish: devices publish only under their own address']).toBe(1);
    expect(await fixture.hub.incidents.findByEvent('room-2-locker:5')).toBeUndefined();
  });
});
