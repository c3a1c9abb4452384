/**
 * A load-generator process for the benchmark (forked by bench/run.ts), so the harness is never the broker's
 * bottleneck in the same event loop. Commands arrive over IPC; every loop is bounded and the process exits on
 * 'exit' or when its parent goes away.
 *
 *   connect  {clients, port, clean}         connect all clients (device identities), subscribe their inboxes
 *   publish  {qos, messages, window}        each client publishes `messages` heartbeats, at most `window` in flight
 *   subscribe{filter}                        one extra client that counts messages and their latency
 *   fleet    {heartbeatMs, durationMs, burstMs}  heartbeats, then each client locks once at a random time in burst
 *   status                                   how many clients are connected now
 */
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { eventHash } from '../../schemas/event-hash.js';
import type { LockerEvent } from '../../schemas/messages.js';
import { topics } from '../../schemas/topics.js';

interface ClientSpec {
  id: string;
  site: string;
  room: string;
  password?: string;
}

type Command =
  | { cmd: 'connect'; port: number; clients: ClientSpec[]; clean: boolean; availability?: boolean }
  | { cmd: 'publish'; qos: 0 | 1; messages: number; window: number; kind?: 'heartbeat' | 'locker' }
  | { cmd: 'subscribe'; port: number; filter: string; expect: number; timeoutMs: number }
  | { cmd: 'fleet'; heartbeatMs: number; heartbeats: number; burstMs: number }
  | { cmd: 'status' }
  | { cmd: 'exit' };

let clients: { spec: ClientSpec; client: MqttClient; seq: number; subscribed: boolean; head?: string }[] = [];
const started = Date.now();

function reply(id: number, value: unknown): void {
  process.send?.({ id, ok: true, value });
}

function heartbeat(c: (typeof clients)[number]): string {
  c.seq += 1;
  return JSON.stringify({
    v: 1,
    id: `${c.spec.id}:${c.seq}`,
    seq: c.seq,
    ts: Date.now(),
    uptimeS: Math.floor((Date.now() - started) / 1000),
    software: '0.1.0',
    queued: 0,
    board: 'emulated-uno',
    // As the firmware does: the newest event's hash, once there is one (the hub checks it against its chain, R7).
    ...(c.head ? { prev: c.head } : {}),
  });
}

/** `availability`: behave as the firmware does, with a retained 'offline' last will and 'online' on every connect. */
async function connectAll(
  port: number,
  specs: ClientSpec[],
  clean: boolean,
  availability = false,
): Promise<number> {
  clients = specs.map((spec) => ({ spec, client: null as unknown as MqttClient, seq: 0, subscribed: false }));
  const CONCURRENT = 50;
  for (let i = 0; i < clients.length; i += CONCURRENT) {
    await Promise.all(
      clients.slice(i, i + CONCURRENT).map(
        (c) =>
          new Promise<void>((resolve) => {
            const address = { site: c.spec.site, room: c.spec.room, device: c.spec.id };
            const client = mqtt.connect({
              host: '127.0.0.1',
              port,
              clientId: c.spec.id,
              ...(c.spec.password ? { username: c.spec.id, password: c.spec.password } : {}),
              clean,
              keepalive: 30,
              reconnectPeriod: 500,
              connectTimeout: 30_000,
              queueQoSZero: false,
              ...(availability
                ? {
                    will: {
                      topic: topics.availability(address),
                      payload: Buffer.from(JSON.stringify({ v: 1, ts: Date.now(), status: 'offline' })),
                      qos: 1 as const,
                      retain: true,
                    },
                  }
                : {}),
            });
            c.client = client;
            client.on('error', () => {});
            client.on('close', () => {
              c.subscribed = false;
            });
            client.on('connect', (connack) => {
              if (availability) {
                const online = JSON.stringify({ v: 1, ts: Date.now(), status: 'online' });
                client.publish(topics.availability(address), online, { qos: 1, retain: true });
              }
              if (!connack.sessionPresent) {
                client.subscribe(topics.deviceInbox(address), { qos: 1 }, () => {
                  c.subscribed = true;
                });
              } else c.subscribed = true; // the broker kept the subscription in the session
            });
            client.once('connect', () => resolve());
          }),
      ),
    );
  }
  return clients.length;
}

/**
 * A locker event as the firmware seals it: the next seq, chained to the previous event by its hash (R7), so the hub
 * stores it (fsynced before the PUBACK) without raising chain faults.
 */
function lockerEvent(c: (typeof clients)[number]): string {
  c.seq += 1;
  const event = {
    v: 1,
    id: `${c.spec.id}:${c.seq}`,
    seq: c.seq,
    ts: Date.now(),
    kind: c.seq % 2 === 0 ? 'locked' : 'unlocked',
    phones: 12,
    ...(c.head ? { prev: c.head } : {}),
  };
  c.head = eventHash(event as LockerEvent);
  return JSON.stringify(event);
}

