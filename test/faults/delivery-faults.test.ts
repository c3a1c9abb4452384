/**
 * Nothing is lost (R1, R3): a realistic stream of locker events with report presses among them, driven through each
 * fault, ends with every event stored exactly once and every report in the incident log. The hub runs in its own
 * process (test/support/hub-process.ts) so it can be killed -9 and restarted on the same data and ports.
 *
 * "Minutes" of outage are shortened to seconds here so `npm test` stays short; set PHONES_AWAY_FAULT_OUTAGE_MS to
 * run the long outages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubProcess } from '../support/hub-process.js';
import {
  expectExactlyOnce,
  publishFaultTable,
  settle,
  startDevices,
  stream,
  verify,
} from './fault-support.js';

const OUTAGE_MS = Number(process.env.PHONES_AWAY_FAULT_OUTAGE_MS ?? 6_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('faults: delivery through crashes and outages (real hub process, real influxd)', () => {
  let hub: HubProcess;

  beforeAll(async () => {
    hub = await HubProcess.start();
  });

  afterAll(async () => {
    await hub?.dispose();
    publishFaultTable('delivery', 'delivery through crashes and outages');
  });

  it('R1, R3: hub kill -9 mid-stream and restart on the same data: every event stored exactly once', async () => {
    const devices = await startDevices(hub, 'kill9', 6);
    await stream(devices, 240, 10, async () => {
      await hub.kill('SIGKILL');
      await sleep(500);
      await hub.restart();
    });
    await settle(devices);
    const v = await verify(hub, devices, 'hub kill -9 + restart');
    await Promise.all(devices.map((d) => d.stop()));
    expectExactlyOnce(v);
  });

  it('R1, R3: broker restart (the broker is embedded: graceful hub restart) loses nothing', async () => {
    const devices = await startDevices(hub, 'brokerrestart', 6);
    await stream(devices, 240, 10, async () => {
      await hub.restart();
    });
    await settle(devices);
    const v = await verify(hub, devices, 'broker restart (hub SIGTERM + start)');
    await Promise.all(devices.map((d) => d.stop()));
    expectExactlyOnce(v);
  });

  it('D5: influxd stopped (SIGSTOP) for a while: the outbox delivers everything once it is back', async () => {
    const devices = await startDevices(hub, 'influxdown', 6);
    await hub.request({ cmd: 'influxd', signal: 'SIGSTOP' });
    try {
      await stream(devices, 240, 10);
      await settle(devices); // ingest does not wait for InfluxDB: reports are acked from the hub's own log
      await sleep(Math.max(0, OUTAGE_MS - 2_400));
    } finally {
      await hub.request({ cmd: 'influxd', signal: 'SIGCONT' });
    }
    const v = await verify(hub, devices, `influxd stopped ${OUTAGE_MS / 1000} s`);
    await Promise.all(devices.map((d) => d.stop()));
    expectExactlyOnce(v);
  });

  it('R1: a device offline with events buffered sends them all when it returns', async () => {
    const devices = await startDevices(hub, 'offline', 4);
    const away = devices[0];
    if (!away) throw new Error('no device');
    away.goOffline();
    await stream(devices, 160, 10);
    expect(away.pending.size).toBeGreaterThan(0);
    await sleep(Math.min(OUTAGE_MS, 2_000));
    await away.goOnline();
    await settle(devices);
    const v = await verify(hub, devices, 'device offline, events buffered');
    await Promise.all(devices.map((d) => d.stop()));
    expectExactlyOnce(v);
  });

  it('R1: device connection cut mid-write (socket destroyed with QoS 1 publishes in flight) loses nothing', async () => {
    // Light-client stand-in for a device kill -9: its journal survives (as the real device's file journal does),
    // its TCP connection and MQTT.js in-flight state do not.
    const devices = await startDevices(hub, 'cut', 4);
    await stream(devices, 160, 5, async () => {
      for (const d of devices) {
        const sockets = (d as unknown as { client: { stream: { destroy(): void } } | null }).client;
        sockets?.stream.destroy();
      }
    });
    await settle(devices);
    const v = await verify(hub, devices, 'device connection cut mid-write');
    await Promise.all(devices.map((d) => d.stop()));
    expectExactlyOnce(v);
  });

  // Points with the same series and time overwrite each other in InfluxDB; events carry their sequence number in the
  // sub-millisecond digits of the point time, so a device re-using its own earlier timestamps keeps every point.
  it('R1, R3: device clock jumping backwards (fake-hwclock after a reboot) keeps every event', async () => {
    // After the jump the device re-uses the timestamps of its own earlier events, same kinds in the same order:
    // exactly the case a store keyed by (series, time) would silently overwrite.
    let t = Date.now() - 3_600_000;
    const clock = () => t;
    const devices = await startDevices(hub, 'clockjump', 3, { clock });
    for (let k = 0; k < 40; k++) {
      if (k === 20) t -= 20_000;
      t += 1_000;
      for (const d of devices) {
        if (k % 4 === 3) d.report('normal');
        else d.lockerEvent(k % 2 === 0 ? 'locked' : 'unlocked', k % 30);
      }
      await sleep(5);
    }
    await settle(devices);
    const v = await verify(hub, devices, 'device clock jumps back 20 s');
    await Promise.all(devices.map((d) => d.stop()));
    expectExactlyOnce(v);
  });
});
