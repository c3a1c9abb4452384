/**
 * S4, S1: a revocation or a new secret ends every connection authenticated before it, including one whose CONNECT was
 * checked just before the change committed and that aedes registers only afterwards (after reading its session and
 * storing its will). Thirty raw sockets keep reconnecting as the device, with a will, while the change is made; then
 * nothing they sent afterwards may reach ingest and none of them may stay connected. Real hub, real aedes on a socket.
 */
import { type Socket, connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DevicePublish } from '../../../../hub/broker/broker.js';
import type { Report } from '../../../../schemas/messages.js';
import { type DeviceAddress, topics } from '../../../../schemas/topics.js';
import { type HubFixture, startTestHub, waitFor } from '../../../support/hub-fixture.js';
import { frame, publishQos1, str } from '../../../support/mqtt-wire.js';

const SOCKETS = 30;
const secret = 'race-device-secret-0123456789';

/** CONNECT as the device (username = client id), clean session, with a retained QoS 1 will on its availability. */
function connectWithWill(address: DeviceAddress, password: string): Buffer {
  const will = JSON.stringify({ v: 1, ts: Date.now(), status: 'offline' });
  // Flags: username, password, will retain, will QoS 1, will, clean session.
  const flags = 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02;
  return frame(
    0x10,
    Buffer.concat([
      str('MQTT'),
      Buffer.from([4, flags, 0, 60]),
      str(address.device),
      str(topics.availability(address)),
      str(will),
      str(address.device),
      str(password),
    ]),
  );
}

/** Splits what the broker wrote into packets: [type, body]. */
function* packets(bytes: Buffer): Generator<[number, Buffer]> {
  let at = 0;
  while (at + 2 <= bytes.length) {
    let length = 0;
    let multiplier = 1;
    let i = at + 1;
    for (;;) {
      const byte = bytes[i] as number;
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      i += 1;
      if (!(byte & 0x80)) break;
    }
    if (i + length > bytes.length) return;
    yield [(bytes[at] as number) >> 4, bytes.subarray(i, i + length)];
    at = i + length;
  }
}

/** One raw connection playing the device: whether the broker accepted it, acknowledged a publish, or closed it. */
interface Attempt {
  socket: Socket;
  accepted: boolean;
  /** CONNACK (refused or accepted) or close: the broker has decided about this CONNECT. */
  settled: boolean;
  pubacked: boolean;
  closed: boolean;
}

/** Keeps `SOCKETS` connections reconnecting as the device until stop(); each new one takes over the last. */
function reconnectStorm(port: number, connect: Buffer) {
  const attempts: Attempt[] = [];
  let stopped = false;
  const open = () => {
    if (stopped) return;
    const attempt: Attempt = {
      socket: tcpConnect(port, '127.0.0.1'),
      accepted: false,
      settled: false,
      pubacked: false,
      closed: false,
    };
    attempts.push(attempt);
    let received = Buffer.alloc(0);
    attempt.socket.on('error', () => {});
    attempt.socket.on('connect', () => attempt.socket.write(connect));
    attempt.socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      for (const [type, body] of packets(received)) {
        if (type === 2) {
          attempt.settled = true;
          attempt.accepted = body[1] === 0;
        }
        if (type === 4) attempt.pubacked = true;
      }
    });
    attempt.socket.on('close', () => {
      attempt.closed = true;
      attempt.settled = true;
      open();
    });
  };
  for (let i = 0; i < SOCKETS; i++) open();
  return {
    attempts,
    stop() {
      stopped = true;
    },
  };
}

function report(device: string, seq: number): string {
  const body: Report = {
    v: 1,
    id: `${device}:${seq}`,
    seq,
    ts: Date.now(),
    urgency: 'normal',
    pressMs: 100,
    queuedMs: 0,
  };
  return JSON.stringify(body);
}

/** Resolves true once `condition` holds, false if it has not within `ms` (for failures that report every count). */
async function settles(condition: () => boolean, ms: number): Promise<boolean> {
  try {
    await waitFor(condition, 'condition', ms);
    return true;
  } catch {
    return false;
  }
}

describe('S4, S1: credentials changed while the device is connecting', () => {
  let fixture: HubFixture;
  /** Every publish the broker handed to ingest, and whether the change had completed by then. */
  const ingested: { device: string; afterChange: boolean }[] = [];
  const changed = new Set<string>();

  beforeAll(async () => {
    fixture = await startTestHub();
    const handle = fixture.hub.ingest.handle.bind(fixture.hub.ingest);
    vi.spyOn(fixture.hub.ingest, 'handle').mockImplementation((message: DevicePublish) => {
      ingested.push({ device: message.principal.id, afterChange: changed.has(message.principal.id) });
      return handle(message);
    });
  });

  afterAll(async () => {
    await fixture?.dispose();
  });

  async function raceAgainst(device: string, change: (id: string) => Promise<unknown>) {
    const { hub } = fixture;
    const address = { site: 'demo-school', room: 'room-2', device };
    await hub.devices.add({ id: device, room: 'room-2', lockerMode: 'lesson', secret }, 'test');
    const storm = reconnectStorm(hub.mqttPort, connectWithWill(address, secret));
    // Running: connections are being accepted and taken over, so some are always between CONNECT and registration.
    await waitFor(() => storm.attempts.filter((a) => a.accepted).length >= SOCKETS, 'connections accepted');
    await change(device);
    changed.add(device);
    storm.stop();

    // Every CONNECT sent has been answered or its socket closed: whatever the broker let in, it has let in.
    await waitFor(() => storm.attempts.every((a) => a.settled), 'every CONNECT answered', 5_000);
    // Each connection still open after the change publishes a report: it must be refused (the broker closes the
    // connection), never acknowledged.
    const open = storm.attempts.filter((a) => a.accepted && !a.closed);
    for (const [i, attempt] of open.entries())
      attempt.socket.write(publishQos1(topics.event(address, 'report'), report(device, i + 1), i + 1));
    await settles(() => open.every((a) => a.closed || a.pubacked), 3_000);
    await settles(() => storm.attempts.every((a) => a.closed) && hub.broker.connectedClients() === 0, 3_000);

    const outcome = {
      acceptedConnectionsStillOpen: storm.attempts.filter((a) => a.accepted && !a.closed).length,
      brokerClients: hub.broker.connectedClients(),
      publishesAcknowledgedAfterChange: open.filter((a) => a.pubacked).length,
      ingestedAfterChange: ingested.filter((m) => m.device === device && m.afterChange).length,
    };
    for (const attempt of storm.attempts) attempt.socket.destroy();
    expect(outcome).toEqual({
      acceptedConnectionsStillOpen: 0,
      brokerClients: 0,
      publishesAcknowledgedAfterChange: 0,
      ingestedAfterChange: 0,
    });
    // The race ran: the device got in (and reached ingest, its wills at least) before the change.
    expect(ingested.some((m) => m.device === device && !m.afterChange)).toBe(true);
  }

  it('S4: revoking a device during a reconnect storm leaves no connection of it, and nothing of it reaches ingest', async () => {
    await raceAgainst('room-2-race-revoke', (id) => fixture.hub.devices.revoke(id, 'test'));
  });

  it('S1: a new secret during a reconnect storm ends every connection made with the old one', async () => {
    await raceAgainst('room-2-race-rotate', (id) => fixture.hub.devices.rotate(id, 'test'));
  });
});
