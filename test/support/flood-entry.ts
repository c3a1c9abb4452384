/**
 * A flooding device in a process of its own (fork with --import tsx): the test that measures other rooms' acks
 * during a flood must not also parse the flood's 10,000 acks on its own event loop, or it measures itself. Told
 * { port, address, secret, count } over IPC, it connects, publishes `count` reports at once (as fast as MQTT.js
 * sends them), and answers { acked, refs } once every report is acknowledged.
 */
import mqtt from 'mqtt';
import type { ReportAck } from '../../schemas/messages.js';
import { type DeviceAddress, topics } from '../../schemas/topics.js';

interface FloodOrder {
  port: number;
  address: DeviceAddress;
  secret: string;
  count: number;
}

process.once('message', async (order: FloodOrder) => {
  const { port, address, secret, count } = order;
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port,
    clientId: address.device,
    username: address.device,
    password: secret,
    reconnectPeriod: 0,
  });
  await client.subscribeAsync(topics.reportAck(address), { qos: 1 });
  const refs = new Map<string, string>();
  client.on('message', (_topic, payload) => {
    const ack = JSON.parse(payload.toString()) as ReportAck;
    refs.set(ack.id, ack.ref);
    if (refs.size === count) {
      process.send?.({ acked: refs.size, refs: [...new Set(refs.values())] });
      void client.endAsync(true).then(() => process.exit(0));
    }
  });
  process.send?.({ started: true });
  const reportTopic = topics.event(address, 'report');
  for (let seq = 1; seq <= count; seq++) {
    const report = {
      v: 1,
      id: `${address.device}:${seq}`,
      seq,
      ts: Date.now(),
      urgency: 'normal',
      pressMs: 90,
      queuedMs: 0,
    };
    client.publish(reportTopic, JSON.stringify(report), { qos: 1 });
  }
});
