/**
 * Exhaustion before authentication: an attacker on the school network opens 2,000 sockets to the hub and sends
 * nothing (no MQTT CONNECT, no TLS ClientHello, no HTTP request), re-opening each one the hub closes, so 2,000 stay
 * held. Meanwhile every real device must still connect, report and get its ReportAck, and the dashboard must answer.
 * Then the attacker stops re-opening and the hub must close every held socket by its own timeouts; and one address
 * opening more than its share must be refused at once. The hub runs in its own process with the default limits
 * (hub/limits.ts). Attack sockets come from other loopback addresses (127.0.x.y) than the devices (127.0.0.1), as an
 * attacker's machine would be another host than the classrooms'.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertificateFiles, makeCertificates } from '../../hub/devices/certificates.js';
import { DEFAULT_LIMITS } from '../../hub/limits.js';
import type { ReportAck } from '../../schemas/messages.js';
import { topics } from '../../schemas/topics.js';
import { percentile, writeArtifact } from '../support/artifacts.js';
import { waitFor } from '../support/hub-fixture.js';
import { freePorts, HubProcess } from '../support/hub-process.js';
import { SECRET, SITE, startDevices } from './fault-support.js';

/** Holds `count` idle sockets to host:port from `addresses` (round-robin), re-opening each one that closes. */
class HalfOpenFlood {
  readonly sockets = new Set<Socket>();
  closedByHub = 0;
  private holding = true;

  constructor(
    private readonly port: number,
    private readonly addresses: string[],
    count: number,
  ) {
    for (let i = 0; i < count; i++) this.open(this.addresses[i % this.addresses.length] as string);
  }

  private open(localAddress: string): void {
    const socket = netConnect({ host: '127.0.0.1', port: this.port, localAddress });
    socket.on('error', () => {});
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.closedByHub += 1;
      if (this.holding) this.open(localAddress);
    });
  }

  /** Sockets whose TCP handshake completed and that are still open. */
  established(): number {
    let n = 0;
    for (const s of this.sockets) if (!s.pending && !s.destroyed) n += 1;
    return n;
  }

  stopHolding(): void {
    this.holding = false;
  }

  destroy(): void {
    this.holding = false;
    for (const s of this.sockets) s.destroy();
  }
}

const addresses = (third: number, n: number) =>
  Array.from({ length: n }, (_, i) => `127.0.${third}.${i + 1}`);

