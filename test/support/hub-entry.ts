/**
 * Child-process entry for a real hub (see hub-process.ts): `node --import tsx hub-entry.ts <hub.json> <school.json>`,
 * or, for benchmarks, transpiled to dist/test/support/hub-entry.js and run with plain node on the compiled hub.
 * Talks to its parent over the IPC channel only, so the parent can kill -9 it and start another on the same data
 * directory and ports. Requests are `{id, cmd, ...}`, replies `{id, ok, value|error}`.
 */
import { readFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { hashDeviceSecret } from '../../hub/devices/password-hash.js';
import type { InfluxdSupervision } from '../../hub/influx/influxd-supervisor.js';
import { createLogger } from '../../hub/log.js';
import { type Hub, startHub } from '../../hub/main.js';
import type { StaffRole } from '../../hub/users/roles.js';
import type { HubConfig, SchoolModel } from '../../schemas/config.js';
import { stdoutSink } from '../../shared/log-sink.js';

export type HubRequest =
  | { cmd: 'provision'; secret: string; devices: { id: string; site: string; room: string }[] }
  | { cmd: 'stats' }
  | { cmd: 'incidents' }
  | { cmd: 'query'; influxql: string }
  | { cmd: 'drain'; timeoutMs: number }
  | { cmd: 'influxd'; signal: NodeJS.Signals }
  | { cmd: 'latency'; reset?: boolean }
  | { cmd: 'publish'; topic: string; payload: string; qos: 0 | 1; retain: boolean }
  | { cmd: 'heap-snapshot'; file: string }
  | { cmd: 'notify-jobs' }
  | { cmd: 'incident'; ref: string }
  | { cmd: 'stored-order'; reset?: boolean }
  | { cmd: 'outbox' }
  | { cmd: 'chain' }
  | { cmd: 'backup'; at: number }
  | { cmd: 'add-user'; username: string; password: string; roles: StaffRole[] }
  | { cmd: 'stop' };

/** Locker events as the hub stored them (see 'stored-order'): per device, in commit order. */
export interface StoredOrder {
  devices: number;
  events: number;
  /** Events stored after an event of the same device with a higher seq. */
  outOfOrder: number;
  /** Events stored a second time (the same device and seq). */
  repeated: number;
  /** Fewest and most events stored by one device. */
  minPerDevice: number;
  maxPerDevice: number;
}

/** 'chain': declared chain faults since start, and gaps still open in the stored heads. */
export interface ChainReport {
  gaps: number;
  breaks: number;
  open: number;
}

export interface HubStats {
  ingest: { accepted: number; duplicates: number; reportsStored: number; reportsCollapsed: number };
  rejects: Record<string, number>;
  outboxDelivered: number;
  outboxLastError: string | null;
  mqttClients: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** V8 heap committed (used + free pages it keeps), and memory held outside it (Buffers, native). */
  heapTotalBytes: number;
  externalBytes: number;
  /** process.resourceUsage(): user + system CPU in microseconds since start. */
  cpuMicros: number;
  /** The hub database's refusal of writes after a failed one (hub/db/log-fault.ts). */
  storage: { refusing: boolean; faults: number; recoveries: number };
  /** The private influxd's supervision (hub/influx/influxd-supervisor.ts); null with an external InfluxDB. */
  influxd: InfluxdSupervision | null;
  /** Log lines the hub could not write (its stdout is a file in the data directory). */
  logLinesDropped: number;
}

const [configPath, schoolPath] = process.argv.slice(2);
if (!configPath || !schoolPath || !process.send) {
  process.stderr.write(
    'usage: node --import tsx hub-entry.ts <hub.json> <school.json> (with an IPC channel)\n',
  );
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8')) as HubConfig;
const school = JSON.parse(readFileSync(schoolPath, 'utf8')) as SchoolModel;
const hub: Hub = await startHub({ config, school, log: createLogger('hub', config.logLevel) });

// Ingest latency as the hub sees it: heartbeat ts (sender's Date.now()) → fully ingested. Same host, same clock.
let latencies: number[] = [];
hub.bus.on('device.heartbeat', ({ heartbeat }) => {
  if (latencies.length < 2_000_000) latencies.push(Date.now() - heartbeat.ts);
});

// Locker events in the order they were stored: the bus emits each once its write is committed, in commit order.
let storedOrder = new Map<string, { last: number; seqs: Set<number> }>();
let outOfOrder = 0;
let repeated = 0;
hub.bus.on('device.locker-event', ({ ref, event }) => {
  let device = storedOrder.get(ref.device);
  if (!device) {
    device = { last: -1, seqs: new Set() };
    storedOrder.set(ref.device, device);
  }
  if (device.seqs.has(event.seq)) repeated += 1;
  else if (event.seq < device.last) outOfOrder += 1;
  device.seqs.add(event.seq);
  device.last = Math.max(device.last, event.seq);
});

async function handle(request: HubRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'provision': {
      // One hash for the whole batch (bench devices share a secret, each keeps its own record), and the registry's
      // own kind for machine-generated device secrets: with scrypt here, a reconnect storm measured thousands of
      // scrypt checks queued in libuv's 4-thread pool (532 s for 3000 devices), not the hub.
      const secretHash = hashDeviceSecret(request.secret);
      const now = Date.now();
      for (const d of request.devices) {
        await hub.db.put('devices', d.id, {
          id: d.id,
          site: d.site,
          room: d.room,
          status: 'approved',
          lockerMode: 'lesson',
          secretHash,
          createdAt: now,
        });
      }
      return request.devices.length;
    }
    case 'stats': {
      const usage = process.resourceUsage();
      const stats: HubStats = {
        ingest: { ...hub.ingest.stats },
        rejects: hub.rejects.snapshot(),
        outboxDelivered: hub.outbox.delivered,
        outboxLastError: hub.outbox.lastError,
        mqttClients: hub.broker.connectedClients(),
        rssBytes: process.memoryUsage().rss,
        heapUsedBytes: process.memoryUsage().heapUsed,
        heapTotalBytes: process.memoryUsage().heapTotal,
        externalBytes: process.memoryUsage().external,
        cpuMicros: usage.userCPUTime + usage.systemCPUTime,
        storage: {
          refusing: hub.db.logFault.refusing,
          faults: hub.db.logFault.faults,
          recoveries: hub.db.logFault.recoveries,
        },
        influxd: hub.influxd ? structuredClone(hub.influxd.supervision) : null,
        logLinesDropped: stdoutSink.dropped,
      };
      return stats;
    }
    case 'incidents': {
      const all = await hub.incidents.list({ limit: 1_000_000 });
      return all.map((i) => ({ eventId: i.eventId, ref: i.ref, kind: i.kind }));
    }
    case 'query':
      return hub.store.query(request.influxql);
    case 'drain':
      await hub.outbox.drain(request.timeoutMs);
      return true;
    case 'influxd':
      hub.influxd?.kill(request.signal);
      return hub.influxd?.pid ?? null;
    case 'latency': {
      const out = latencies;
      if (request.reset) latencies = [];
      return out;
    }
    case 'publish':
      // As the hub's policy driver would (benchmarks: lesson-change commands to devices).
      await hub.broker.publish(request.topic, request.payload, { qos: request.qos, retain: request.retain });
      return true;
    case 'incident':
      return (await hub.incidents.getByRef(request.ref)) ?? null;
    case 'notify-jobs':
      // Notification jobs still waiting (or failed) in the hub DB.
      return (await hub.safeguarding.notifier?.pending()) ?? [];
    case 'heap-snapshot':
      // For finding what holds the hub's memory (BENCH_HEAP_SNAPSHOT in bench/run.ts).
      return writeHeapSnapshot(request.file);
    case 'stored-order': {
      const counts = [...storedOrder.values()].map((d) => d.seqs.size);
      const order: StoredOrder = {
        devices: storedOrder.size,
        events: counts.reduce((a, b) => a + b, 0),
        outOfOrder,
        repeated,
        minPerDevice: counts.length ? Math.min(...counts) : 0,
        maxPerDevice: counts.length ? Math.max(...counts) : 0,
      };
      if (request.reset) {
        storedOrder = new Map();
        outOfOrder = 0;
        repeated = 0;
      }
      return order;
    }
    case 'outbox': {
      // The durable outbox in key order, which is commit order (fault tests run with InfluxDB unreachable, so it
      // keeps every point): [key, point] with the point as queued (line protocol, or the point object).
      const entries: [string, unknown][] = [];
      for await (const entry of hub.db.entries<unknown>('outbox')) entries.push(entry);
      return entries;
    }
    case 'chain': {
      // The chain checks (R7) as this hub sees them: faults declared since it started, and events the stored heads
      // still await (an open gap: a device pointed at an event the hub does not hold).
      let open = 0;
      for (const device of await hub.registry.list())
        open += (await hub.chain.stored(device.id))?.open.length ?? 0;
      return { ...hub.chain.stats, open } satisfies ChainReport;
    }
    case 'backup': {
      // The backup schedule's own run (archive, rotation, audit) at the given time; after any run already going (a
      // run the schedule started by itself at start).
      const schedule = hub.backups.schedule;
      if (!schedule) throw new Error('no backup schedule configured (config.backup)');
      while ((await schedule.status()).running) await new Promise((ok) => setTimeout(ok, 50));
      return schedule.run(request.at);
    }
    case 'add-user':
      // A staff account made directly (benchmarks: a DSL whose dashboard stream carries the reports; the admin's
      // carries none, S5). Audited as the hub's own users.add is.
      return hub.users.add(request.username, request.password, request.roles, Date.now(), 'system:test');
    case 'stop':
      await hub.stop();
      setImmediate(() => process.exit(0));
      return true;
  }
}

process.on('message', (message: { id: number } & HubRequest) => {
  handle(message).then(
    (value) => process.send?.({ id: message.id, ok: true, value }),
    (error: Error) => process.send?.({ id: message.id, ok: false, error: `${error.name}: ${error.message}` }),
  );
});
process.on('SIGTERM', () => {
  void hub.stop().then(() => process.exit(0));
});
process.on('disconnect', () => {
  // Parent gone (test runner crashed): do not linger with an influxd behind us.
  void hub.stop().then(() => process.exit(0));
});
process.send({
  ready: true,
  mqttPort: hub.mqttPort,
  mqttTlsPort: hub.mqttTlsPort ?? null,
  httpUrl: hub.httpUrl,
  influxUrl: hub.influxUrl,
  influxdPid: hub.influxd?.pid ?? null,
  firstRunAdmin: hub.firstRunAdmin,
  startup: hub.startup,
});
