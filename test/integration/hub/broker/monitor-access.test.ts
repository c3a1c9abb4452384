/**
 * Monitor accounts (S5) on the real broker: a read-only system (building management, monitoring) signs in with the
 * secret from its file, reads its site's whole tree (retained state included) and nothing else, and cannot publish.
 * Real aedes, real MQTT.js clients, a provisioned device.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LockerState } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import {
  connectClient,
  type HubFixture,
  provisionAndConnect,
  startTestHub,
  waitFor,
} from '../../../support/hub-fixture.js';

const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const deviceSecret = 'correct-horse-battery-staple-1';
const monitorSecret = 'building-management-secret-77';

describe('monitor accounts on the broker (S5)', () => {
  let fixture: HubFixture;
  let dir: string;
  let device: MqttClient;
  const opened: MqttClient[] = [];
  const state: LockerState = {
    v: 1,
    ts: Date.now(),
    locked: true,
    doorOpen: false,
    phones: 12,
    slots: 30,
    keyOn: false,
    mode: 'lesson',
  };
  const asMonitor = (password = monitorSecret) =>
    connectClient(fixture.hub.mqttPort, { clientId: 'bms', username: 'bms', password }).then((c) => {
      opened.push(c);
      return c;
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phones-away-monitor-'));
    const passwordFile = join(dir, 'bms.secret');
    writeFileSync(passwordFile, `${monitorSecret}\n`, { mode: 0o600 });
    fixture = await startTestHub({ config: { monitors: [{ username: 'bms', passwordFile }] } });
    device = await provisionAndConnect(fixture.hub, address, deviceSecret);
    await device.publishAsync(topics.state(address, 'locker'), JSON.stringify(state), {
      qos: 1,
      retain: true,
    });
  });

  afterAll(async () => {
    for (const c of opened) c.end(true);
    device?.end(true);
    await fixture?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('S5: reads the whole site, retained state included, and what devices send from then on', async () => {
    const monitor = await asMonitor();
    const seen: { topic: string; payload: string }[] = [];
    monitor.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
    const [granted] = await monitor.subscribeAsync(topics.siteWildcard(address.site), { qos: 1 });
    expect(granted?.qos).toBe(1);
    const retained = await waitFor(
      () => seen.find((m) => m.topic === topics.state(address, 'locker')),
      'retained locker state',
    );
    expect(JSON.parse(retained.payload)).toEqual(state);
    const next = { ...state, ts: state.ts + 1, phones: 13 };
    await device.publishAsync(topics.state(address, 'locker'), JSON.stringify(next), {
      qos: 1,
      retain: true,
    });
    await waitFor(() => seen.some((m) => JSON.parse(m.payload).phones === 13), 'live locker state');
  });

  it('R4, D1: is handed no report nor its acknowledgement, only the lockers around them', async () => {
    const monitor = await asMonitor();
    const seen: string[] = [];
    monitor.on('message', (topic) => seen.push(topic));
    await monitor.subscribeAsync(topics.siteWildcard(address.site), { qos: 1 });
    const acked = new Promise<void>((resolve) =>
      device.on('message', (topic) => {
        if (topic === topics.reportAck(address)) resolve();
      }),
    );
    await device.subscribeAsync(topics.reportAck(address), { qos: 1 });
    const report = {
      v: 1,
      id: `${address.device}:1`,
      seq: 1,
      ts: Date.now(),
      urgency: 'urgent',
      pressMs: 120,
      queuedMs: 0,
    };
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(report), { qos: 1 });
    await acked;
    // After the acknowledgement reached the device, a locker state: once the monitor has it, it has had its chance
    // at everything before.
    const after = { ...state, ts: Date.now(), phones: 21 };
    await device.publishAsync(topics.state(address, 'locker'), JSON.stringify(after), {
      qos: 1,
      retain: true,
    });
    await waitFor(() => seen.includes(topics.state(address, 'locker')), 'the locker state after the report');
    expect(seen).not.toContain(topics.event(address, 'report'));
    expect(seen).not.toContain(topics.reportAck(address));
  });

  it('S5: may not read another site or the whole broker, and publishes nothing', async () => {
    const monitor = await asMonitor();
    // MQTT.js rejects a SUBACK that refuses any filter; the packet on the error is the broker's answer.
    const refused = (await monitor
      .subscribeAsync([topics.siteWildcard('other-school'), '#', '$SYS/#'], { qos: 1 })
      .catch((error: unknown) => error)) as { packet?: { granted?: unknown[] } };
    expect(refused.packet?.granted).toEqual([128, 128, 128]);
    expect(monitor.connected).toBe(true);
    const before = fixture.hub.ingest.stats.accepted;
    // Pretending to be the device: refused by the broker's publish hook, never ingested.
    const forged = { ...state, ts: Date.now(), phones: 0 };
    await monitor
      .publishAsync(topics.state(address, 'locker'), JSON.stringify(forged), { qos: 0 })
      .catch(() => {});
    await waitFor(
      () => (fixture.hub.rejects.snapshot()['publish: service principals are read-only'] ?? 0) >= 1,
      'publish refused and counted',
    );
    expect(fixture.hub.ingest.stats.accepted).toBe(before);
  });

  it('S1: a wrong monitor secret is refused like any bad credential', async () => {
    await expect(asMonitor('building-management-secret-78')).rejects.toThrow(
      /Bad username or password|Not authorized|bad user/i,
    );
    expect(fixture.hub.rejects.snapshot()['auth: wrong monitor secret']).toBe(1);
  });
});
