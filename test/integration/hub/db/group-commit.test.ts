/**
 * Group commit (R1, R3) against real parts: aedes on a loopback socket, MQTT.js device clients, LevelDB. Many devices
 * send hash-chained locker events and reports at once, each with every message in flight, and resend some of them
 * while the originals may still be on their way to disk: every event is stored once, each device's in the order it
 * sent them, every resent report is acknowledged with its original's reference, and the writes were grouped (far
 * fewer LevelDB writes than events).
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventHash } from '../../../../schemas/event-hash.js';
import type { LockerEvent, Report, ReportAck } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import { type HubFixture, provisionAndConnect, startTestHub, waitFor } from '../../../support/hub-fixture.js';

const DEVICES = 20;
const EVENTS = 150;
const secret = 'group-commit-device-secret-0001';

interface Device {
  address: { site: string; room: string; device: string };
  client: MqttClient;
  head?: string;
  seq: number;
}

/** The next durable event of a device, sealed as the firmware seals it (seq, id, prev = hash of the last one). */
function seal<T extends LockerEvent | Report>(d: Device, body: Omit<T, 'v' | 'id' | 'seq' | 'prev'>): T {
  d.seq += 1;
  const event = {
    v: 1,
    id: `${d.address.device}:${d.seq}`,
    seq: d.seq,
    ...body,
    ...(d.head ? { prev: d.head } : {}),
  } as T;
  d.head = eventHash(event);
  return event;
}

describe('group commit (real aedes, real LevelDB)', () => {
  let fixture: HubFixture;
  const devices: Device[] = [];
  /** Per device, the seqs of its locker events in the order the hub stored them (emitted after each commit). */
  const stored = new Map<string, number[]>();

  beforeAll(async () => {
    fixture = await startTestHub({
      // Reports here test grouping and exactly-once, not the flood rate.
      config: { limits: { reports: { perDevicePerMinute: 100_000, burst: 100_000 } } },
    });
    fixture.hub.bus.on('device.locker-event', ({ ref, event }) => {
      const seqs = stored.get(ref.device) ?? [];
      seqs.push(event.seq);
      stored.set(ref.device, seqs);
    });
    for (let i = 1; i <= DEVICES; i++) {
      const address = { site: 'demo-school', room: `room-${(i % 5) + 1}`, device: `gc-${i}` };
      devices.push({ address, client: await provisionAndConnect(fixture.hub, address, secret), seq: 0 });
    }
  });

  afterAll(async () => {
    for (const d of devices) d.client.end(true);
    await fixture?.dispose();
  });

  it('R1, R3: 20 devices × 150 locker events, all in flight, some resent at once: each stored once, in order, grouped', async () => {
    const { hub } = fixture;
    const writesBefore = hub.db.commits.writes;
    const duplicatesBefore = hub.ingest.stats.duplicates;
    let resent = 0;
    await Promise.all(
      devices.map(async (d) => {
        const events = Array.from({ length: EVENTS }, (_, i) =>
          seal<LockerEvent>(d, { ts: Date.now(), kind: i % 2 ? 'locked' : 'unlocked', phones: i % 30 }),
        );
        const topic = topics.event(d.address, 'locker');
        const sends: Promise<unknown>[] = [];
        for (const [i, event] of events.entries()) {
          sends.push(d.client.publishAsync(topic, JSON.stringify(event), { qos: 1 }));
          // A resend racing its original (a device that reconnected and replays its journal): every tenth, twice.
          if (i % 10 === 0) {
            sends.push(d.client.publishAsync(topic, JSON.stringify(event), { qos: 1 }));
            resent += 1;
          }
        }
        await Promise.all(sends); // every PUBACK: each follows the event's fsync
      }),
    );
    for (const d of devices) {
      const seqs = stored.get(d.address.device) ?? [];
      expect(seqs, `${d.address.device}: stored once each, in the order sent`).toEqual(
        Array.from({ length: EVENTS }, (_, i) => i + 1),
      );
      for (const seq of [1, EVENTS]) {
        expect(await hub.db.get('dedupe', `${d.address.device}:${seq}`)).toBe('locker-event');
      }
    }
    expect(hub.ingest.stats.duplicates - duplicatesBefore).toBe(resent);
    // Grouped across devices and across each device's events in flight: a write per device at a time (as before the
    // group commit) would take at least EVENTS writes; one per event, DEVICES × EVENTS.
    const writes = hub.db.commits.writes - writesBefore;
    expect(writes).toBeLessThan(EVENTS / 5);
    expect(hub.chain.stats).toEqual({ gaps: 0, breaks: 0 });
  });

  it('R1, R3: reports from every device at once, each resent before its ack: one incident each, both acks carry its reference', async () => {
    const { hub } = fixture;
    const acks = new Map<string, ReportAck[]>();
    await Promise.all(
      devices.map(async (d) => {
        d.client.on('message', (topic, payload) => {
          if (topic !== topics.reportAck(d.address)) return;
          const ack = JSON.parse(payload.toString()) as ReportAck;
          acks.set(ack.id, [...(acks.get(ack.id) ?? []), ack]);
        });
        await d.client.subscribeAsync(topics.reportAck(d.address), { qos: 1 });
      }),
    );
    const reports = devices.flatMap((d) =>
      Array.from({ length: 5 }, () =>
        seal<Report>(d, { ts: Date.now(), urgency: 'normal', pressMs: 120, queuedMs: 0 }),
      ).map((report) => ({ d, report })),
    );
    await Promise.all(
      reports.flatMap(({ d, report }) => {
        const topic = topics.event(d.address, 'report');
        return [
          d.client.publishAsync(topic, JSON.stringify(report), { qos: 1 }),
          d.client.publishAsync(topic, JSON.stringify(report), { qos: 1 }),
        ];
      }),
    );
    await waitFor(
      () => reports.every(({ report }) => acks.get(report.id)?.length === 2),
      'two acks per report',
    );
    const incidents = await hub.incidents.list({ limit: 10_000 });
    for (const { report } of reports) {
      const mine = incidents.filter((i) => i.eventId === report.id);
      expect(mine, report.id).toHaveLength(1);
      expect(acks.get(report.id)?.map((a) => a.ref)).toEqual([mine[0]?.ref, mine[0]?.ref]);
    }
    expect(new Set(incidents.map((i) => i.ref)).size).toBe(incidents.length);
  });
});
