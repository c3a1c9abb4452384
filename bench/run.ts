/**
 * `npm run bench` (full) and `npm run bench -- --quick` (smoke sizes, under ~2 minutes). Prints a table and writes
 * the bench section of bench/RESULTS.md. Everything runs on loopback; every loop is bounded; every process it starts
 * it stops. Comparisons run both sides in the same run, interleaved (A, B, A, B …), and report the ratio.
 * Sizes: BENCH_PUBLISHERS, BENCH_MESSAGES, BENCH_ROUNDS, BENCH_FLEET, BENCH_POINTS, BENCH_DAYS (env) override;
 * BENCH_ONLY picks scenarios (broker, storage, fleet, latency, device, trust), BENCH_SPEEDS the emulator speeds of the latency
 * scenario.
 */
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { HUB_NODE_FLAGS } from '../cli/hub-node-flags.js';
import {
  type LessonCompliance,
  lessonCompliance,
  rollUp,
  type TimelineEvent,
} from '../hub/compliance/compliance.js';
import { lessonPoint, rollUpPoint } from '../hub/compliance/compliance-recorder.js';
import { HubDb } from '../hub/db/hub-db.js';
import { type ComplianceLevel, complianceQuery } from '../hub/http/routes/compliance-routes.js';
import { startInfluxd } from '../hub/influx/influxd-process.js';
import { silentLogger } from '../hub/log.js';
import { MetricsOutbox } from '../hub/outbox/metrics-outbox.js';
import { addDays, localClock, termOf, weekStart, zonedTime } from '../hub/policy/calendar.js';
import { complianceWindows } from '../hub/policy/policy-engine.js';
import { InfluxStore } from '../hub/store/influx-store.js';
import type { MetricPoint } from '../hub/store/metrics-store.js';
import type { SchoolModel } from '../schemas/config.js';
import type { HubStats, StoredOrder } from '../test/support/hub-entry.js';
import { demoSchool } from '../test/support/hub-fixture.js';
import { freePorts, HubProcess } from '../test/support/hub-process.js';
import { CpuMeter } from './cpu-time.js';
import { measureDeviceProgram } from './device-program.js';
import { latencyDevices, runLatency } from './latency.js';
import { markdownTable, readSection, replaceSection } from './results-file.js';
import { trustBench } from './trust.js';

/**
 * Every simulated device connects from 127.0.0.1, which a school's per-address cap (hub/limits.ts) exists to stop;
 * the bench lifts it, and the report rate, and keeps the other limits at their defaults.
 */
const BENCH_HUB_CONFIG = {
  limits: {
    mqtt: { maxConnectionsPerAddress: 100_000 },
    // The latency scenario presses one room's button hundreds of times a minute: far beyond a person, by design.
    reports: { perDevicePerMinute: 1_000_000, burst: 1_000_000 },
  },
};

const quick = process.argv.includes('--quick');
const env = (name: string, full: number, small: number) =>
  Number(process.env[name] ?? (quick ? small : full));
const SIZES = {
  publishers: env('BENCH_PUBLISHERS', 10, 10),
  messages: env('BENCH_MESSAGES', 20_000, 1_000),
  rounds: env('BENCH_ROUNDS', 3, 2),
  fleet: env('BENCH_FLEET', 3_000, 200),
  fleetWorkers: env('BENCH_FLEET_WORKERS', 4, 2),
  rooms: env('BENCH_ROOMS', 60, 60),
  boards: env('BENCH_BOARDS', 2, 1),
  presses: env('BENCH_PRESSES', 200, 40),
  deviceWindowMs: env('BENCH_DEVICE_WINDOW_MS', 15_000, 5_000),
  heartbeats: env('BENCH_HEARTBEATS', 3, 2),
  heartbeatMs: env('BENCH_HEARTBEAT_MS', 10_000, 2_000),
  burstMs: env('BENCH_BURST_MS', 60_000, 5_000),
  points: env('BENCH_POINTS', 100_000, 10_000),
  durableEvents: env('BENCH_DURABLE_EVENTS', 5_000, 500),
  durableRounds: env('BENCH_DURABLE_ROUNDS', 2, 1),
  resendDevices: env('BENCH_RESEND_DEVICES', 3_000, 200),
  resendEvents: env('BENCH_RESEND_EVENTS', 200, 50),
  storms: env('BENCH_STORMS', 3, 1),
  days: env('BENCH_DAYS', 365, 60),
  trustSchools: env('BENCH_TRUST_SCHOOLS', 50, 10),
  trustWeeks: env('BENCH_TRUST_WEEKS', 13, 13),
  trustQueries: env('BENCH_TRUST_QUERIES', 200, 40),
  trustConcurrency: env('BENCH_TRUST_CONCURRENCY', 3, 3),
};
/** BENCH_SPEEDS=0.25 runs the latency scenario at one emulator speed only (default: 1 and 0.25). */
const LATENCY_SPEEDS = (process.env.BENCH_SPEEDS ?? '1,0.25').split(',').map(Number);
const SECRET = 'bench-device-secret-0000000001';
const SITE = 'demo-school';
const MOSQUITTO = process.env.BENCH_MOSQUITTO ?? '/usr/sbin/mosquitto';
const sections: string[] = [];
const summary: (string | number)[][] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** BENCH_HUB_PROF=<dir>: the hub child writes a V8 CPU profile there when it stops (for finding hot spots). */
const hubExecArgv = [
  ...(process.env.BENCH_HUB_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_HUB_PROF] : []),
  ...(process.env.BENCH_HUB_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
];

function log(line: string): void {
  process.stdout.write(`[bench] ${line}\n`);
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}
/** The middle value; with an even count the mean of the two middle ones (pct's nearest rank would take the upper). */
function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** A forked load generator (bench/workers/mqtt-load.ts). */
class Worker {
  private nextId = 1;
  private readonly waiting = new Map<number, (v: { ok: boolean; value?: unknown; error?: string }) => void>();
  readonly events: string[] = [];
  private constructor(private readonly child: ChildProcess) {
    child.on(
      'message',
      (m: { id?: number; ok: boolean; value?: unknown; error?: string; event?: string }) => {
        if (m.event) this.events.push(m.event);
        if (m.id !== undefined) this.waiting.get(m.id)?.(m);
      },
    );
  }
  static async start(script = 'mqtt-load.ts'): Promise<Worker> {
    const child = fork(join(import.meta.dirname, 'workers', script), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise((r) => child.once('message', r));
    return new Worker(child);
  }
  call<T>(message: Record<string, unknown>, timeoutMs = 600_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`worker ${String(message.cmd)} timed out`)), timeoutMs);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        m.ok ? ok(m.value as T) : fail(new Error(m.error));
      });
      this.child.send({ id, ...message });
    });
  }
  get pid(): number {
    return this.child.pid as number;
  }
  async stop(): Promise<void> {
    await this.call({ cmd: 'exit' }, 10_000).catch(() => this.child.kill('SIGKILL'));
  }
}

