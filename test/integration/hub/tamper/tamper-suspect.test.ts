/**
 * R7 against the real hub: real aedes on a socket, MQTT.js devices with a real last will, events sealed by the
 * device's real EventJournal, a webhook receiver on loopback standing in for the coordinator's channel. A device's
 * connection is cut by destroying its socket (what a pulled plug or cable looks like to the broker), so the broker
 * publishes the will. The hub's clock is fixed in a Wednesday lesson (Period 2, 10:30) or at break.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventJournal } from '../../../../firmware/event-journal.js';
import { parseClock, zonedTime } from '../../../../hub/policy/calendar.js';
import { SUSPECT_TEXT } from '../../../../hub/tamper/tamper-suspect.js';
import type { Availability, Heartbeat, LockerState } from '../../../../schemas/messages.js';
import { type DeviceAddress, topics } from '../../../../schemas/topics.js';
import { connectClient, type HubFixture, startTestHub, waitFor } from '../../../support/hub-fixture.js';

const WED = '2026-09-02';
const at = (hhmm: string) => zonedTime(WED, parseClock(hhmm), 'Europe/London');
const secret = 'correct-horse-battery-staple-9';
const room = (n: number): DeviceAddress => ({
  site: 'demo-school',
  room: `room-${n}`,
  device: `room-${n}-locker`,
});

describe('R7: a device dropping in a lesson while locked with phones (real broker, last will)', () => {
  let fixture: HubFixture;
  let web: Server;
  const hooks: Record<string, unknown>[] = [];
  let clock = at('10:30');
  const clients: MqttClient[] = [];
  const journals: EventJournal[] = [];
  const dirs: string[] = [];

  const online = (): Availability => ({ v: 1, ts: clock, status: 'online' });
  /** A device as the firmware connects: a retained last will saying offline, then online. */
  async function connect(a: DeviceAddress): Promise<MqttClient> {
    const client = await connectClient(fixture.hub.mqttPort, {
      clientId: a.device,
      username: a.device,
      password: secret,
      clean: false,
      will: {
        topic: topics.availability(a),
        payload: Buffer.from(JSON.stringify({ v: 1, ts: clock, status: 'offline' } satisfies Availability)),
        qos: 1,
        retain: true,
      },
    });
    clients.push(client);
    await client.publishAsync(topics.availability(a), JSON.stringify(online()), { qos: 1, retain: true });
    return client;
  }
  const locker = (client: MqttClient, a: DeviceAddress, locked: boolean, phones: number) =>
    client.publishAsync(
      topics.state(a, 'locker'),
      JSON.stringify({
        v: 1,
        ts: clock,
        locked,
        doorOpen: false,
        phones,
        slots: 12,
        keyOn: false,
        mode: 'lesson',
      } satisfies LockerState),
      { qos: 1, retain: true },
    );
  /** Cuts the TCP connection without a DISCONNECT: the broker publishes the will. */
  const pullPlug = (client: MqttClient) => {
    client.options.reconnectPeriod = 0;
    client.stream.destroy();
  };
  async function journalFor(a: DeviceAddress): Promise<EventJournal> {
    const dir = mkdtempSync(join(tmpdir(), 'phones-away-journal-'));
    dirs.push(dir);
    const journal = await EventJournal.open({ dir, deviceId: a.device });
    journals.push(journal);
    return journal;
  }
  async function heartbeat(client: MqttClient, a: DeviceAddress, journal: EventJournal, queued: number) {
    const env = await journal.nextEnvelope(clock);
    const hb: Heartbeat = { ...env, uptimeS: 5, software: '0.1.0', queued, board: 'emulated-uno' };
    await client.publishAsync(topics.event(a, 'heartbeat'), JSON.stringify(hb), { qos: 1 });
  }
  const suspects = () => fixture.hub.tamperSuspects.active().map((s) => s.device);
  const offline: string[] = [];

  beforeAll(async () => {
    web = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        hooks.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
    fixture = await startTestHub({
      now: () => clock,
      config: {
        notifications: {
          dashboardUrl: 'https://hub.school.example/',
          webhook: { url: `http://127.0.0.1:${(web.address() as AddressInfo).port}/hook` },
          retryDelaySeconds: 1,
        },
      },
    });
    for (const n of [1, 2, 3])
      await fixture.hub.registry.provision({
        id: room(n).device,
        address: room(n),
        secret,
        lockerMode: 'lesson',
        now: clock,
      });
    fixture.hub.bus.on('device.availability', ({ ref, availability }) => {
      if (availability.status === 'offline') offline.push(ref.device);
    });
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    for (const j of journals) await j.close();
    await fixture?.dispose();
    await new Promise((ok) => web?.close(ok));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('R7: a locked locker holding phones that drops in a lesson alerts the coordinator; back with a consistent journal, it clears', async () => {
    const a = room(1);
    const journal = await journalFor(a);
    let device = await connect(a);
    const e1 = await journal.appendLockerEvent({ kind: 'locked', phones: 3 }, clock);
    await device.publishAsync(topics.event(a, 'locker'), JSON.stringify(e1), { qos: 1 });
    await locker(device, a, true, 3);
    await heartbeat(device, a, journal, 0);
    await fixture.hub.tamperSuspects.idle();
    expect(suspects()).toEqual([]);

    pullPlug(device);
    await waitFor(() => suspects().includes(a.device), 'tamper suspected after the will');
    expect(fixture.hub.tamperSuspects.active()[0]).toMatchObject({ room: 'room-1', phones: 3 });
    const hook = await waitFor(
      () => hooks.find((h) => h.ref === `device ${a.device}`),
      'coordinator notified',
    );
    expect(hook).toMatchObject({ kind: 'tamper', role: 'coordinator', room: 'room-1', urgency: 'urgent' });

    // Back: the device delivers what it journaled while away (the door was opened and closed by a teacher's key),
    // then a heartbeat with nothing queued whose chain head the hub holds.
    clock = at('10:40');
    device = await connect(a);
    const e2 = await journal.appendLockerEvent({ kind: 'door-opened', phones: 3 }, at('10:35'));
    const e3 = await journal.appendLockerEvent({ kind: 'door-closed', phones: 3 }, at('10:36'));
    await heartbeat(device, a, journal, 2); // still delivering: not cleared yet
    await fixture.hub.tamperSuspects.idle();
    expect(suspects()).toContain(a.device);
    await device.publishAsync(topics.event(a, 'locker'), JSON.stringify(e2), { qos: 1 });
    await device.publishAsync(topics.event(a, 'locker'), JSON.stringify(e3), { qos: 1 });
    await heartbeat(device, a, journal, 0);
    await waitFor(() => !suspects().includes(a.device), 'suspicion cleared');
    expect(fixture.hub.tamperSuspects.stats).toMatchObject({ raised: 1, cleared: 1 });
  });

  it('R7: back with a journal that skips events the device had pointed at: the alert stays', async () => {
    const a = room(2);
    const journal = await journalFor(a);
    let device = await connect(a);
    const e1 = await journal.appendLockerEvent({ kind: 'locked', phones: 5 }, clock);
    await device.publishAsync(topics.event(a, 'locker'), JSON.stringify(e1), { qos: 1 });
    await locker(device, a, true, 5);
    pullPlug(device);
    await waitFor(() => suspects().includes(a.device), 'tamper suspected');

    // While away two events were journaled; the device comes back and never sends them, only a heartbeat saying
    // nothing is queued that points at the newest: the hub is missing events, so the journal is not consistent.
    device = await connect(a);
    await journal.appendLockerEvent({ kind: 'door-opened', phones: 5 }, clock);
    await journal.appendLockerEvent({ kind: 'door-closed', phones: 0 }, clock);
    const beats: number[] = [];
    const off = fixture.hub.bus.on('device.heartbeat', ({ ref }) => {
      if (ref.device === a.device) beats.push(1);
    });
    await heartbeat(device, a, journal, 0);
    await waitFor(() => beats.length === 1, 'heartbeat ingested');
    off();
    await fixture.hub.tamperSuspects.idle();
    expect(fixture.hub.chain.consistent(a.device)).toBe(false);
    expect(suspects()).toContain(a.device);
  });

  it('R7: no alert when the locker holds no phones, or outside lesson time', async () => {
    const a = room(3);
    let device = await connect(a);
    await locker(device, a, true, 0);
    pullPlug(device);
    clock = at('10:45');
    device = await connect(a);
    await locker(device, a, false, 4);
    clock = at('11:05'); // break: the classroom locker is released
    pullPlug(device);
    await waitFor(() => offline.filter((d) => d === a.device).length === 2, 'both wills processed');
    await fixture.hub.tamperSuspects.idle();
    expect(suspects()).not.toContain(a.device);
    expect(SUSPECT_TEXT).not.toMatch(/R7|P\d/); // staff read plain words
  });
});
