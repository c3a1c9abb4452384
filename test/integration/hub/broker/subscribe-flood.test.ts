/**
 * S5: a device asks only for its own inbox (two filters). One that floods SUBSCRIBE packets of 10,000 filters each is
 * dropped after a few refused filters, logged once, while another device's reports are still acknowledged; a monitor
 * re-subscribing to its site's tree keeps its connection. Real hub (real aedes on a socket), a raw socket as the
 * abuser, MQTT.js for the rest, the hub's own log read line by line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REFUSED_FILTERS } from '../../../../hub/broker/subscribe-budget.js';
import { createLogger } from '../../../../hub/log.js';
import type { Report, ReportAck } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import {
  connectClient,
  type HubFixture,
  provision,
  provisionAndConnect,
  startTestHub,
  waitFor,
} from '../../../support/hub-fixture.js';
import { connectPacket, frame, str } from '../../../support/mqtt-wire.js';

const abuser = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const reporter = { site: 'demo-school', room: 'room-2', device: 'room-2-locker' };
const secret = 'correct-horse-battery-staple-1';
const monitorSecret = 'building-management-secret-77';

const PACKETS = 20;
const FILTERS_PER_PACKET = 10_000;

/** SUBSCRIBE (QoS 0 each) for `filters`: distinct, so aedes's per-packet de-duplication keeps every one. */
function subscribePacket(messageId: number, filters: string[]): Buffer {
  const body: Buffer[] = [Buffer.from([messageId >> 8, messageId & 0xff])];
  for (const filter of filters) body.push(str(filter), Buffer.from([0]));
  return frame(0x82, Buffer.concat(body));
}

function report(seq: number): Report {
  return {
    v: 1,
    id: `${reporter.device}:${seq}`,
    seq,
    ts: Date.now(),
    urgency: 'normal',
    pressMs: 100,
    queuedMs: 0,
  };
}

/** Resolves once `condition` holds or `ms` have passed: the assertions after it then report every count at once. */
async function settles(condition: () => boolean, ms: number): Promise<void> {
  await waitFor(condition, 'condition', ms).catch(() => undefined);
}

describe('S5: SUBSCRIBE flood from a device', () => {
  let fixture: HubFixture;
  let dir: string;
  const clients: MqttClient[] = [];
  /** The hub's log: every line counted, and those naming the abuser kept. */
  let logLines = 0;
  const abuserLines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phones-away-subflood-'));
    const passwordFile = join(dir, 'bms.secret');
    writeFileSync(passwordFile, `${monitorSecret}\n`, { mode: 0o600 });
    const log = createLogger('hub', 'debug', {
      write(line: string) {
        logLines += 1;
        if (line.includes(abuser.device)) abuserLines.push(line);
      },
    });
    fixture = await startTestHub({ log, config: { monitors: [{ username: 'bms', passwordFile }] } });
    await provision(fixture.hub, abuser, secret);
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await fixture?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('S5: drops a device sending 20 SUBSCRIBEs of 10,000 filters, logs it once, and another device reports on', async () => {
    const { hub } = fixture;
    const device = await provisionAndConnect(hub, reporter, secret);
    clients.push(device);
    const acks: ReportAck[] = [];
    device.on('message', (_t, payload) => acks.push(JSON.parse(payload.toString()) as ReportAck));
    await device.subscribeAsync(topics.deviceInbox(reporter), { qos: 1 });

    const socket: Socket = tcpConnect(hub.mqttPort, '127.0.0.1');
    socket.on('error', () => {});
    let closed = false;
    socket.on('close', () => {
      closed = true;
    });
    const connack = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.on('connect', () => socket.write(connectPacket(abuser.device, secret, 60)));
    expect([...(await connack)]).toEqual([0x20, 2, 0, 0]);
    const linesBefore = logLines;

    // Short filters, so each packet stays under the frame guard's 64 KiB (about 58 KB): aedes has to handle them.
    const filters = Array.from({ length: FILTERS_PER_PACKET }, (_, i) => i.toString(36));
    for (let p = 0; p < PACKETS; p++) socket.write(subscribePacket(p + 1, filters));
    // The other device reports while the flood arrives; each report is stored and acknowledged.
    for (let seq = 1; seq <= 5; seq++)
      await device.publishAsync(topics.event(reporter, 'report'), JSON.stringify(report(seq)), { qos: 1 });
    const reportsAcknowledged = () => acks.filter((a) => a.id.startsWith(`${reporter.device}:`)).length;
    await settles(() => closed && reportsAcknowledged() >= 5, 5_000);

    const rejects = hub.rejects.snapshot();
    const outcome = {
      abuserDropped: closed,
      drops: rejects['subscribe: too many filters, connection dropped'],
      refusedFiltersCounted: rejects['subscribe: devices subscribe only to their own inbox'] ?? 0,
      linesAboutAbuser: abuserLines.length,
      linesDuringFlood: logLines - linesBefore,
      reportsAcknowledged: reportsAcknowledged(),
      brokerClients: hub.broker.connectedClients(),
    };
    const shown = JSON.stringify(outcome);
    expect(outcome.abuserDropped, shown).toBe(true);
    expect(outcome.drops, shown).toBe(1);
    expect(outcome.refusedFiltersCounted, shown).toBeLessThanOrEqual(MAX_REFUSED_FILTERS);
    expect(outcome.linesAboutAbuser, shown).toBeLessThanOrEqual(3);
    expect(outcome.linesDuringFlood, shown).toBeLessThanOrEqual(50);
    expect(outcome.reportsAcknowledged, shown).toBe(5);
    expect(outcome.brokerClients, shown).toBe(1);
    // Once: the first refused filter with its reason, then the drop with why.
    expect(abuserLines.filter((l) => l.includes('"level":40')).map((l) => JSON.parse(l).msg)).toEqual([
      'subscribe refused',
      'connection dropped: subscribe abuse',
    ]);
    expect(abuserLines.join('\n')).toContain(`more than ${MAX_REFUSED_FILTERS} filters refused`);
  });

  it('S5: a monitor re-subscribing to its site tree more often than any device may stays connected and reads it', async () => {
    const dropsBefore = fixture.hub.rejects.snapshot()['subscribe: too many filters, connection dropped'];
    const monitor = await connectClient(fixture.hub.mqttPort, {
      clientId: 'bms',
      username: 'bms',
      password: monitorSecret,
    });
    clients.push(monitor);
    for (let i = 0; i < 20; i++) {
      const granted = await monitor.subscribeAsync(topics.siteWildcard('demo-school'), { qos: 0 });
      expect(granted[0]?.qos).toBe(0);
    }
    const seen: string[] = [];
    monitor.on('message', (topic) => seen.push(topic));
    const device = clients[0] as MqttClient;
    // A monitor reads lockers, never reports (access-policy.ts mayForward).
    const state = {
      v: 1,
      ts: Date.now(),
      locked: true,
      doorOpen: false,
      phones: 12,
      slots: 30,
      keyOn: false,
      mode: 'lesson',
    };
    await device.publishAsync(topics.state(reporter, 'locker'), JSON.stringify(state), { qos: 1 });
    await waitFor(
      () => seen.includes(topics.state(reporter, 'locker')),
      'the monitor reads the locker state',
    );
    expect(monitor.connected).toBe(true);
    expect(fixture.hub.rejects.snapshot()['subscribe: too many filters, connection dropped']).toBe(
      dropsBefore,
    );
  });
});
