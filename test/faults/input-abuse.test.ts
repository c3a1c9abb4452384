/**
 * Input abuse: 100k+ fuzzed payloads from a provisioned device, and malformed MQTT packets over raw sockets. The hub
 * keeps running, changes nothing, counts every reject by reason, and still serves a good device afterwards.
 * Payloads come from a seeded generator, so a failure is reproducible (PHONES_AWAY_FUZZ_SEED).
 */
import { connect as tcpConnect } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markdownTable, replaceSection } from '../../bench/results-file.js';
import type { ReportAck } from '../../schemas/messages.js';
import { type DeviceAddress, parseTopic, schemaFor, topics } from '../../schemas/topics.js';
import { parsePayload } from '../../schemas/validate.js';
import {
  connectClient,
  type HubFixture,
  provisionAndConnect,
  startTestHub,
  waitFor,
} from '../support/hub-fixture.js';

const FUZZ_COUNT = Number(process.env.PHONES_AWAY_FUZZ_COUNT ?? 100_000);
const SEED = Number(process.env.PHONES_AWAY_FUZZ_SEED ?? 20_260_901);
const address: DeviceAddress = { site: 'demo-school', room: 'room-1', device: 'fuzz-device' };
const secret = 'fuzz-device-secret-000000001';

/** mulberry32: small, seedable, good enough to pick cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD = [
  '\u0000',
  '\ud800',
  '\udfff',
  '\u202e',
  '\ufeff',
  '😀',
  '\u0301\u0301\u0301',
  'İ',
  '\u2028',
  '\\u0000',
];

function validReport(seq: number): Record<string, unknown> {
  return {
    v: 1,
    id: `${address.device}:${seq}`,
    seq,
    ts: Date.now(),
    urgency: 'normal',
    pressMs: 100,
    queuedMs: 0,
  };
}

const CASES = [
  'random-bytes',
  'truncated',
  'wrong-type',
  'deep-nesting',
  'odd-unicode',
  'extra-fields',
  'oversized',
] as const;
type FuzzCase = (typeof CASES)[number];

function fuzzPayload(rand: () => number, i: number): { kind: FuzzCase; payload: Buffer } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  // Oversized is rare (big), the others equally likely.
  const kind: FuzzCase = i % 2_000 === 0 ? 'oversized' : pick(CASES.slice(0, -1));
  const good = validReport(1_000_000 + i);
  switch (kind) {
    case 'random-bytes': {
      const b = Buffer.alloc(Math.floor(rand() * 300));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(rand() * 256);
      return { kind, payload: b };
    }
    case 'truncated': {
      const text = JSON.stringify(good);
      return { kind, payload: Buffer.from(text.slice(0, Math.floor(rand() * (text.length - 1)))) };
    }
    case 'wrong-type': {
      const key = pick(Object.keys(good));
      const value = pick([
        null,
        true,
        -1,
        1.5,
        '1',
        [],
        {},
        'x'.repeat(70),
        2 ** 60,
        Number.MAX_SAFE_INTEGER + 2,
      ]);
      return { kind, payload: Buffer.from(JSON.stringify({ ...good, [key]: value })) };
    }
    case 'deep-nesting': {
      const depth = 1_000 + Math.floor(rand() * 9_000); // stays under the broker's 64 KB packet limit
      const body =
        rand() < 0.5
          ? `${'['.repeat(depth)}${']'.repeat(depth)}`
          : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      return { kind, payload: Buffer.from(body) };
    }
    case 'odd-unicode': {
      const odd = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => pick(ODD)).join('');
      const key = pick(['urgency', 'id', 'ts', odd]);
      const text = JSON.stringify({ ...good, [key]: odd });
      // Sometimes also raw invalid UTF-8 bytes (overlong encodings, lone continuation bytes) after valid text.
      const tail = rand() < 0.3 ? Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xff]) : Buffer.alloc(0);
      return { kind, payload: Buffer.concat([Buffer.from(text), tail]) };
    }
    case 'extra-fields':
      return {
        kind,
        payload: Buffer.from(
          pick([
            `{"__proto__":{"admin":true},"v":1,"id":"${good.id}","seq":${good.seq}}`,
            JSON.stringify({ ...good, constructor: { prototype: { polluted: 1 } } }),
            JSON.stringify({ ...good, pupil: 'never' }),
            JSON.stringify({ ...good, id: `room-2-locker:${good.seq}` }),
          ]),
        ),
      };
    case 'oversized':
      // Just under the broker's packet limit, so it reaches ingest; over-limit packets are tested on their own.
      return { kind, payload: Buffer.from(JSON.stringify({ ...good, pad: 'x'.repeat(60_000) })) };
  }
}

/** Malformed MQTT, each sent on a fresh raw TCP connection. */
const MALFORMED: { name: string; bytes: Buffer }[] = [
  { name: 'garbage', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') },
  // CONNECT, protocol name "MQTX"
  {
    name: 'bad protocol name',
    bytes: Buffer.from([0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x58, 4, 2, 0, 60, 0, 0]),
  },
  // CONNECT, protocol level 9
  {
    name: 'bad protocol level',
    bytes: Buffer.from([0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x54, 9, 2, 0, 60, 0, 0]),
  },
  // PUBLISH before CONNECT
  { name: 'publish before connect', bytes: Buffer.from([0x30, 0x05, 0, 1, 0x61, 0x68, 0x69]) },
  // remaining length with five continuation bytes (the maximum is four)
  { name: 'bad remaining length', bytes: Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]) },
  // CONNECT announcing 200 MB, then silence
  { name: 'huge announced length', bytes: Buffer.from([0x10, 0x80, 0x80, 0x80, 0x64, 0, 4]) },
  // truncated CONNECT
  { name: 'truncated connect', bytes: Buffer.from([0x10, 0x0c, 0, 4, 0x4d, 0x51]) },
  // reserved packet types 0 and 15
  { name: 'reserved type 0', bytes: Buffer.from([0x00, 0x00]) },
  { name: 'reserved type 15', bytes: Buffer.from([0xf0, 0x00]) },
  // CONNECT with a client id of invalid UTF-8
  {
    name: 'invalid utf-8 client id',
    bytes: Buffer.from([0x10, 0x10, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 4, 0xff, 0xfe, 0xc0, 0xaf]),
  },
  // CONNECT with reserved flag bit set
  {
    name: 'reserved connect flag',
    bytes: Buffer.from([0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x03, 0, 60, 0, 0]),
  },
];