function machine(): string {
  const cpus = os.cpus();
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const version = (name: string) => {
    try {
      return (
        JSON.parse(
          readFileSync(join(import.meta.dirname, '..', 'node_modules', name, 'package.json'), 'utf8'),
        ) as { version: string }
      ).version;
    } catch {
      return '?';
    }
  };
  const mosq = (() => {
    try {
      const out = spawnSyncText(MOSQUITTO, ['-h']);
      return /mosquitto version ([\d.]+)/.exec(out)?.[1] ?? '?';
    } catch {
      return 'missing';
    }
  })();
  return [
    `- date: ${new Date().toISOString()}`,
    `- command: \`npm run bench${quick ? ' -- --quick' : ''}\` (${quick ? 'quick smoke sizes' : 'full sizes'})`,
    `- machine: ${cpus[0]?.model ?? '?'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}, load average at start ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `- versions: phones-away ${pkg.version}, node ${process.version}, aedes ${version('aedes')} (own LevelDB persistence), mqtt ${version('mqtt')}, mosquitto ${mosq}, influxd (Debian) 1.6.x`,
    `- sizes: ${JSON.stringify(SIZES)}`,
  ].join('\n');
}

function spawnSyncText(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

async function startMosquitto(): Promise<{
  port: number;
  readonly pid: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
}> {
  const dir = mkdtempSync(join(os.tmpdir(), 'phones-away-mosq-'));
  const [port] = (await freePorts(1)) as [number];
  const conf = join(dir, 'mosquitto.conf');
  // Loopback only, anonymous allowed on it; in-memory (Mosquitto's persistence is a periodic snapshot, not per message).
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\nmax_queued_messages 100000\n`,
  );
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) => {
        const s = tcpConnect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          r(true);
        });
        s.once('error', () => r(false));
      });
      if (ok) return;
      await sleep(50);
    }
    throw new Error('mosquitto did not start');
  };
  await launch();
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    port,
    get pid() {
      return child.pid as number;
    },
    restart: async () => {
      await stop();
      await launch();
    },
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** aedes alone (bench/workers/bare-aedes.ts): the broker the hub embeds, in memory, with no checks and no store. */
async function startBareAedes(): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const child = fork(join(import.meta.dirname, 'workers', 'bare-aedes.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((ok) => child.once('message', (m: { port: number }) => ok(m.port)));
  return {
    port,
    pid: child.pid as number,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function devices(prefix: string, n: number, withPassword: boolean) {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i + 1}`,
    site: SITE,
    room: `bench-room-${(i % 60) + 1}`,
    ...(withPassword ? { password: SECRET } : {}),
  }));
}

// ---------------------------------------------------------------- a. broker: hub vs Mosquitto
async function brokerBench(): Promise<void> {
  log(
    `broker: ${SIZES.publishers} publishers × ${SIZES.messages} messages, ${SIZES.rounds} interleaved rounds`,
  );
  const hub = await HubProcess.start({ config: BENCH_HUB_CONFIG, execArgv: hubExecArgv, compiled: true });
  const mosq = await startMosquitto();
  const specs = devices('bench-pub', SIZES.publishers, true);
  await hub.request({ cmd: 'provision', secret: SECRET, devices: specs });
  const pubHub = await Worker.start();
  const pubMosq = await Worker.start();
  const subMosq = await Worker.start();
  await pubHub.call({ cmd: 'connect', port: hub.mqttPort, clients: specs, clean: true });
  await pubMosq.call({ cmd: 'connect', port: mosq.port, clients: specs, clean: true });
  type Run = { rate: number; p50: number; p99: number };
  const results: Record<string, Run[]> = {};
  const add = (key: string, r: Run) => {
    results[key] ??= [];
    results[key].push(r);
  };
  const total = SIZES.publishers * SIZES.messages;
  /** The same publishers against Mosquitto, with a subscriber counting delivery; times from first publish to last. */
  const mosquittoRun = async (qos: 0 | 1, kind: 'heartbeat' | 'locker', messages: number) => {
    const sub = subMosq.call<{ received: number; ms: number; latencies: number[] }>({
      cmd: 'subscribe',
      port: mosq.port,
      filter: `phones-away/v1/${SITE}/#`,
      expect: SIZES.publishers * messages,
      timeoutMs: 120_000,
    });
    while (!subMosq.events.includes('subscribed')) await sleep(10);
    subMosq.events.length = 0;
    const m0 = performance.now();
    const pub = await pubMosq.call<{ ms: number; latencies: number[] }>({
      cmd: 'publish',
      qos,
      kind,
      messages,
      window: 100,
    });
    const got = await sub;
    return { pub, got, ms: performance.now() - m0 };
  };
  try {
    for (let round = 0; round < SIZES.rounds; round++) {
      for (const qos of [1, 0] as const) {
        // hub: heartbeats through auth hooks, level persistence and the real ingest (validate, outbox, registry)
        await hub.request({ cmd: 'latency', reset: true });
        const before = (await hub.stats()).ingest.accepted;
        const t0 = performance.now();
        const pub = await pubHub.call<{ ms: number; latencies: number[] }>({
          cmd: 'publish',
          qos,
          messages: SIZES.messages,
          window: 100,
        });
        // QoS 1 PUBACK precedes ingest in aedes, so completion is counted at the hub's ingest either way.
        const deadline = Date.now() + 120_000;
        while ((await hub.stats()).ingest.accepted - before < total && Date.now() < deadline) await sleep(20);
        const ms = performance.now() - t0;
        const accepted = (await hub.stats()).ingest.accepted - before;
        const ingestLat = await hub.request<number[]>({ cmd: 'latency', reset: true });
        add(`hub qos${qos}`, {
          rate: (accepted / ms) * 1000,
          p50: median(ingestLat),
          p99: pct(ingestLat, 99),
        });
        if (qos === 1)
          add('hub qos1 puback', {
            rate: (total / pub.ms) * 1000,
            p50: median(pub.latencies),
            p99: pct(pub.latencies, 99),
          });
        // mosquitto: same publishers, a subscriber counts delivery (Mosquitto does no ingest: this is its best case)
        const { pub: mpub, got, ms: mms } = await mosquittoRun(qos, 'heartbeat', SIZES.messages);
        add(`mosquitto qos${qos}`, {
          rate: (got.received / mms) * 1000,
          p50: median(got.latencies),
          p99: pct(got.latencies, 99),
        });
        if (qos === 1)
          add('mosquitto qos1 puback', {
            rate: (total / mpub.ms) * 1000,
            p50: median(mpub.latencies),
            p99: pct(mpub.latencies, 99),
          });
        log(
          `round ${round + 1} qos${qos}: hub ${fmt((accepted / ms) * 1000)} msg/s, mosquitto ${fmt((got.received / mms) * 1000)} msg/s (received ${got.received}/${total})`,
        );
      }
    }
    // Durable events, once after the rounds (their outbox backlog would slow the rounds after them): hash-chained
    // locker events, each fsynced (group commit) before its PUBACK at the hub. A tenth of the messages: ten devices
    // each sending thousands of events back to back is not a school's traffic, and the hub keeps each device's events
    // in order (one at a time per device).
    const durable = Math.max(100, Math.round(SIZES.messages / 10));
    const durableTotal = SIZES.publishers * durable;
    const before = (await hub.stats()).ingest.accepted;
    const l0 = performance.now();
    const lpub = await pubHub.call<{ ms: number; latencies: number[] }>({
      cmd: 'publish',
      qos: 1,
      kind: 'locker',
      messages: durable,
      window: 100,
    });
    const lms = performance.now() - l0;
    const stored = (await hub.stats()).ingest.accepted - before;
    add('hub qos1 locker events (fsynced before PUBACK)', {
      rate: (stored / lms) * 1000,
      p50: median(lpub.latencies),
      p99: pct(lpub.latencies, 99),
    });
    const { got: lgot, ms: mlms } = await mosquittoRun(1, 'locker', durable);
    add('mosquitto qos1 locker events', {
      rate: (lgot.received / mlms) * 1000,
      p50: median(lgot.latencies),
      p99: pct(lgot.latencies, 99),
    });
    log(
      `locker events qos1: hub ${fmt((stored / lms) * 1000)} msg/s (stored ${stored}/${durableTotal}), mosquitto ${fmt((lgot.received / mlms) * 1000)} msg/s`,
    );
  } finally {
    await Promise.all([pubHub.stop(), pubMosq.stop(), subMosq.stop()]);
    await hub.dispose();
    await mosq.stop();
  }
  const rows: (string | number)[][] = [];
  for (const [key, runs] of Object.entries(results)) {
    rows.push([
      key,
      fmt(median(runs.map((r) => r.rate))),
      fmt(median(runs.map((r) => r.p50)), 1),
      fmt(Math.max(...runs.map((r) => r.p99)), 1),
    ]);
  }
  const ratio = (a: string, b: string) =>
    median(results[a]?.map((r) => r.rate) ?? []) / median(results[b]?.map((r) => r.rate) ?? []);
  const r1 = ratio('hub qos1', 'mosquitto qos1');
  const r0 = ratio('hub qos0', 'mosquitto qos0');
  const rp = ratio('hub qos1 puback', 'mosquitto qos1 puback');
  const rl = ratio('hub qos1 locker events (fsynced before PUBACK)', 'mosquitto qos1 locker events');
  summary.push(['broker QoS 1: hub (ingested) / Mosquitto (delivered)', `${r1.toFixed(2)}×`, '≥ 0.8×']);
  summary.push(['broker QoS 1: PUBACK rate hub / Mosquitto', `${rp.toFixed(2)}×`, '≥ 0.8×']);
  summary.push(['broker QoS 0: hub / Mosquitto', `${r0.toFixed(2)}×`, '']);
  summary.push([
    'broker QoS 1 locker events: hub (each fsynced before PUBACK) / Mosquitto (routing, no persistence)',
    `${rl.toFixed(2)}×`,
    '',
  ]);
  sections.push(
    `### a. Broker: hub vs Mosquitto\n\n${SIZES.publishers} publishers × ${SIZES.messages} heartbeats (valid against the schema, each publisher a provisioned device on its own event topic), at most 100 QoS 1 in flight per publisher, ${SIZES.rounds} rounds interleaved hub, Mosquitto, hub, … Median rate over rounds, latency percentiles per round (worst p99 shown). Latency resolution 1 ms for delivery/ingest (sender Date.now() in the payload), sub-ms for PUBACK.\n\n` +
      "- **hub qosN**: rate = messages fully ingested by the hub per second (auth and ACL hooks, aedes with its LevelDB persistence, schema validation, the device's hash-chain check, last-seen, the live grid; heartbeats are telemetry: at most one point per device per minute goes to InfluxDB, through the outbox's memory lane, not LevelDB); latency = send → ingested. Locker events and reports, which are fsynced before their PUBACK, are not in this figure.\n" +
      '- **mosquitto qosN**: rate = messages delivered to one subscriber per second; latency = send → delivered. Mosquitto only routes, it does no ingest work, so this favours Mosquitto.\n' +
      '- **… puback**: publisher-side rate until the last PUBACK, and PUBACK latency. The hub ingests in `authorizePublish`, so its PUBACK follows the durable store.\n' +
      '- **… locker events** (once, after the rounds, a tenth of the messages per publisher): the same publishers send hash-chained locker events (QoS 1). The hub validates, checks the chain, dedupes and fsyncs each (LevelDB, group commit) with its outbox point before the PUBACK; latency = PUBACK latency. Mosquitto routes the same payloads to one subscriber (latency = delivery); it persists nothing per message, so this is the price of "nothing lost", not a like-for-like race.\n\n' +
      markdownTable(['variant', 'msg/s', 'p50 ms', 'p99 ms'], rows) +
      `\n\nRatios: QoS 1 hub/Mosquitto **${r1.toFixed(2)}×** (PUBACK rate ${rp.toFixed(2)}×), QoS 0 **${r0.toFixed(2)}×**. Target ≥ 0.8×. ` +
      'A variant with a monitor account subscribed to the site (the hub routing as well as ingesting) is not measured yet.\n',
  );
}

