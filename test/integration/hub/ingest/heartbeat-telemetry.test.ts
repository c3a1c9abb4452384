/**
 * Heartbeats through the real hub (aedes, MQTT.js, private influxd): every one updates last-seen and the live grid,
 * but at most one point per device per minute is written to InfluxDB (the first of each window), and those points go
 * through the outbox's memory lane, not the durable outbox on disk.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Heartbeat } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import { type HubFixture, provisionAndConnect, startTestHub, waitFor } from '../../../support/hub-fixture.js';

const address = { site: 'demo-school', room: 'room-2', device: 'room-2-locker' };
const secret = 'correct-horse-battery-staple-4';
const T0 = Date.UTC(2026, 8, 2, 9, 0, 0);

describe('heartbeat telemetry', () => {
  let fixture: HubFixture;
  let device: MqttClient;
  let clock = T0;
  let seq = 0;

  const beat = async (at: number) => {
    clock = at;
    seq += 1;
    const heartbeat: Heartbeat = {
      v: 1,
      id: `${address.device}:${seq}`,
      seq,
      ts: at,
      uptimeS: seq * 10,
      software: '0.1.0',
      queued: 0,
      board: 'emulated-uno',
    };
    await device.publishAsync(topics.event(address, 'heartbeat'), JSON.stringify(heartbeat), { qos: 1 });
  };

  beforeAll(async () => {
    fixture = await startTestHub({ now: () => clock });
    device = await provisionAndConnect(fixture.hub, address, secret);
  });

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
  });

  it('D5: one heartbeat point per device per minute reaches InfluxDB; every heartbeat counts as seen', async () => {
    const accepted = fixture.hub.ingest.stats.accepted;
    for (const s of [0, 10, 20, 50, 60, 70, 130]) await beat(T0 + s * 1000);
    await waitFor(() => fixture.hub.ingest.stats.accepted - accepted >= 7, 'seven heartbeats ingested');
    expect(await fixture.hub.db.count('outbox')).toBe(0); // telemetry never touched the disk outbox
    await fixture.hub.outbox.drain();
    const series = await fixture.hub.store.query(
      `SELECT "uptime_s" FROM "heartbeat" WHERE "device" = '${address.device}'`,
    );
    // Windows start at 0 s, 60 s and 130 s: the heartbeats at 10, 20, 50 and 70 s are sampled out.
    expect(series[0]?.values.map((row) => row[0])).toEqual([T0, T0 + 60_000, T0 + 130_000]);
    const seen = (await fixture.hub.registry.list()).find((d) => d.id === address.device);
    expect(seen?.lastSeen).toBe(T0 + 130_000);
  });
});