function sendRaw(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => socket.write(bytes));
    setTimeout(done, 300); // the broker need not answer; what matters is that it survives
  });
}

describe('faults: input abuse (real hub, real aedes)', () => {
  let fixture: HubFixture;
  let device: MqttClient;
  const acks: ReportAck[] = [];
  const results: (string | number)[][] = [];

  beforeAll(async () => {
    fixture = await startTestHub();
    device = await provisionAndConnect(fixture.hub, address, secret);
    device.on('message', (topic, payload) => {
      if (topic === topics.reportAck(address)) acks.push(JSON.parse(payload.toString()) as ReportAck);
    });
    await device.subscribeAsync(topics.deviceInbox(address), { qos: 1 });
  });

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
    const table = markdownTable(['reject reason', 'count'], results);
    process.stdout.write(`\n${table}\n`);
    replaceSection(
      'faults-input',
      `## Fault suite: input abuse (\`npm run test:faults\`)\n\n${new Date().toISOString()}, seed ${SEED}. ` +
        `${FUZZ_COUNT} fuzzed payloads from one provisioned device over QoS 1 on its own topics, then ` +
        `${MALFORMED.length} kinds of malformed MQTT packet on raw sockets. Rejects counted by the hub ` +
        '(`hub.rejects.snapshot()`); nothing stored; the hub kept serving.\n\n' +
        table,
    );
  });

  it(`S5, R1: ${FUZZ_COUNT} fuzzed payloads: each rejected with a reason unless schema-valid, nothing else changes`, async () => {
    const { hub } = fixture;
    const rand = prng(SEED);
    const kinds = ['report', 'locker', 'heartbeat'] as const;
    const rejectsBefore = hub.rejects.total();
    const acceptedBefore = hub.ingest.stats.accepted;
    const incidentsBefore = (await hub.incidents.list({ limit: 100_000 })).length;
    const byCase = new Map<FuzzCase, number>();
    // A mutation can land on a value the schema allows (e.g. queuedMs: 2^60); such a payload is valid and must be
    // accepted. The hub's verdict must match our own validator's on every single payload.
    let expectValid = 0;
    let expectValidReports = 0;
    // A bounded window of QoS 1 publishes in flight, like a device with a busy journal.
    const WINDOW = 200;
    let inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < FUZZ_COUNT; i++) {
      const { kind, payload } = fuzzPayload(rand, i);
      byCase.set(kind, (byCase.get(kind) ?? 0) + 1);
      const topic =
        i % 10 === 9
          ? topics.state(address, i % 20 === 9 ? 'locker' : 'signage')
          : topics.event(address, kinds[i % 3] as (typeof kinds)[number]);
      const parsedTopic = parseTopic(topic);
      const verdict = parsedTopic ? parsePayload(schemaFor(parsedTopic), payload) : null;
      const env = verdict?.ok ? (verdict.value as { id?: unknown; seq?: unknown }) : null;
      if (env && (typeof env.id !== 'string' || env.id === `${address.device}:${env.seq}`)) {
        expectValid += 1;
        if (parsedTopic?.kind === 'event' && parsedTopic.event === 'report') expectValidReports += 1;
      }
      inFlight.push(device.publishAsync(topic, payload, { qos: 1 }));
      if (inFlight.length >= WINDOW) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
    await Promise.all(inFlight);
    // PUBACK precedes ingest in aedes, so wait for the hub to have looked at every payload.
    await waitFor(
      () => hub.rejects.total() - rejectsBefore + hub.ingest.stats.accepted - acceptedBefore >= FUZZ_COUNT,
      'every payload judged',
      30_000,
    ).catch((error: Error) => {
      const seen = hub.rejects.total() - rejectsBefore;
      throw new Error(
        `${error.message}: ${seen} of ${FUZZ_COUNT} rejected, accepted +${hub.ingest.stats.accepted - acceptedBefore}, ` +
          `duplicates ${hub.ingest.stats.duplicates}; ${JSON.stringify(hub.rejects.snapshot())}`,
      );
    });
    expect(hub.rejects.total() - rejectsBefore).toBe(FUZZ_COUNT - expectValid);
    expect(hub.ingest.stats.accepted - acceptedBefore).toBe(expectValid);
    expect((await hub.incidents.list({ limit: 100_000 })).length).toBe(incidentsBefore + expectValidReports);
    expect(device.connected).toBe(true);
    for (const [reason, n] of Object.entries(hub.rejects.snapshot())) results.push([reason, n]);
    results.push(['(accepted: schema-valid mutations, e.g. queuedMs 2^60)', expectValid]);
    results.push(['(fuzz cases sent)', [...byCase].map(([k, n]) => `${k} ${n}`).join(', ')]);
  });

  it('S5: packets over the size limit drop only their own connection, counted', async () => {
    const { hub } = fixture;
    const before = hub.rejects.snapshot()['mqtt: E_MQTT_TOO_LARGE'] ?? 0;
    const big: DeviceAddress = { ...address, device: 'fuzz-big' };
    await hub.registry.provision({
      id: big.device,
      address: big,
      secret,
      lockerMode: 'lesson',
      now: Date.now(),
    });
    const N = 20;
    for (let i = 0; i < N; i++) {
      const c = await connectClient(hub.mqttPort, {
        clientId: big.device,
        username: big.device,
        password: secret,
      });
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      c.publish(topics.event(big, 'report'), Buffer.alloc(100_000 + i * 100_000, 0x7b), { qos: 1 });
      await closed;
      c.end(true);
    }
    const after = hub.rejects.snapshot()['mqtt: E_MQTT_TOO_LARGE'] ?? 0;
    expect(after - before).toBe(N);
    results.push(['(over-limit packets, 100 KB–2 MB, own connections)', N]);
  });

  it('S4, S5: malformed MQTT packets on raw sockets are refused and counted; the hub keeps serving', async () => {
    const { hub } = fixture;
    const before = hub.rejects.snapshot();
    const ROUNDS = 20;
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(MALFORMED.map((m) => sendRaw(hub.mqttPort, m.bytes)));
    }
    const after = hub.rejects.snapshot();
    const mqttRejects = Object.entries(after)
      .filter(([reason]) => reason.startsWith('mqtt:') || reason.startsWith('auth:'))
      .reduce((n, [reason, count]) => n + count - (before[reason] ?? 0), 0);
    expect(mqttRejects).toBeGreaterThan(0);
    for (const [reason, n] of Object.entries(after)) {
      if (n !== before[reason]) results.push([`raw sockets: ${reason}`, n - (before[reason] ?? 0)]);
    }
    results.push(['(raw connections)', `${MALFORMED.length} kinds × ${ROUNDS}`]);

    // Still serving: a good report from the good device is stored and acknowledged.
    const good = validReport(1);
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(good), { qos: 1 });
    const ack = await waitFor(() => acks.find((a) => a.id === `${address.device}:1`), 'ack after abuse');
    expect(ack.ref).toMatch(/^[A-Z2-9]{4}$/);
  });
});