// ---------------------------------------------------------------- f. durable events: group commit vs Mosquitto
async function durableBench(): Promise<void> {
  const P = SIZES.publishers;
  const M = SIZES.durableEvents;
  const D = SIZES.resendDevices;
  const E = SIZES.resendEvents;
  log(
    `durable: ${P} devices × ${M} locker events (${SIZES.durableRounds} rounds); ${D} devices each resending ${E}`,
  );
  const hub = await HubProcess.start({ config: BENCH_HUB_CONFIG, execArgv: hubExecArgv, compiled: true });
  const mosq = await startMosquitto();
  const aedes = await startBareAedes();
  const subMosq = await Worker.start();
  const rows: (string | number)[][] = [];
  /** A peer broker delivering `expect` messages to one subscriber while `send` publishes them; first publish → last. */
  const throughPeer = async (port: number, expect: number, send: () => Promise<unknown>) => {
    const sub = subMosq.call<{ received: number; ms: number; latencies: number[] }>({
      cmd: 'subscribe',
      port,
      filter: `phones-away/v1/${SITE}/#`,
      expect,
      timeoutMs: 300_000,
    });
    while (!subMosq.events.includes('subscribed')) await sleep(10);
    subMosq.events.length = 0;
    const t0 = performance.now();
    await send();
    const got = await sub;
    return { received: got.received, ms: performance.now() - t0, latencies: got.latencies };
  };
  const throughMosquitto = (expect: number, send: () => Promise<unknown>) =>
    throughPeer(mosq.port, expect, send);
  /** The hub storing `expect` more locker events while `send` publishes them (every PUBACK follows the fsync). */
  const throughHub = async (expect: number, send: () => Promise<{ latencies: number[] }[]>) => {
    await hub.request({ cmd: 'stored-order', reset: true });
    const start = await hub.stats();
    const before = start.ingest.accepted;
    const t0 = performance.now();
    const sent = await send();
    const deadline = Date.now() + 300_000;
    while ((await hub.stats()).ingest.accepted - before < expect && Date.now() < deadline) await sleep(20);
    const ms = performance.now() - t0;
    const order = await hub.request<StoredOrder>({ cmd: 'stored-order', reset: true });
    const cpuPerEvent = ((await hub.stats()).cpuMicros - start.cpuMicros) / Math.max(1, order.events);
    return { ms, order, cpuPerEvent, latencies: sent.flatMap((s) => s.latencies) };
  };
  const rate = {
    hub: [] as number[],
    mosq: [] as number[],
    aedes: [] as number[],
    /** The hub's store alone (bench/workers/store-floor.ts): events/s, and events per LevelDB write. */
    floor: [] as number[],
    floorGroup: [] as number[],
    hubP99: 0,
    mosqP99: 0,
    cpu: [] as number[],
    /** Per round: CPU µs per event of each process (and main thread) of each peer, measured from /proc. */
    budget: [] as {
      hub: Record<string, number>;
      mosq: Record<string, number>;
      aedes: Record<string, number>;
      floor: Record<string, number>;
    }[],
  };
  let resend:
    | { hubMs: number; mosqMs: number; order: StoredOrder; received: number; hubP99: number }
    | undefined;
  try {
    // 1. Rate: P devices, each with 100 locker events in flight, hub and Mosquitto interleaved.
    const specs = devices('bench-durable', P, true);
    await hub.request({ cmd: 'provision', secret: SECRET, devices: specs });
    const pubHub = await Worker.start();
    const pubMosq = await Worker.start();
    const pubAedes = await Worker.start();
    const floor = await Worker.start('store-floor.ts');
    try {
      await pubHub.call({ cmd: 'connect', port: hub.mqttPort, clients: specs, clean: true });
      await pubMosq.call({ cmd: 'connect', port: mosq.port, clients: specs, clean: true });
      await pubAedes.call({ cmd: 'connect', port: aedes.port, clients: specs, clean: true });
      const publish = (w: Worker) =>
        w.call<{ latencies: number[] }>({ cmd: 'publish', qos: 1, kind: 'locker', messages: M, window: 100 });
      const hubPid = hub.pid as number;
      const influxdPid = hub.ready?.influxdPid;
      const hubCpu = new CpuMeter([
        { name: 'main thread', pid: hubPid, thread: hubPid },
        { name: 'process', pid: hubPid },
        { name: 'publishers', pid: pubHub.pid },
        // The hub's private influxd takes the outbox's points as they are stored: on the same cores.
        ...(influxdPid ? [{ name: 'influxd', pid: influxdPid }] : []),
      ]);
      const floorCpu = new CpuMeter([
        { name: 'main thread', pid: floor.pid, thread: floor.pid },
        { name: 'process', pid: floor.pid },
      ]);
      const mosqCpu = new CpuMeter([
        { name: 'process', pid: mosq.pid },
        { name: 'publishers', pid: pubMosq.pid },
        { name: 'subscriber', pid: subMosq.pid },
      ]);
      const aedesCpu = new CpuMeter([
        { name: 'main thread', pid: aedes.pid, thread: aedes.pid },
        { name: 'process', pid: aedes.pid },
        { name: 'publishers', pid: pubAedes.pid },
        { name: 'subscriber', pid: subMosq.pid },
      ]);
      // A warm-up round, not counted: each peer's first events meet cold code (V8 compiles the hub's and the load
      // processes' paths as they run, LevelDB's first files are made), which made the first counted round the low one.
      const warmUp = Math.max(1, Math.round(M / 5));
      const publishWarmUp = (w: Worker) =>
        w.call<{ latencies: number[] }>({
          cmd: 'publish',
          qos: 1,
          kind: 'locker',
          messages: warmUp,
          window: 100,
        });
      await throughHub(P * warmUp, async () => [await publishWarmUp(pubHub)]);
      await throughMosquitto(P * warmUp, () => publishWarmUp(pubMosq));
      await throughPeer(aedes.port, P * warmUp, () => publishWarmUp(pubAedes));
      await floor.call({ cmd: 'run', devices: P, perDevice: warmUp });
      for (let round = 0; round < SIZES.durableRounds; round++) {
        hubCpu.start();
        const h = await throughHub(P * M, async () => [await publish(pubHub)]);
        const hubBudget = hubCpu.perEvent(P * M);
        if (h.order.events !== P * M || h.order.outOfOrder > 0 || h.order.repeated > 0)
          throw new Error(`durable rate round ${round + 1}: stored ${JSON.stringify(h.order)}`);
        mosqCpu.start();
        const m = await throughMosquitto(P * M, () => publish(pubMosq));
        const mosqBudget = mosqCpu.perEvent(P * M);
        aedesCpu.start();
        const a = await throughPeer(aedes.port, P * M, () => publish(pubAedes));
        const aedesBudget = aedesCpu.perEvent(P * M);
        floorCpu.start();
        const f = await floor.call<{ ms: number; writes: number }>({ cmd: 'run', devices: P, perDevice: M });
        rate.floor.push(((P * M) / f.ms) * 1000);
        rate.floorGroup.push((P * M) / f.writes);
        rate.budget.push({
          hub: hubBudget,
          mosq: mosqBudget,
          aedes: aedesBudget,
          floor: floorCpu.perEvent(P * M),
        });
        rate.aedes.push((a.received / a.ms) * 1000);
        rate.hub.push(((P * M) / h.ms) * 1000);
        rate.cpu.push(h.cpuPerEvent);
        rate.mosq.push((m.received / m.ms) * 1000);
        rate.hubP99 = Math.max(rate.hubP99, pct(h.latencies, 99));
        rate.mosqP99 = Math.max(rate.mosqP99, pct(m.latencies, 99));
        log(
          `durable round ${round + 1}: hub ${fmt(rate.hub.at(-1) ?? 0)} events/s stored in order, mosquitto ${fmt(rate.mosq.at(-1) ?? 0)} msg/s, aedes alone ${fmt(rate.aedes.at(-1) ?? 0)} msg/s`,
        );
      }
    } finally {
      await Promise.all([pubHub.stop(), pubMosq.stop(), pubAedes.stop(), floor.stop()]);
    }
    // 2. After an outage: D devices connect and each resends E journaled events at once (as the firmware does on
    // every connect: everything pending, no window).
    const fleet = devices('bench-resend', D, true);
    await hub.request({ cmd: 'provision', secret: SECRET, devices: fleet });
    const workers = await Promise.all(Array.from({ length: SIZES.fleetWorkers }, () => Worker.start()));
    const share = (w: number) => fleet.filter((_, i) => i % SIZES.fleetWorkers === w);
    const resendAll = () =>
      Promise.all(
        workers.map((w) =>
          w.call<{ latencies: number[] }>({ cmd: 'publish', qos: 1, kind: 'locker', messages: E, window: E }),
        ),
      );
    try {
      await Promise.all(
        workers.map((w, i) => w.call({ cmd: 'connect', port: hub.mqttPort, clients: share(i), clean: true })),
      );
      const h = await throughHub(D * E, resendAll);
      const mw = await Promise.all(Array.from({ length: SIZES.fleetWorkers }, () => Worker.start()));
      try {
        await Promise.all(
          mw.map((w, i) => w.call({ cmd: 'connect', port: mosq.port, clients: share(i), clean: true })),
        );
        const m = await throughMosquitto(D * E, () =>
          Promise.all(
            mw.map((w) => w.call({ cmd: 'publish', qos: 1, kind: 'locker', messages: E, window: E })),
          ),
        );
        resend = {
          hubMs: h.ms,
          mosqMs: m.ms,
          order: h.order,
          received: m.received,
          hubP99: pct(h.latencies, 99),
        };
      } finally {
        await Promise.all(mw.map((w) => w.stop()));
      }
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  } finally {
    await subMosq.stop();
    await hub.dispose();
    await mosq.stop();
    await aedes.stop();
  }
  const hubRate = median(rate.hub);
  const mosqRate = median(rate.mosq);
  rows.push([
    `${P} devices × ${M} locker events, 100 in flight each: hub, each stored (fsynced, group commit) before its PUBACK`,
    `${fmt(hubRate)} events/s, median of rounds ${rate.hub.map((r) => fmt(r)).join(' and ')} (p99 PUBACK ${fmt(rate.hubP99, 1)} ms; hub CPU ${fmt(median(rate.cpu), 0)} µs per event)`,
  ]);
  rows.push([
    'the same payloads through Mosquitto (routing to one subscriber, nothing persisted)',
    `${fmt(mosqRate)} msg/s, median of rounds ${rate.mosq.map((r) => fmt(r)).join(' and ')} (p99 delivery ${fmt(rate.mosqP99, 1)} ms)`,
  ]);
  const aedesRate = median(rate.aedes);
  rows.push([
    'the same payloads through aedes alone (the version the hub embeds, in memory, no checks, no store, routing to one subscriber)',
    `${fmt(aedesRate)} msg/s, median of rounds ${rate.aedes.map((r) => fmt(r)).join(' and ')}`,
  ]);
  rows.push(['hub / Mosquitto', `${(hubRate / mosqRate).toFixed(2)}×`]);
  // Where each rate comes from: CPU per event of every process in the run, medians over rounds. The hub's main thread
  // is one core at most, so 1e6 / its µs per event is the rate it cannot pass however fast the disk is.
  const budget = (peer: 'hub' | 'mosq' | 'aedes' | 'floor', name: string) =>
    median(rate.budget.map((b) => b[peer][name] ?? Number.NaN));
  const us = (n: number) => `${fmt(n, 1)} µs`;
  rows.push([
    "CPU per event, hub: main thread / whole process (LevelDB and libuv threads included) / its publishers / its private influxd (taking the outbox's points meanwhile)",
    `${us(budget('hub', 'main thread'))} / ${us(budget('hub', 'process'))} / ${us(budget('hub', 'publishers'))} / ${us(budget('hub', 'influxd'))}; the main thread alone allows at most ${fmt(1e6 / budget('hub', 'main thread'))} events/s`,
  ]);
  rows.push([
    'CPU per event, Mosquitto: broker / its publishers / subscriber',
    `${us(budget('mosq', 'process'))} / ${us(budget('mosq', 'publishers'))} / ${us(budget('mosq', 'subscriber'))}`,
  ]);
  rows.push([
    'CPU per event, aedes alone: main thread / whole process / its publishers / subscriber',
    `${us(budget('aedes', 'main thread'))} / ${us(budget('aedes', 'process'))} / ${us(budget('aedes', 'publishers'))} / ${us(budget('aedes', 'subscriber'))}`,
  ]);
  // The machine's ceiling: every process of the run shares its cores, so however the hub's work were split between
  // threads, its rate cannot pass cores / (hub process + publishers) per event.
  const cores = os.cpus().length;
  const hubTotal = budget('hub', 'process') + budget('hub', 'publishers');
  rows.push([
    '0.8× Mosquitto would need',
    `at most ${us(1e6 / (0.8 * mosqRate))} per event on the hub's main thread (aedes alone spends ${us(budget('aedes', 'main thread'))} routing, with no checks and no store), and at most ${us((cores * 1e6) / (0.8 * mosqRate))} per event for the hub and its publishers together on this machine's ${cores} cores: they spend ${us(hubTotal)}, which caps the hub at ${fmt((cores * 1e6) / hubTotal)} events/s however its work is split between threads`,
  ]);
  // The least the hub's two main parts cost, each measured alone in the same rounds: what is left of the 0.8× budget
  // for everything else the hub does per event (parse, validate, chain check, dedupe, outbox drain, influxd).
  const hubAllowance = (cores * 1e6) / (0.8 * mosqRate) - budget('hub', 'publishers');
  const parts = budget('aedes', 'process') + budget('floor', 'process');
  rows.push([
    "the hub's store alone (bench/workers/store-floor.ts: the same HubDb, the ops the hub writes for one locker event, each device's events in order, 16 queued, fsynced group commit; no MQTT, no checks)",
    `${fmt(median(rate.floor))} events/s, ${fmt(median(rate.floorGroup), 0)} events per fsynced write; CPU ${us(budget('floor', 'process'))} per event (main thread ${us(budget('floor', 'main thread'))})`,
  ]);
  rows.push([
    "the hub's budget at 0.8× against its parts measured alone",
    `the hub process may spend ${us(hubAllowance)} per event (the 2-core budget less its publishers' ${us(budget('hub', 'publishers'))}); aedes alone routing (${us(budget('aedes', 'process'))}) and the store alone (${us(budget('floor', 'process'))}) take ${us(parts)}, ${parts < hubAllowance ? `leaving ${us(hubAllowance - parts)}` : `${us(parts - hubAllowance)} more than all of it, leaving nothing`} for parsing, validation, the chain check, dedupe, the outbox drain and influxd (${us(budget('hub', 'influxd'))} alone); the hub spends ${us(budget('hub', 'process') - parts)} on those in its own process`,
  ]);
  rows.push([
    'aedes alone / Mosquitto (the ceiling of the broker the hub is built on, on this machine)',
    `${(aedesRate / mosqRate).toFixed(2)}×`,
  ]);
  summary.push(['durable events: hub stored (fsynced before PUBACK)', `${fmt(hubRate)} events/s`, '≥ 20k/s']);
  summary.push([
    'durable events: hub (stored) / Mosquitto (routing, no persistence)',
    `${(hubRate / mosqRate).toFixed(2)}× (aedes alone: ${(aedesRate / mosqRate).toFixed(2)}×)`,
    '≥ 0.8×',
  ]);
  if (resend) {
    const { order } = resend;
    const exact =
      order.events === D * E && order.repeated === 0 && order.outOfOrder === 0 && order.minPerDevice === E;
    rows.push([
      `after an outage: ${D} devices each resend ${E} journaled events at once: hub, until all stored`,
      `${fmt(resend.hubMs / 1000, 1)} s (${fmt(((D * E) / resend.hubMs) * 1000)} events/s; p99 PUBACK ${fmt(resend.hubP99, 0)} ms)`,
    ]);
    rows.push([
      '… stored: events, per device, out of order, twice',
      `${order.events} of ${D * E}; ${order.minPerDevice}–${order.maxPerDevice} per device; ${order.outOfOrder} out of order; ${order.repeated} twice`,
    ]);
    rows.push([
      '… Mosquitto delivering the same to one subscriber',
      `${fmt(resend.mosqMs / 1000, 1)} s (${resend.received} of ${D * E} delivered)`,
    ]);
    summary.push([
      `durable events: ${D} devices × ${E} resent after an outage, hub / Mosquitto time`,
      `${fmt(resend.hubMs / 1000, 1)} s / ${fmt(resend.mosqMs / 1000, 1)} s; ${exact ? 'all stored in order, once' : 'NOT all stored in order once'}`,
      'all stored, in order, once',
    ]);
  }
  sections.push(
    `### f. Durable events: group commit vs Mosquitto\n\n` +
      `Locker events (QoS 1, hash-chained as the firmware seals them) through the compiled hub: each is validated, chain-checked, deduplicated and stored with its outbox point in one atomic LevelDB batch, fsynced, before its PUBACK. ` +
      `A device's events are checked one at a time, in order, and their writes are pipelined beneath: submitted in order to one shared write queue, which commits whatever every device has waiting in one fsynced batch (group commit). ` +
      `"Stored in order, once" is counted in the hub as each write completes (the order the hub emits its stored events, per device: no seq after a higher one, none twice). ` +
      `Mosquitto gets the same payloads from the same kind of clients and routes them to one subscriber without persisting anything: the peer's best case. ` +
      `aedes alone (bench/workers/bare-aedes.ts: the same aedes, its in-memory persistence, no authentication and no ingest) does the same, interleaved with both, as the ceiling of the broker the hub embeds. ` +
      `Each peer first takes a warm-up round of a fifth of the events, not counted. ` +
      `The hub's store alone (bench/workers/store-floor.ts) then writes the same number of events through the same HubDb, in the same rounds, as the floor of what storing costs; with aedes alone it shows how much of the CPU a 0.8× rate allows is left for the hub's own checks.\n\n` +
      `The outage scenario: ${D} devices connect (${SIZES.fleetWorkers} load processes) and each publishes the ${E} events its journal held, all at once, as the firmware resends everything pending on connect. Times run from the first publish to the last event stored (hub) or delivered (Mosquitto).\n\n` +
      markdownTable(['measure', 'value'], rows),
  );
}

// ---------------------------------------------------------------- b. fleet
async function fleetBench(): Promise<void> {
  const n = SIZES.fleet;
  log(
    `fleet: ${n} devices in ${SIZES.fleetWorkers} worker processes, ${SIZES.heartbeats} heartbeat rounds every ${SIZES.heartbeatMs} ms, burst over ${SIZES.burstMs} ms`,
  );
  // The hub's RSS without clients under either runtime: tsx's loader (hooks thread, transpiled sources) is not product.
  const tsxHub = await HubProcess.start({ config: BENCH_HUB_CONFIG, execArgv: hubExecArgv });
  const tsxRss = (await tsxHub.stats()).rssBytes;
  await tsxHub.dispose();
  const hub = await HubProcess.start({ config: BENCH_HUB_CONFIG, execArgv: hubExecArgv, compiled: true });
  const runtime =
    hub.runtime === 'tsx'
      ? 'sources under tsx: no build in dist/, run `npm run build` first'
      : `compiled hub: dist/ from \`npm run build\`, plain node${hub.runtime === 'compiled (stale build)' ? '; WARNING: a hub/ or schemas/ source is newer than the build' : ''}`;
  log(`fleet: hub runs as ${runtime}`);
  const startRss = (await hub.stats()).rssBytes;
  const specs = devices('bench-dev', n, true);
  await hub.request({ cmd: 'provision', secret: SECRET, devices: specs }, 600_000);
  const workers = await Promise.all(Array.from({ length: SIZES.fleetWorkers }, () => Worker.start()));
  const share = (w: number) => specs.filter((_, i) => i % SIZES.fleetWorkers === w);
  const rows: (string | number)[][] = [];
  /** Clients connected and subscribed across a set of load processes (the hub's, or Mosquitto's). */
  const status = async (of: Worker[] = workers) => {
    const all = await Promise.all(
      of.map((w) => w.call<{ connected: number; subscribed: number }>({ cmd: 'status' })),
    );
    return all.reduce(
      (a, b) => ({ connected: a.connected + b.connected, subscribed: a.subscribed + b.subscribed }),
      { connected: 0, subscribed: 0 },
    );
  };
  try {
    const c0 = performance.now();
    await Promise.all(
      workers.map((w, i) =>
        w.call({ cmd: 'connect', port: hub.mqttPort, clients: share(i), clean: false, availability: true }),
      ),
    );
    const connectMs = performance.now() - c0;
    const idle = await hub.stats();
    rows.push([
      'first connect of all devices (salted SHA-256 device secret check each)',
      `${fmt(connectMs / 1000, 1)} s`,
    ]);
    rows.push([
      'hub RSS just started, no clients: compiled (plain node) / sources under tsx',
      `${fmt(startRss / 2 ** 20)} MB / ${fmt(tsxRss / 2 ** 20)} MB`,
    ]);
    const mb = fleetMb;
    rows.push(['hub RSS idle with all connected', mb(idle)]);
    if (process.env.BENCH_HEAP_SNAPSHOT)
      await hub.request({ cmd: 'heap-snapshot', file: process.env.BENCH_HEAP_SNAPSHOT }, 300_000);
    const s0 = await hub.stats();
    const t0 = performance.now();
    const res = await Promise.all(
      workers.map((w) =>
        w.call<{ heartbeatsSent: number; burstAcked: number }>({
          cmd: 'fleet',
          heartbeatMs: SIZES.heartbeatMs,
          heartbeats: SIZES.heartbeats,
          burstMs: SIZES.burstMs,
        }),
      ),
    );
    const wall = performance.now() - t0;
    const sent = res.reduce((a, r) => a + r.heartbeatsSent, 0);
    const acked = res.reduce((a, r) => a + r.burstAcked, 0);
    const expected = sent + 2 * n;
    const deadline = Date.now() + 120_000;
    let s1 = await hub.stats();
    while (s1.ingest.accepted - s0.ingest.accepted < expected && Date.now() < deadline) {
      await sleep(200);
      s1 = await hub.stats();
    }
    await hub.request({ cmd: 'drain', timeoutMs: 120_000 }, 150_000);
    const lockSeries = await hub.request<{ values: unknown[][] }[]>({
      cmd: 'query',
      influxql: `SELECT count("phones") FROM "locker_event" WHERE "device" =~ /^bench-dev-/`,
    });
    const storedLocks = Number(lockSeries[0]?.values[0]?.[1] ?? 0);
    const cpuPct = ((s1.cpuMicros - s0.cpuMicros) / 1000 / wall) * 100;
    rows.push(['messages sent (heartbeats + locked state + locked event)', `${sent} + ${n} + ${n}`]);
    rows.push([
      'ingested by the hub',
      `${s1.ingest.accepted - s0.ingest.accepted} of ${expected} (lost ${expected - (s1.ingest.accepted - s0.ingest.accepted)})`,
    ]);
    rows.push(['lock events stored in InfluxDB', `${storedLocks} of ${n}`]);
    rows.push(['burst PUBACKs received', `${acked} of ${2 * n}`]);
    rows.push(['hub CPU during heartbeats + burst (of one core)', `${fmt(cpuPct)} %`]);
    rows.push(['hub RSS after burst', mb(s1)]);
    summary.push([
      `fleet ${n}: loss in burst`,
      `${expected - (s1.ingest.accepted - s0.ingest.accepted)} msgs, ${n - storedLocks} lock events`,
      '0',
    ]);
    summary.push([
      `fleet ${n}: hub RSS after burst, default node flags (${hub.runtime === 'tsx' ? 'hub under tsx' : 'compiled hub'})`,
      `${fmt(s1.rssBytes / 2 ** 20)} MB`,
      '≤ 250 MB',
    ]);
    // Reconnect storms after kill -9, SIZES.storms of them: on this shared two-core VM the same storm takes from 3.8 to
    // 5.4 s between runs (and its CPU time moves with it), so one storm is a sample, not a figure. Each waits for the
    // previous restart to finish and every device to be back.
    const storms: {
      ms: number;
      cpuMs: number;
      upMs: number;
      connected: number;
      startup: Record<string, number>;
    }[] = [];
    for (let round = 0; round < SIZES.storms; round++) {
      await hub.kill('SIGKILL');
      const k0 = performance.now();
      // Clients reconnect as soon as the broker listens, before the hub has finished starting: watch them meanwhile.
      let upMs = 0;
      const restarting = hub.restart().then((ready) => {
        upMs = performance.now() - k0;
        return ready;
      });
      let st = { connected: 0, subscribed: 0 };
      const stormDeadline = Date.now() + 600_000;
      do {
        await sleep(100);
        st = await status();
      } while ((st.connected < n || st.subscribed < n) && Date.now() < stormDeadline);
      const ms = performance.now() - k0;
      // The restarted hub's own CPU (all its threads) from its start until every device is back: less noisy than the
      // wall time on a shared two-core machine, where the load processes compete for the same cores.
      const cpuMs = (await hub.stats()).cpuMicros / 1000;
      const restarted = await restarting;
      storms.push({ ms, cpuMs, upMs, connected: st.connected, startup: restarted.startup });
      log(`fleet: storm ${round + 1}: ${fmt(ms / 1000, 1)} s, hub CPU ${fmt(cpuMs / 1000, 2)} s`);
    }
    const each = (f: (x: (typeof storms)[number]) => string) => storms.map(f).join(', ');
    const stormMs = median(storms.map((x) => x.ms));
    rows.push([
      `hub restart after kill -9 (until fully started: MQTT, policy, HTTP), each of ${storms.length} storms`,
      each((x) => `${fmt(x.upMs / 1000, 1)} s`),
    ]);
    rows.push([
      '… of which, per start-up phase (ms; clients reconnect from the broker phase on), the first storm',
      Object.entries(storms[0]?.startup ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ]);
    rows.push([
      `reconnect storm: all ${n} back and subscribed (session restored) after kill -9, each storm`,
      `${each((x) => `${fmt(x.ms / 1000, 1)} s`)} (median ${fmt(stormMs / 1000, 1)} s; ${each((x) => `${x.connected}`)} connected)`,
    ]);
    rows.push([
      '… hub CPU from its restart until all were back (all threads, start-up included), each storm',
      `${each((x) => `${fmt(x.cpuMs / 1000, 2)} s`)} (median ${fmt(median(storms.map((x) => x.cpuMs)) / 1000, 2)} s)`,
    ]);
    log(`fleet: storm median ${fmt(stormMs / 1000, 1)} s of ${each((x) => fmt(x.ms / 1000, 1))}`);
    summary.push([
      `fleet ${n}: reconnect storm after kill -9, median of ${storms.length}`,
      `${fmt(stormMs / 1000, 1)} s (${each((x) => fmt(x.ms / 1000, 1))})`,
      '≤ 5 s',
    ]);
    // Mosquitto restarts, as many, same clients, for comparison
    const mosq = await startMosquitto();
    const mw = await Promise.all(Array.from({ length: SIZES.fleetWorkers }, () => Worker.start()));
    await Promise.all(
      mw.map((w, i) =>
        w.call({
          cmd: 'connect',
          port: mosq.port,
          clients: share(i).map(({ password: _p, ...s }) => s),
          clean: false,
          availability: true,
        }),
      ),
    );
    const mStorms: number[] = [];
    for (let round = 0; round < SIZES.storms; round++) {
      const m0 = performance.now();
      await mosq.restart();
      let ms = { connected: 0, subscribed: 0 };
      const mDeadline = Date.now() + 300_000;
      do {
        await sleep(100);
        ms = await status(mw);
      } while ((ms.connected < n || ms.subscribed < n) && Date.now() < mDeadline);
      mStorms.push(performance.now() - m0);
    }
    const mStorm = median(mStorms);
    rows.push([
      `Mosquitto kill -9 + restart: all ${n} back and resubscribed (no persistence: clients resubscribe), each of ${mStorms.length}`,
      `${mStorms.map((m) => `${fmt(m / 1000, 1)} s`).join(', ')} (median ${fmt(mStorm / 1000, 1)} s)`,
    ]);
    summary.push([
      `fleet ${n}: reconnect storm hub / Mosquitto, medians`,
      `${(stormMs / mStorm).toFixed(1)}×`,
      '≤ 2.5×',
    ]);
    await Promise.all(mw.map((w) => w.stop()));
    await mosq.stop();
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await hub.dispose();
  }
  // The same load on a hub run with the small-machine V8 flags (cli/hub-node-flags.ts): memory against CPU.
  const small = await fleetMemoryPass([...HUB_NODE_FLAGS]);
  const flags = HUB_NODE_FLAGS.join(' ');
  rows.push([`with \`${flags}\`: hub RSS idle with all connected`, fleetMb(small.idle)]);
  rows.push([`with \`${flags}\`: hub RSS after burst`, fleetMb(small.after)]);
  rows.push([`with \`${flags}\`: hub CPU during heartbeats + burst (of one core)`, `${fmt(small.cpuPct)} %`]);
  rows.push([`with \`${flags}\`: lost in burst`, `${small.lost} msgs`]);
  summary.push([
    `fleet ${n}: hub RSS after burst, with \`${flags}\` (systemd unit)`,
    `${fmt(small.after.rssBytes / 2 ** 20)} MB`,
    '≤ 250 MB',
  ]);
  sections.push(
    `### b. Fleet\n\n${n} light device clients (MQTT.js, persistent sessions, each a provisioned device that, like the firmware, leaves a retained 'offline' last will and publishes 'online' on every connect, which makes the hub bring it up to date) in ${SIZES.fleetWorkers} worker processes; ${SIZES.heartbeats} rounds of heartbeats (QoS 0) spread over ${SIZES.heartbeatMs / 1000} s each, then a lesson-change burst: every device publishes its retained locked state and a 'locked' event (QoS 1) at a random moment within ${SIZES.burstMs / 1000} s. The hub runs in its own process, so RSS/CPU are its own (influxd excluded); it runs as the ${runtime}.\n\n` +
      markdownTable(['measure', 'value'], rows) +
      '\n',
  );
}

function fleetMb(st: HubStats): string {
  return `${fmt(st.rssBytes / 2 ** 20)} MB (V8 heap used ${fmt(st.heapUsedBytes / 2 ** 20)} of ${fmt(st.heapTotalBytes / 2 ** 20)} MB committed; external ${fmt(st.externalBytes / 2 ** 20)} MB)`;
}

/** Fleet load (connect, heartbeats, burst) on a fresh compiled hub with extra node flags: its memory and CPU. */
async function fleetMemoryPass(flags: string[]) {
  const n = SIZES.fleet;
  log(`fleet: memory pass with ${flags.join(' ')}`);
  const hub = await HubProcess.start({
    config: BENCH_HUB_CONFIG,
    execArgv: [...hubExecArgv, ...flags],
    compiled: true,
  });
  const specs = devices('bench-dev', n, true);
  const workers = await Promise.all(Array.from({ length: SIZES.fleetWorkers }, () => Worker.start()));
  try {
    await hub.request({ cmd: 'provision', secret: SECRET, devices: specs }, 600_000);
    await Promise.all(
      workers.map((w, i) =>
        w.call({
          cmd: 'connect',
          port: hub.mqttPort,
          clients: specs.filter((_, k) => k % SIZES.fleetWorkers === i),
          clean: false,
          availability: true,
        }),
      ),
    );
    const idle = await hub.stats();
    const t0 = performance.now();
    const res = await Promise.all(
      workers.map((w) =>
        w.call<{ heartbeatsSent: number }>({
          cmd: 'fleet',
          heartbeatMs: SIZES.heartbeatMs,
          heartbeats: SIZES.heartbeats,
          burstMs: SIZES.burstMs,
        }),
      ),
    );
    const wall = performance.now() - t0;
    const expected = res.reduce((a, r) => a + r.heartbeatsSent, 0) + 2 * n;
    const deadline = Date.now() + 120_000;
    let after = await hub.stats();
    while (after.ingest.accepted - idle.ingest.accepted < expected && Date.now() < deadline) {
      await sleep(200);
      after = await hub.stats();
    }
    return {
      idle,
      after,
      cpuPct: ((after.cpuMicros - idle.cpuMicros) / 1000 / wall) * 100,
      lost: expected - (after.ingest.accepted - idle.ingest.accepted),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await hub.dispose();
  }
}

// ---------------------------------------------------------------- c. storage
async function storageBench(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'phones-away-bench-store-'));
  const influxd = await startInfluxd({
    dataDir: join(dir, 'influxdb'),
    database: 'bench',
    log: silentLogger,
  });
  const db = await HubDb.open(join(dir, 'hub-db'));
  const store = new InfluxStore({ url: influxd.url, database: 'bench', timeoutMs: 60_000 });
  const rows: (string | number)[][] = [];
  try {
    const N = SIZES.points;
    log(`storage: ${N} points through the outbox; ${SIZES.days} days × 60 rooms of compliance data`);
    const now = Date.now();
    const point = (i: number, m: string): MetricPoint => ({
      measurement: m,
      tags: { site: SITE, room: `room-${(i % 60) + 1}`, device: `dev-${(i % 60) + 1}`, kind: 'locked' },
      fields: { phones: i % 30, seq: i },
      ts: now - N + i,
    });
    // Outbox: enqueue everything (as ingest would, in batches), then time the drain to InfluxDB.
    const outbox = new MetricsOutbox(db, store, silentLogger);
    const e0 = performance.now();
    for (let i = 0; i < N; i += 1_000)
      await outbox.enqueue(
        Array.from({ length: Math.min(1_000, N - i) }, (_, k) => point(i + k, 'outbox_event')),
      );
    const enqueueMs = performance.now() - e0;
    const d0 = performance.now();
    outbox.start();
    await outbox.drain(600_000);
    const drainMs = performance.now() - d0;
    await outbox.stop();
    // Same points straight to influxd, for the ratio.
    const w0 = performance.now();
    const direct = Array.from({ length: N }, (_, i) => point(i, 'direct_event'));
    for (let i = 0; i < N; i += 5_000) await store.writePoints(direct.slice(i, i + 5_000));
    const directMs = performance.now() - w0;
    const drainRate = (N / drainMs) * 1000;
    const directRate = (N / directMs) * 1000;
    rows.push([
      'outbox enqueue (LevelDB batches of 1000, points encoded as line protocol on the way in)',
      `${fmt((N / enqueueMs) * 1000)} points/s`,
    ]);
    rows.push(['outbox drain to InfluxDB (batches of 5000)', `${fmt(drainRate)} points/s`]);
    rows.push(['direct writes to influxd (5000/request, encoding included)', `${fmt(directRate)} points/s`]);
    rows.push(['outbox drain / direct writes', `${(drainRate / directRate).toFixed(2)}×`]);
    summary.push(['outbox → InfluxDB burst', `${fmt(drainRate)} points/s`, '≥ 50k/s']);
    summary.push([
      'outbox → InfluxDB drain / influxd direct',
      `${(drainRate / directRate).toFixed(2)}×`,
      '≥ 0.9×',
    ]);

    // A year (SIZES.days) of compliance as ComplianceRecorder writes it: a compliance_lesson point per device and
    // lesson (lessonPoint), and the compliance_day / compliance_week / compliance_term roll-ups per room (rollUpPoint,
    // final values: the recorder overwrites a week's or term's point as its days are recorded). Timetable of the
    // demo school, 60 rooms with one classroom locker each; every weekday of the range is a school day (three
    // back-to-back terms, no holidays), which is more lessons than a real school year has (about 190 days).
    const base = demoSchool();
    const tz = base.timetable.timezone;
    const today = localClock(now, tz).date;
    const firstDay = addDays(today, -SIZES.days);
    const third = Math.ceil(SIZES.days / 3);
    const school: SchoolModel = {
      ...base,
      site: SITE,
      timetable: {
        ...base.timetable,
        insetDays: [],
        terms: [0, 1, 2].map((k) => ({
          name: `bench term ${k + 1}`,
          start: addDays(firstDay, k * third),
          end: k === 2 ? addDays(today, 30) : addDays(firstDay, (k + 1) * third - 1),
        })),
      },
    };
    const graceMs = school.policy.graceMinutes * 60_000;
    const lessonsBy = new Map<string, LessonCompliance[]>();
    const add = (
      measurement: string,
      from: string,
      room: string,
      tags: Record<string, string>,
      r: LessonCompliance,
    ) => {
      const key = JSON.stringify([measurement, from, room, tags]);
      const list = lessonsBy.get(key);
      if (list) list.push(r);
      else lessonsBy.set(key, [r]);
    };
    const batch: MetricPoint[] = [];
    let written = 0;
    const flush = async (min: number) => {
      if (batch.length < min) return;
      written += batch.length;
      await store.writePoints(batch.splice(0));
    };
    let dayIndex = 0;
    for (let date = firstDay; date < today; date = addDays(date, 1), dayIndex++) {
      const term = termOf(school.timetable, date);
      for (let room = 1; room <= 60; room++) {
        const device = { id: `dev-${room}`, room: `room-${room}`, lockerMode: 'lesson' as const };
        for (const [li, w] of complianceWindows(school, device, date).entries()) {
          // A deterministic spread: locked 0–11 min late, a door opened mid-lesson, a device offline, a tamper.
          const h = (room * 31 + dayIndex * 17 + li * 7) % 100;
          const events: TimelineEvent[] = [
            { ts: w.start - 3_600_000, online: true, locked: false, doorOpen: false },
            { ts: w.start + (h % 12) * 60_000, locked: true },
          ];
          if (h < 10)
            events.push(
              { ts: w.start + 20 * 60_000, doorOpen: true },
              { ts: w.start + 24 * 60_000, doorOpen: false },
            );
          if (h >= 95)
            events.push(
              { ts: w.start + 30 * 60_000, online: false },
              { ts: w.start + 40 * 60_000, online: true },
            );
          if (h === 50) events.push({ ts: w.start + 10 * 60_000, tamper: true });
          const result = lessonCompliance({ start: w.start, end: w.end, graceMs, events, exempt: [] });
          batch.push(
            lessonPoint({
              site: SITE,
              room: device.room,
              device: device.id,
              mode: device.lockerMode,
              period: w.period,
              date,
              start: w.start,
              end: w.end,
              result,
            }),
          );
          add('compliance_day', date, device.room, {}, result);
          add('compliance_week', weekStart(date), device.room, {}, result);
          if (term) add('compliance_term', term.start, device.room, { term: term.name }, result);
        }
      }
      await flush(5_000);
    }
    const rollUps: Record<string, number> = {};
    for (const [key, results] of lessonsBy) {
      const [measurement, from, room, tags] = JSON.parse(key) as [
        string,
        string,
        string,
        Record<string, string>,
      ];
      rollUps[measurement] = (rollUps[measurement] ?? 0) + 1;
      batch.push(
        rollUpPoint(measurement, { site: SITE, room, ...tags }, zonedTime(from, 0, tz), rollUp(results)),
      );
      await flush(5_000);
    }
    await flush(1);
    const lessonPoints = written - Object.values(rollUps).reduce((a, b) => a + b, 0);
    const states: MetricPoint[] = [];
    const reports: MetricPoint[] = [];
    for (let dev = 1; dev <= 60; dev++) {
      for (let k = 0; k < 50; k++)
        states.push({
          measurement: 'locker_state',
          tags: { site: SITE, room: `room-${dev}`, device: `dev-${dev}`, mode: 'lesson' },
          fields: { locked: k % 2 === 0, phones: k % 30 },
          ts: now - k * 3_600_000,
        });
      for (let k = 0; k < 20; k++)
        reports.push({
          measurement: 'report',
          tags: { site: SITE, room: `room-${dev}`, device: `dev-${dev}`, urgency: 'normal' },
          fields: { count: 1 },
          ts: now - k * 86_400_000 * 0.7 - dev,
        });
    }
    await store.writePoints(states);
    await store.writePoints(reports);
    // What GET /api/compliance runs (same query builder as the route), over ranges ending today.
    const api = (level: ComplianceLevel, days: number) =>
      complianceQuery(school, { level, from: addDays(today, -(days - 1)), to: today }).influxql;
    const queries: { name: string; q: string; summary?: [string, string] }[] = [
      {
        name: 'API level=day (compliance_day roll-up), 30 days',
        q: api('day', 30),
        summary: ['query compliance per room per day, 30 days (API: compliance_day)', '≤ 50 ms'],
      },
      {
        name: `API level=day (compliance_day roll-up), ${SIZES.days} days`,
        q: api('day', SIZES.days),
        summary: [`query compliance per room per day, ${SIZES.days} days (API: compliance_day)`, '≤ 300 ms'],
      },
      { name: `API level=week (compliance_week roll-up), ${SIZES.days} days`, q: api('week', SIZES.days) },
      { name: "API level=lesson, 7 days (the API's default range)", q: api('lesson', 7) },
      {
        name: `secondary, not what the API runs: raw compliance_lesson grouped by day in InfluxQL, ${SIZES.days} days`,
        q: `SELECT mean("ratio"), sum("due_min") FROM "compliance_lesson" WHERE time > now() - ${SIZES.days + 1}d GROUP BY time(1d), "room"`,
        summary: [
          `query compliance ${SIZES.days} days, secondary: raw lessons grouped by day (not the API)`,
          '',
        ],
      },
      {
        name: 'last state of every device',
        q: `SELECT last("locked"), last("phones") FROM "locker_state" GROUP BY "device"`,
      },
      {
        name: 'reports (incidents) in 7 days by room',
        q: `SELECT count("count") FROM "report" WHERE time > now() - 7d GROUP BY "room"`,
      },
    ];
    for (const { name, q, summary: sum } of queries) {
      const warm = await store.query(q);
      const returned = warm.reduce((a, series) => a + series.values.length, 0);
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        await store.query(q);
        times.push(performance.now() - t);
      }
      rows.push([`query: ${name}`, `${fmt(median(times), 1)} ms (median of 7; ${returned} rows)`]);
      if (sum) summary.push([sum[0], `${fmt(median(times), 1)} ms`, sum[1]]);
    }
    sections.push(
      `### c. Storage\n\n${N} locker-event points enqueued in the durable outbox (LevelDB), then drained to the private influxd; the same points written directly for comparison (the ratio's target is ≥ 0.9×). The outbox holds each point already encoded as line protocol (encoded once when ingest queues it), so the drain reads strings, joins them and sends them; the direct writes encode as they go, as any writer without a queue must. Compliance generated as the compliance recorder writes it (hub/compliance/compliance-recorder.ts: lessonPoint, rollUpPoint; same measurements, tags and fields) for the ${SIZES.days} days up to yesterday: 60 rooms × 6 lessons on every weekday (no holidays, so more than a real school year), ${lessonPoints} compliance_lesson points and the roll-ups (${Object.entries(
        rollUps,
      )
        .map(([m, k]) => `${k} ${m}`)
        .join(
          ', ',
        )}); also 3000 locker_state and 1200 report points. The API rows time the InfluxQL that GET /api/compliance builds (complianceQuery in hub/http/routes/compliance-routes.ts, all fields, site filter, local-midnight range ending today) through the hub's InfluxStore (HTTP + JSON parse); the route's own JSON response is not included. The raw-lesson grouping is kept as a secondary figure: the API does not run it.\n\n` +
        markdownTable(['measure', 'value'], rows) +
        '\n',
    );
  } finally {
    await db.close();
    await influxd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- d, e. report latency, device program
async function latencyBench(): Promise<void> {
  const runs: { speed: number; r: Awaited<ReturnType<typeof runLatency>>; load: number }[] = [];
  for (const speed of LATENCY_SPEEDS) {
    const hub = await HubProcess.start({ config: BENCH_HUB_CONFIG, execArgv: hubExecArgv, compiled: true });
    const specs = latencyDevices(SITE, SIZES.rooms, SIZES.boards);
    await hub.request({ cmd: 'provision', secret: SECRET, devices: specs });
    const boardWorker = await Worker.start('board-load.ts');
    const load = os.loadavg()[0] ?? 0;
    try {
      const r = await runLatency({ hub, boardWorker, site: SITE, secret: SECRET, log, speed, ...SIZES });
      runs.push({ speed, r, load });
    } finally {
      await boardWorker.stop();
      await hub.dispose();
    }
  }
  const row = (name: string, xs: number[]) => [
    name,
    xs.length,
    fmt(median(xs), 1),
    fmt(pct(xs, 95), 1),
    fmt(pct(xs, 99), 1),
    fmt(Math.max(...xs), 1),
  ];
  const tables: string[] = [];
  for (const { speed, r, load } of runs) {
    const label = speed === 1 ? 'emulator at real speed' : `emulator at ${speed}× speed`;
    log(
      `latency (${label}): SSE p50 ${fmt(median(r.sse), 1)} p99 ${fmt(pct(r.sse, 99), 1)} ms; light p50 ${fmt(median(r.light), 1)} p99 ${fmt(pct(r.light, 99), 1)} ms`,
    );
    summary.push([
      `report pin → dashboard SSE, p50 / p99 (${SIZES.rooms} rooms, ${label})`,
      `${fmt(median(r.sse), 1)} / ${fmt(pct(r.sse, 99), 1)} ms`,
      'p50 ≤ 20 ms, p99 ≤ 100 ms',
    ]);
    summary.push([`report pin → ack light, p99 (${label})`, `${fmt(pct(r.light, 99), 1)} ms`, '≤ 50 ms']);
    tables.push(
      `**${label}** (load average at start ${load.toFixed(2)}; simulated rooms sent ${r.simHeartbeats} heartbeats and ${r.simReports} reports; incidents not seen on the stream within 5 s: ${r.missedSse})\n\n` +
        markdownTable(
          ['path', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
          [
            row('pin edge → incident at dashboard (SSE)', r.sse),
            row('pin edge → ack light on the device', r.light),
            row(
              '… of SSE: edge → device stamps the report (Firmata, johnny-five, machine)',
              r.split.toDevice,
            ),
            row('… of SSE: → hub stamps receipt (journal, MQTT, ingest start)', r.split.toHub),
            row('… of SSE: → client has it (fsynced store, SSE)', r.split.toClient),
          ],
        ),
    );
  }
  const deviceRows = runs.flatMap(({ speed, r }) =>
    r.device.map((d) => [`${speed}×`, d.phase, fmt(d.rssMB), fmt(d.cpuPct)]),
  );
  for (const [speed, phase, rss, cpu] of deviceRows)
    summary.push([
      `device process (${SIZES.boards} board(s), emulator ${speed}), ${phase}`,
      `${rss} MB, ${cpu} % CPU`,
      '',
    ]);
  sections.push(
    `### d. Report latency\n\n${SIZES.rooms} rooms live: ${SIZES.boards} real classroom device(s) (emulated Uno running real Firmata → johnny-five → device program → MQTT) and ${SIZES.rooms - SIZES.boards} simulated rooms (light MQTT clients, test/support/sim-device.ts: heartbeats every 10 s, a report about every 2 minutes each). Each emulated Uno runs its chip (avr8js) in a worker thread of the board process, as on a Pi where the Uno is its own chip, and takes most of a core at real speed: so on this 2-core machine only ${SIZES.boards} run beside the hub, influxd and the client. ${SIZES.presses} short presses (120 ms) round-robin over the boards, one at a time, after 4 warm-up presses. Edge = the button release that makes the press a report; **SSE** = that report's incident arriving at a signed-in dashboard client (a designated safeguarding lead, password + TOTP, GET /api/stream: the role that sees every report; the first-run admin sees none, S5); **light** = the device program showing 'confirmed' on the button light (after the hub's ReportAck). Hub, boards and the client are separate processes. The split uses the device's and hub's own millisecond stamps (same host clock), so its parts are ±1 ms.\n\n` +
      "The run is made twice. At real speed the two emulated chips (worker threads) need most of this machine's two cores, so the device program, the hub, influxd and the client queue for CPU: the tails of that run are CPU starvation, not waiting on one another. At 0.25× speed the emulators leave the cores mostly free, which is closer to a school's set-up, where each Uno is its own chip and each device program has a Pi to itself. The devices' journals share this machine's one disk with the hub's database and influxd (BENCH_DEVICE_DIR moves them elsewhere). p99 of 200 presses is the second-slowest press: on this shared 2-core VM it moves by tens of milliseconds between identical runs, so compare p50 and p95 across changes and repeat a run before reading much into a p99.\n\n" +
      tables.join('\n\n') +
      `\n\n### e. Device program\n\nThe board process (bench/workers/board-load.ts) holds ${SIZES.boards} emulated Uno(s) (avr8js, the bulk of the CPU at real speed), johnny-five and the device program; measured over ${SIZES.deviceWindowMs / 1000} s windows, idle and while the hub sends a lock and a signage command every 2.5 s. On a Raspberry Pi there is no emulator.\n\n` +
      markdownTable(['emulator speed', 'phase', 'RSS MB', 'CPU % of one core'], deviceRows) +
      '\n',
  );
}

// ---------------------------------------------------------------- f. device program as a Pi runs it
async function deviceBench(): Promise<void> {
  const hub = await HubProcess.start({ config: BENCH_HUB_CONFIG, execArgv: hubExecArgv, compiled: true });
  const address = { site: SITE, room: 'room-1', device: 'bench-pi-device' };
  try {
    await hub.request({
      cmd: 'provision',
      secret: SECRET,
      devices: [{ id: address.device, site: SITE, room: address.room }],
    });
    const rows = await measureDeviceProgram({ hub, address, secret: SECRET, windowMs: SIZES.deviceWindowMs });
    for (const r of rows)
      log(`device program (${r.flags}), ${r.phase}: ${fmt(r.rssMB)} MB, ${fmt(r.cpuPct, 1)} % CPU`);
    const tuned = rows.filter((r) => r.flags !== 'node defaults');
    const idle = tuned.find((r) => r.phase.startsWith('idle'));
    const defaults = rows.find((r) => r.flags === 'node defaults' && r.phase.startsWith('idle'));
    if (idle && defaults) {
      summary.push([
        'device program (firmata-serial over a pty, DEVICE_NODE_FLAGS), idle: RSS (node defaults in brackets)',
        `${fmt(idle.rssMB)} MB (${fmt(defaults.rssMB)} MB)`,
        '≤ 80 MB',
      ]);
      summary.push([
        'device program (firmata-serial over a pty, DEVICE_NODE_FLAGS), idle: CPU of one core',
        `${fmt(idle.cpuPct, 1)} %`,
        '≤ 5 %',
      ]);
    }
    sections.push(
      `### g. Device program as a Pi runs it\n\nThe compiled device program (\`node dist/cli/main.js device\`: the program that config/phones-away-device.service's boot entry, dist/firmware/boot.js, starts after its update check) on board.kind 'firmata-serial': serialport → Firmata → johnny-five over a pseudo-terminal (socat) to an emulated Uno running in a process of its own (firmware/board/uno-pty.ts), as a Pi talks to a USB Arduino. RSS and CPU are the device program's own, from /proc, over ${SIZES.deviceWindowMs / 1000} s windows: idle, and while the hub sends a lock and a signage command every 2.5 s; once with node's default flags and once with DEVICE_NODE_FLAGS (cli/device-node-flags.ts). The Uno column is the emulator process (on a Pi: the Arduino's own chip, not the Pi's CPU). The device program idles on a Firmata report every 10 ms (the board clock on A5) and its heartbeats; on this shared 2-core VM its CPU share moves with the load of everything else running.\n\n` +
        markdownTable(
          ['node flags', 'phase', 'RSS MB', 'CPU % of one core', 'emulated Uno process CPU %'],
          rows.map((r) => [r.flags, r.phase, fmt(r.rssMB), fmt(r.cpuPct, 1), fmt(r.unoCpuPct)]),
        ) +
        '\n',
    );
  } finally {
    await hub.dispose();
  }
}

/** h. the trust tier: bench/trust.ts. */
async function trustScenario(): Promise<void> {
  const r = await trustBench(
    {
      schools: SIZES.trustSchools,
      rooms: SIZES.rooms,
      weeks: SIZES.trustWeeks,
      lessonsPerDay: 6,
      queries: SIZES.trustQueries,
      concurrency: SIZES.trustConcurrency,
    },
    log,
  );
  summary.push(...r.summary);
  sections.push(r.section);
}

type Scenario = 'broker' | 'storage' | 'fleet' | 'latency' | 'durable' | 'device' | 'trust';
const SCENARIOS: Scenario[] = ['broker', 'durable', 'storage', 'fleet', 'latency', 'device', 'trust'];
/** Which scenario a summary row belongs to, by its label (for merging a BENCH_ONLY run into the file). */
function rowScenario(label: string): Scenario | null {
  if (label.startsWith('broker')) return 'broker';
  if (label.startsWith('durable')) return 'durable';
  if (/^(outbox|query)/.test(label)) return 'storage';
  if (label.startsWith('fleet')) return 'fleet';
  if (/^(report pin|device process)/.test(label)) return 'latency';
  if (label.startsWith('device program')) return 'device';
  if (label.startsWith('trust')) return 'trust';
  return null;
}
/** Which scenario a section belongs to, by its heading letter (a broker, b fleet, c storage, d/e latency, f durable, g device, h trust). */
function sectionScenario(section: string): Scenario | null {
  if (section.includes('Not run (BENCH_ONLY)')) return null;
  const letter = /^### ([a-h])[.,]/.exec(section)?.[1];
  const byLetter: Record<string, Scenario> = {
    a: 'broker',
    b: 'fleet',
    c: 'storage',
    d: 'latency',
    e: 'latency',
    f: 'durable',
    g: 'device',
    h: 'trust',
  };
  return letter ? (byLetter[letter] ?? null) : null;
}

/** The summary rows (with the run each came from) and sections of the bench section currently in RESULTS.md. */
function previousResults(): { rows: (string | number)[][]; sections: string[] } {
  const text = readSection('bench');
  if (!text) return { rows: [], sections: [] };
  const date = /^- date: (\S+)/m.exec(text)?.[1] ?? '?';
  const parts = text.split(/\n(?=### )/);
  const table = parts.find((p) => p.startsWith('### Summary')) ?? '';
  const sections = parts.filter((p) => sectionScenario(p) !== null).map((p) => p.trim());
  const runOf = (scenario: Scenario | null) => {
    const section = sections.find((p) => sectionScenario(p) === scenario);
    const iso = /^_Run (\S+?)[ ,]/m.exec(section ?? '')?.[1] ?? date;
    return iso.length > 17 ? `${iso.slice(0, 16)}Z` : iso;
  };
  const rows = table
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| result |') && !l.startsWith('| ---'))
    .map((l) => l.slice(2, -2).split(' | '))
    .map((cells) => (cells.length >= 4 ? cells : [...cells, runOf(rowScenario(cells[0] ?? ''))]));
  return { rows, sections };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  // Every scenario runs the compiled hub (dist/), as `phones-away hub` runs in production: build it first.
  log('building the hub (tsc -p tsconfig.build.json)');
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed: the benchmark needs a compiled hub');
  const header = machine();
  const only = process.env.BENCH_ONLY?.split(',');
  const want = (name: Scenario) => !only || only.includes(name);
  const overrides = Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_'))
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  const command = `${[...overrides, 'npm run bench'].join(' ')}${quick ? ' -- --quick' : ''}`;
  const benches: Record<Scenario, () => Promise<void>> = {
    broker: brokerBench,
    durable: durableBench,
    storage: storageBench,
    fleet: fleetBench,
    latency: latencyBench,
    device: deviceBench,
    trust: trustScenario,
  };
  const fresh = new Map<Scenario, { rows: (string | number)[][]; sections: string[] }>();
  for (const scenario of SCENARIOS) {
    if (!want(scenario)) continue;
    const stamp = new Date().toISOString();
    const load = os.loadavg().map((l) => l.toFixed(2));
    const r0 = summary.length;
    const s0 = sections.length;
    await benches[scenario]();
    const run = `${stamp.slice(0, 16)}Z`;
    fresh.set(scenario, {
      rows: summary.slice(r0).map((row) => [...row, run]),
      // Each section says which run produced it, so a file merged from BENCH_ONLY runs stays honest.
      sections: sections.slice(s0).map((sec) => {
        const nl = sec.indexOf('\n');
        return `${sec.slice(0, nl)}\n\n_Run ${stamp}, \`${command}\`, load average at start ${load.join(' ')}._${sec.slice(nl)}`.trim();
      }),
    });
  }
  // A BENCH_ONLY run replaces its own scenarios' rows and sections and keeps the others from the file.
  const before = only ? previousResults() : { rows: [], sections: [] };
  const rows: (string | number)[][] = [];
  const merged: string[] = [];
  for (const scenario of SCENARIOS) {
    const mine = fresh.get(scenario);
    rows.push(...(mine?.rows ?? before.rows.filter((r) => rowScenario(String(r[0])) === scenario)));
  }
  for (const scenario of ['broker', 'fleet', 'storage', 'latency', 'durable', 'device', 'trust'] as const) {
    const mine = fresh.get(scenario);
    merged.push(...(mine?.sections ?? before.sections.filter((p) => sectionScenario(p) === scenario)));
  }
  const missing = SCENARIOS.filter((sc) => !merged.some((p) => sectionScenario(p) === sc));
  const table = markdownTable(['result', 'value', 'target', 'run (UTC)'], rows);
  process.stdout.write(`\n${table}\n`);
  const kept = SCENARIOS.filter((sc) => !fresh.has(sc) && !missing.includes(sc));
  replaceSection(
    'bench',
    `## Benchmarks (\`npm run bench\`)\n\n${header}\n- run time: ${fmt((performance.now() - t0) / 1000)} s\n` +
      (only
        ? `- this run: ${[...fresh.keys()].join(', ')} only (\`${command}\`)${kept.length > 0 ? `; ${kept.join(', ')} kept from earlier runs: see the run column of the summary and the line under each section heading` : ''}\n`
        : '') +
      '\nThis machine has 2 cores shared by the hub, influxd, Mosquitto and the load generators (separate processes), so ' +
      'absolute rates here are bounded by the harness as much as by the broker: compare ratios, not absolute numbers.\n\n' +
      `### Summary\n\n${table}\n\n${merged.join('\n\n')}\n` +
      missing.map((sc) => `\n### ${sc}\n\nNot run (BENCH_ONLY).\n`).join(''),
  );
  log(`done in ${fmt((performance.now() - t0) / 1000)} s; wrote bench/RESULTS.md`);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`[bench] failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
