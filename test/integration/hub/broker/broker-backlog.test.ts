/**
 * A device's backlog at the broker: how much of it the hub holds, and the keepalive while it is stored.
 *
 * Receive maximum: at most 32 of a connection's PUBLISH packets are parsed ahead of the hub (frame-guard.ts); the rest
 * wait in the kernel. A device (or an attacker with a device's secret) writing hundreds at once cannot make the hub
 * hold them all.
 *
 * Keepalive. aedes parses none of a client's later packets (its PINGREQ
 * included) until the publishes it holds are handled, and the hub handles a device's events one at a time, each
 * after its write. A device resending a journal of hundreds of events after an outage (R1: every pending event is
 * resent on connect) therefore waits behind its own backlog. It must not be dropped for it: a drop makes it resend
 * everything unacknowledged again (bench/RESULTS.md f: 233k duplicates in the 3,000 × 200 resend before this).
 * And a connection that goes silent once its backlog is done must still be dropped (S7: no half-open socket is kept).
 *
 * Real aedes on a real socket, MQTT.js and raw TCP. Ingest is a stand-in that takes 100 ms per event, one at a time:
 * the pace a device sees when thousands of devices share the disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../../../hub/broker/broker.js';
import { HubDb } from '../../../../hub/db/hub-db.js';
import { DeviceRegistry } from '../../../../hub/devices/device-registry.js';
import { silentLogger } from '../../../../hub/log.js';
import { RejectCounter } from '../../../../hub/metrics/reject-counter.js';
import { topics } from '../../../../schemas/topics.js';
import { connectClient, waitFor } from '../../../support/hub-fixture.js';
import { connectPacket as connectAs, publishQos1 } from '../../../support/mqtt-wire.js';

const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const secret = 'correct-horse-battery-staple-1';
/** Each event takes this long to "store", one after another: 30 events hold a device's packets for 3 s. */
let storeMs = 100;
/** Publishes handed to ingest and not yet finished: now, and the most at any time. */
const ahead = { now: 0, most: 0 };

let dir: string;
let db: HubDb;
let broker: RunningBroker;
const rejects = new RejectCounter();
/** When each device publish finished (ms since the epoch), in order. */
const handledAt: number[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'phones-away-keepalive-'));
  db = await HubDb.open(join(dir, 'hub-db'));
  const registry = new DeviceRegistry(db);
  await registry.provision({ id: address.device, address, secret, lockerMode: 'lesson', now: Date.now() });
  let tail = Promise.resolve(true);
  broker = await startBroker({
    dataDir: dir,
    host: '127.0.0.1',
    port: 0,
    registry,
    rejects,
    log: silentLogger,
    onDevicePublish: () => {
      ahead.now += 1;
      ahead.most = Math.max(ahead.most, ahead.now);
      tail = tail.then(async () => {
        await new Promise((resolve) => setTimeout(resolve, storeMs));
        handledAt.push(Date.now());
        ahead.now -= 1;
        return true;
      });
      return tail;
    },
  });
});