/** Every client publishes `messages` heartbeats (or locker events); returns PUBACK latencies (QoS 1) and the time. */
async function publishAll(
  qos: 0 | 1,
  messages: number,
  window: number,
  kind: 'heartbeat' | 'locker' = 'heartbeat',
) {
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      const address = { site: c.spec.site, room: c.spec.room, device: c.spec.id };
      const topic = topics.event(address, kind);
      const payload = kind === 'locker' ? () => lockerEvent(c) : () => heartbeat(c);
      let inFlight = 0;
      let sent = 0;
      await new Promise<void>((resolve) => {
        const pump = () => {
          while (inFlight < window && sent < messages) {
            sent += 1;
            inFlight += 1;
            const t = performance.now();
            c.client.publish(topic, payload(), { qos }, () => {
              if (qos === 1) latencies.push(performance.now() - t);
              inFlight -= 1;
              if (sent === messages && inFlight === 0) resolve();
              else if (inFlight < window / 2 || qos === 0) setImmediate(pump);
            });
          }
        };
        pump();
      });
    }),
  );
  return { ms: performance.now() - t0, sent: clients.length * messages, latencies };
}

async function subscribeCount(port: number, filter: string, expect: number, timeoutMs: number) {
  const client = mqtt.connect({ host: '127.0.0.1', port, clientId: `bench-sub-${process.pid}`, clean: true });
  await new Promise<void>((r) => client.once('connect', () => r()));
  await client.subscribeAsync(filter, { qos: 0 });
  const latencies: number[] = [];
  let first = 0;
  let last = 0;
  process.send?.({ event: 'subscribed' });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    client.on('message', (_topic, payload) => {
      const now = Date.now();
      if (first === 0) first = performance.now();
      last = performance.now();
      const ts = (JSON.parse(payload.toString()) as { ts: number }).ts;
      latencies.push(now - ts);
      if (latencies.length >= expect) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await client.endAsync(true);
  return { received: latencies.length, ms: last - first, latencies };
}

/** Heartbeats every heartbeatMs (spread), then each client publishes locked state + a 'locked' event once. */
async function fleet(heartbeatMs: number, heartbeats: number, burstMs: number) {
  let sent = 0;
  const spread = (i: number, span: number) => (i * span) / Math.max(1, clients.length);
  for (let round = 0; round < heartbeats; round++) {
    await Promise.all(
      clients.map(
        (c, i) =>
          new Promise<void>((resolve) =>
            setTimeout(
              () => {
                const address = { site: c.spec.site, room: c.spec.room, device: c.spec.id };
                if (c.client.connected) {
                  c.client.publish(topics.event(address, 'heartbeat'), heartbeat(c), { qos: 0 });
                  sent += 1;
                }
                resolve();
              },
              spread(i, heartbeatMs),
            ),
          ),
      ),
    );
  }
  let acked = 0;
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            const address = { site: c.spec.site, room: c.spec.room, device: c.spec.id };
            const now = Date.now();
            const state = {
              v: 1,
              ts: now,
              locked: true,
              doorOpen: false,
              phones: 12,
              slots: 30,
              keyOn: false,
              mode: 'lesson',
            };
            c.seq += 1;
            const event = {
              v: 1,
              id: `${c.spec.id}:${c.seq}`,
              seq: c.seq,
              ts: now,
              kind: 'locked',
              phones: 12,
            };
            let n = 0;
            const done = (error?: Error) => {
              if (!error) acked += 1;
              if (++n === 2) resolve();
            };
            c.client.publish(
              topics.state(address, 'locker'),
              JSON.stringify(state),
              { qos: 1, retain: true },
              done,
            );
            c.client.publish(topics.event(address, 'locker'), JSON.stringify(event), { qos: 1 }, done);
          }, Math.random() * burstMs),
        ),
    ),
  );
  return { heartbeatsSent: sent, burstAcked: acked };
}

process.on('message', (message: { id: number } & Command) => {
  const run = async (): Promise<unknown> => {
    switch (message.cmd) {
      case 'connect':
        return connectAll(message.port, message.clients, message.clean, message.availability);
      case 'publish':
        return publishAll(message.qos, message.messages, message.window, message.kind);
      case 'subscribe':
        return subscribeCount(message.port, message.filter, message.expect, message.timeoutMs);
      case 'fleet':
        return fleet(message.heartbeatMs, message.heartbeats, message.burstMs);
      case 'status':
        return {
          connected: clients.filter((c) => c.client.connected).length,
          subscribed: clients.filter((c) => c.client.connected && c.subscribed).length,
        };
      case 'exit':
        await Promise.all(clients.map((c) => c.client.endAsync(true).catch(() => {})));
        setImmediate(() => process.exit(0));
        return true;
    }
  };
  run().then(
    (value) => reply(message.id, value),
    (error: Error) => process.send?.({ id: message.id, ok: false, error: error.message }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
