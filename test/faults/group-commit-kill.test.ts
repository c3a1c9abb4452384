/**
 * Group commit through a crash (R1, R3): 40 devices each send 100 locker events at once (thousands in flight, so the
 * hub commits them in groups of up to a thousand), and the hub is killed -9 while those groups are being written,
 * then restarted on the same data. The devices resend whatever was not acknowledged (their journals, and MQTT.js's
 * own in-flight store, so resends race each other). InfluxDB is unreachable throughout, so the hub's durable outbox
 * keeps one point per stored event, in commit order (its keys sort by boot, then by order of commit): every event is
 * there once, each device's in the order it sent them, some from before the kill and the rest from after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/hub-fixture.js';
import { HubProcess } from '../support/hub-process.js';
import { faultRows, publishFaultTable, settle, startDevices } from './fault-support.js';

const DEVICES = 40;
const EVENTS = 100;

describe('faults: group commit through a hub kill -9 (real hub process)', () => {
  let hub: HubProcess;

  beforeAll(async () => {
    // Nothing listens on port 9 (discard): every outbox write fails as unavailable and the points stay queued.
    hub = await HubProcess.start({
      config: { influx: { mode: 'external', url: 'http://127.0.0.1:9', database: 'phones-away' } },
    });
  });

  afterAll(async () => {
    await hub?.dispose();
    publishFaultTable('group-commit', 'group commit through a hub kill -9');
  });

  it('R1, R3: kill -9 while thousands of events are being group-committed: all stored, none twice, each device in order', async () => {
    const devices = await startDevices(hub, 'gckill', DEVICES, { resendAfterMs: 1_500 });
    for (let i = 0; i < EVENTS; i++)
      for (const d of devices) d.lockerEvent(i % 2 ? 'locked' : 'unlocked', i % 30);
    // Mid-batch: the first groups are on disk, the rest in flight or still in the sockets.
    await waitFor(async () => (await hub.stats()).ingest.accepted >= 200, 'the first groups stored', 60_000);
    await hub.kill('SIGKILL');
    await hub.restart();
    await settle(devices, 120_000);

    const total = DEVICES * EVENTS;
    const outbox = await hub.request<[string, unknown][]>({ cmd: 'outbox' }, 120_000);
    const boots = new Set<string>();
    const byDevice = new Map<string, number[]>();
    for (const [key, point] of outbox) {
      const line = String(point);
      if (!line.startsWith('locker_event,')) continue;
      const device = /,device=([^, ]+)/.exec(line)?.[1] as string;
      const seq = Number(/[ ,]seq=([0-9.]+)/.exec(line)?.[1]);
      byDevice.set(device, [...(byDevice.get(device) ?? []), seq]);
      boots.add(key.slice(0, key.indexOf('-')));
    }
    const beforeKill = outbox.filter(([key]) => key.startsWith([...boots].sort()[0] as string)).length;
    for (const d of devices) {
      // Once each and in the order sent: exactly 1, 2, …, EVENTS in commit order.
      expect(byDevice.get(d.id), d.id).toEqual(Array.from({ length: EVENTS }, (_, i) => i + 1));
    }
    // The kill fell between groups on disk and groups still to come: both boots stored some.
    expect(boots.size).toBe(2);
    expect(beforeKill).toBeGreaterThan(0);
    expect(beforeKill).toBeLessThan(total);
    const stored = [...byDevice.values()].reduce((n, seqs) => n + seqs.length, 0);
    faultRows.push({
      fault: 'hub kill -9 mid group commit (40 devices × 100 events in flight)',
      eventsSent: total,
      eventsStored: stored,
      duplicates: stored - new Set(outbox.map(([, p]) => String(p))).size,
      reportsSent: 0,
      reportsLost: 0,
      note: `${beforeKill} stored before the kill, ${stored - beforeKill} after; each device in order`,
    });
    await Promise.all(devices.map((d) => d.stop()));
  }, 300_000);
});