afterAll(async () => {
  await broker?.close();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** CONNECT as the device, with this keepalive in seconds. */
const connectPacket = (keepaliveS: number) => connectAs(address.device, secret, keepaliveS);
/** PUBLISH at QoS 1 on the device's locker-event topic with this packet id. */
const publishPacket = (id: number) => publishQos1(topics.event(address, 'locker'), '{}', id);

describe('a device backlog at the broker (R1, S7)', () => {
  it('S7: 300 publishes written at once reach the hub at most 32 at a time, and every one is acknowledged', async () => {
    storeMs = 2;
    ahead.most = 0;
    const before = handledAt.length;
    const pubacks = await new Promise<number>((resolve, reject) => {
      const socket = tcpConnect(broker.port ?? 0, '127.0.0.1');
      let received = Buffer.alloc(0);
      let pubacks = 0;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`only ${pubacks} PUBACKs in 10 s`));
      }, 10_000);
      socket.on('data', (data) => {
        received = Buffer.concat([received, data]);
        while (received.length >= 4) {
          if (received[0] === 0x20)
            socket.write(Buffer.concat(Array.from({ length: 300 }, (_, i) => publishPacket(i + 1))));
          if (received[0] === 0x40) pubacks += 1;
          received = received.subarray(4);
        }
        if (pubacks === 300) {
          clearTimeout(timer);
          socket.end();
          resolve(pubacks);
        }
      });
      socket.on('error', () => {});
      socket.on('connect', () => socket.write(connectPacket(30)));
    });
    storeMs = 100;
    expect(pubacks).toBe(300);
    expect(handledAt.length - before).toBe(300);
    // All 300 were in the hub's receive buffer at once; without the bound the hub took them all in one read.
    expect(ahead.most).toBeGreaterThan(1);
    expect(ahead.most).toBeLessThanOrEqual(32);
  });

  it('R1: a device with a 1 s keepalive resends 30 events at once (3 s to store) and is never dropped', async () => {
    const client = await connectClient(broker.port ?? 0, {
      clientId: address.device,
      username: address.device,
      password: secret,
      clean: true,
      keepalive: 1,
    });
    const before = handledAt.length;
    const errorsBefore = rejects.snapshot()['mqtt: client error'] ?? 0;
    const dropped = new Promise<never>((_, reject) =>
      client.once('close', () => reject(new Error(`dropped after ${handledAt.length - before} events`))),
    );
    const started = Date.now();
    const acked = await Promise.race([
      Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          client.publishAsync(topics.event(address, 'locker'), `event ${i + 1}`, { qos: 1 }),
        ),
      ),
      dropped,
    ]);
    const took = Date.now() - started;
    dropped.catch(() => {}); // ending the client below closes it
    await client.endAsync();
    await waitFor(() => broker.connectedClients() === 0, 'the broker to see the disconnect');
    expect(acked).toHaveLength(30);
    expect(handledAt.length - before).toBe(30);
    // The backlog outlasted the 1.5 s keepalive twice over, so only the refresh on each handled event kept it.
    expect(took).toBeGreaterThan(3_000);
    // Neither the backlog nor the device's own DISCONNECT is counted as a client error (a reject).
    expect(rejects.snapshot()['mqtt: client error'] ?? 0).toBe(errorsBefore);
  });

  it('S7: a raw connection that sends 20 events and then nothing gets every PUBACK, then is dropped as idle', async () => {
    const connect = connectPacket(1);
    const publishes = Array.from({ length: 20 }, (_, i) => publishPacket(i + 1));
    const { pubacks, lastPubackAt, closedAt } = await new Promise<{
      pubacks: number;
      lastPubackAt: number;
      closedAt: number;
    }>((resolve, reject) => {
      const socket = tcpConnect(broker.port ?? 0, '127.0.0.1');
      let received = Buffer.alloc(0);
      let pubacks = 0;
      let lastPubackAt = 0;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`still open 10 s after connecting (${pubacks} PUBACKs)`));
      }, 10_000);
      socket.on('data', (data) => {
        received = Buffer.concat([received, data]);
        // CONNACK (0x20) and PUBACK (0x40) are both 4 bytes.
        while (received.length >= 4) {
          if (received[0] === 0x40) {
            pubacks += 1;
            lastPubackAt = Date.now();
          }
          received = received.subarray(4);
        }
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ pubacks, lastPubackAt, closedAt: Date.now() });
      });
      socket.on('connect', () => socket.write(Buffer.concat([connect, ...publishes])));
    });
    expect(pubacks).toBe(20);
    // Dropped for silence after its last event was handled: 1.5 × the keepalive, not before, not never.
    expect(closedAt - lastPubackAt).toBeGreaterThanOrEqual(1_000);
    expect(closedAt - lastPubackAt).toBeLessThan(5_000);
  });
});