/** A device over MQTT/TLS: connects, publishes one report and resolves with the time its ReportAck took. */
async function tlsDeviceReports(port: number, ca: string, device: string, room: string): Promise<number> {
  const address = { site: SITE, room, device };
  const started = performance.now();
  const client = await mqtt.connectAsync({
    protocol: 'mqtts',
    host: 'localhost',
    servername: 'localhost',
    port,
    ca,
    clientId: device,
    username: device,
    password: SECRET,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  try {
    await client.subscribeAsync(topics.reportAck(address), { qos: 1 });
    const id = `${device}:1`;
    const acked = new Promise<ReportAck>((resolve) =>
      client.on('message', (_topic, payload) => {
        const ack = JSON.parse(payload.toString()) as ReportAck;
        if (ack.id === id) resolve(ack);
      }),
    );
    const report = { v: 1, id, seq: 1, ts: Date.now(), urgency: 'normal', pressMs: 120, queuedMs: 0 };
    await client.publishAsync(topics.event(address, 'report'), JSON.stringify(report), { qos: 1 });
    await acked;
    return performance.now() - started;
  } finally {
    await client.endAsync(true);
  }
}

describe('faults: 2,000 half-open sockets before authentication (MQTT TCP, MQTT TLS, HTTP)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phones-away-exhaust-'));
  let certs: CertificateFiles;
  let hub: HubProcess;
  const floods: HalfOpenFlood[] = [];

  beforeAll(async () => {
    certs = await makeCertificates({ dir: join(dir, 'pki'), hubHost: 'localhost' });
    const [mqttPort, tlsPort, httpPort] = (await freePorts(3)) as [number, number, number];
    hub = await HubProcess.start({
      dataDir: mkdirSync(join(dir, 'hub'), { recursive: true }) ?? join(dir, 'hub'),
      config: {
        mqtt: { host: '127.0.0.1', port: mqttPort, plain: true, tls: { port: tlsPort, ...certs.hub } },
        http: { host: '127.0.0.1', port: httpPort },
      },
    });
  });

  afterAll(async () => {
    for (const f of floods) f.destroy();
    await hub?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('S7, R1: with 2,000 idle sockets held, every device connects, reports and gets its ack; the hub then drops them all', async () => {
    const ready = hub.ready as NonNullable<HubProcess['ready']>;
    const httpPort = Number(new URL(ready.httpUrl).port);
    // 2,000 in all, every address under its per-address cap (100 on MQTT, 64 on HTTP), so only the timeouts and the
    // total caps stand between them and the devices.
    const tcp = new HalfOpenFlood(ready.mqttPort, addresses(1, 10), 800);
    const tls = new HalfOpenFlood(ready.mqttTlsPort as number, addresses(2, 10), 600);
    const http = new HalfOpenFlood(httpPort, addresses(3, 10), 600);
    floods.push(tcp, tls, http);
    await waitFor(
      () => tcp.established() + tls.established() + http.established() === 2_000,
      '2,000 idle sockets established',
      30_000,
    );

    // Every real device, while the 2,000 are held: 24 over TCP (the fault suite's light devices) and 6 over TLS.
    const started = performance.now();
    const devices = await startDevices(hub, 'exhaust', 24);
    const tlsIds = Array.from({ length: 6 }, (_, i) => `exhaust-tls-${i + 1}`);
    await hub.request({
      cmd: 'provision',
      secret: SECRET,
      devices: tlsIds.map((id, i) => ({ id, site: SITE, room: `room-${(i % 3) + 1}` })),
    });
    const sentAt = new Map<string, number>();
    for (const d of devices) sentAt.set(d.report('normal'), performance.now());
    const tlsTimes = await Promise.all(
      tlsIds.map((id, i) =>
        tlsDeviceReports(
          ready.mqttTlsPort as number,
          readFileSync(certs.ca.cert, 'utf8'),
          id,
          `room-${(i % 3) + 1}`,
        ),
      ),
    );
    await waitFor(() => devices.every((d) => d.pending.size === 0), 'every TCP device acknowledged', 30_000);
    const tcpAckedMs = performance.now() - Math.min(...sentAt.values());
    const health = await fetch(`${ready.httpUrl}/healthz`);
    expect(health.status).toBeLessThan(600); // answered at all: 200, or 503 with reasons, never a hang
    await health.body?.cancel();
    const heldDuring = tcp.established() + tls.established() + http.established();
    const allDone = performance.now() - started;
    for (const d of devices) expect(d.acks.size).toBe(1);
    expect(tlsTimes).toHaveLength(6);

    // Stop re-opening: the hub must close every idle socket by its own timeouts (CONNECT 5 s, TLS 5 s, HTTP 10 s).
    const stoppedAt = performance.now();
    for (const f of floods) f.stopHolding();
    const open = () => `MQTT TCP ${tcp.sockets.size}, TLS ${tls.sockets.size}, HTTP ${http.sockets.size}`;
    await waitFor(
      () => tcp.sockets.size + tls.sockets.size + http.sockets.size === 0,
      'the hub to close every idle socket',
      DEFAULT_LIMITS.http.requestTimeoutMs + 10_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; still open: ${open()}`);
    });
    const drainedMs = performance.now() - stoppedAt;
    await Promise.all(devices.map((d) => d.stop()));

    const stats = await hub.stats();
    writeArtifact(
      'connection-exhaustion.md',
      [
        '| measure | value |',
        '|---|---|',
        `| idle sockets held while devices connected | ${heldDuring} of 2,000 (800 MQTT TCP, 600 MQTT TLS, 600 HTTP) |`,
        `| devices that connected, reported and got their ack | ${devices.length + tlsTimes.length} of 30 (24 TCP, 6 TLS) |`,
        `| 24 TCP devices: first report sent → every ack in (ms) | ${tcpAckedMs.toFixed(0)} |`,
        `| TLS device: connect + subscribe + report → ack, p50 / max (ms) | ${percentile(tlsTimes, 50).toFixed(1)} / ${Math.max(...tlsTimes).toFixed(1)} |`,
        `| all 30 devices done (ms) | ${allDone.toFixed(0)} |`,
        `| idle sockets the hub closed by its timeouts while held (re-opened each time) | ${tcp.closedByHub + tls.closedByHub + http.closedByHub} |`,
        `| after the attacker stopped re-opening: every idle socket closed by the hub within (ms) | ${drainedMs.toFixed(0)} |`,
        `| hub rejects counted | ${JSON.stringify(stats.rejects)} |`,
        `| hub RSS after (MB) | ${(stats.rssBytes / 1e6).toFixed(0)} |`,
      ].join('\n'),
    );
    expect(heldDuring).toBeGreaterThan(1_500);
  }, 120_000);

  it('S7: one address opening 300 MQTT sockets gets its cap of 100; the rest are closed at once and counted', async () => {
    const before = (await hub.stats()).rejects['tcp: connection cap (per-address)'] ?? 0;
    const flood = new HalfOpenFlood(
      (hub.ready as NonNullable<HubProcess['ready']>).mqttPort,
      ['127.0.4.1'],
      300,
    );
    floods.push(flood);
    flood.stopHolding();
    const refused = DEFAULT_LIMITS.mqtt.maxConnectionsPerAddress;
    await waitFor(
      async () =>
        ((await hub.stats()).rejects['tcp: connection cap (per-address)'] ?? 0) - before === 300 - refused,
      'the hub to refuse the sockets over the per-address cap',
      20_000,
    );
    // Those it refused are closed long before the CONNECT timeout of those it accepted.
    await waitFor(() => flood.sockets.size <= refused, 'the refused sockets to close', 4_000);
    flood.destroy();
  }, 60_000);
});
