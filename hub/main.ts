/**
 * The hub's composition root: opens storage, starts the private InfluxDB (embedded mode), the broker, ingest, the
 * outbox and the HTTP server, and stops them in reverse order. Nothing else wires features together.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HubConfig, SchoolModel } from '../schemas/config.js';
import { type RunningBroker, startBroker } from './broker/broker.js';
import { HubDb } from './db/hub-db.js';
import { DeviceRegistry } from './devices/device-registry.js';
import { EventBus } from './event-bus.js';
import type { HubExtension } from './extension.js';
import { type RunningHttp, startHttp } from './http/http-server.js';
import { IncidentStore } from './incidents/incident-store.js';
import { type InfluxdHandle, startInfluxd } from './influx/influxd-process.js';
import { Ingest } from './ingest/ingest.js';
import { LiveGrid } from './live/live-grid.js';
import { createLogger, type Logger } from './log.js';
import { RejectCounter } from './metrics/reject-counter.js';
import { MetricsOutbox } from './outbox/metrics-outbox.js';
import { createInfluxStore } from './store/influx-store.js';
import type { MetricsStore } from './store/metrics-store.js';
import { UserStore } from './users/user-store.js';

export interface HubOptions {
  config: HubConfig;
  school: SchoolModel;
  /** Where the built dashboard lives; defaults to dashboard/dist in the package. */
  dashboardDir?: string;
  log?: Logger;
  now?: () => number;
}

export interface Hub {
  mqttPort: number;
  httpUrl: string;
  influxUrl: string;
  db: HubDb;
  registry: DeviceRegistry;
  users: UserStore;
  incidents: IncidentStore;
  ingest: Ingest;
  outbox: MetricsOutbox;
  store: MetricsStore;
  broker: RunningBroker;
  bus: EventBus;
  rejects: RejectCounter;
  /** Set only on the very first start: shown once to the operator, never stored in clear. */
  firstRunAdmin: { username: string; password: string } | null;
  influxd: InfluxdHandle | null;
  stop(): Promise<void>;
}

const packageRoot = join(import.meta.dirname, '..', import.meta.dirname.includes('/dist/') ? '..' : '');

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

export async function startHub(options: HubOptions): Promise<Hub> {
  const { config, school } = options;
  const log = options.log ?? createLogger('hub', config.logLevel);
  const now = options.now ?? Date.now;
  const stack: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stack.reverse())
      await step().catch((error) => log.error({ err: error }, 'stop step failed'));
    stack.length = 0;
  };

  try {
    const db = await HubDb.open(join(config.dataDir, 'hub-db'));
    stack.push(() => db.close());

    let influxd: InfluxdHandle | null = null;
    let influxUrl: string;
    let password: string | undefined;
    if (config.influx.mode === 'embedded') {
      influxd = await startInfluxd({
        dataDir: join(config.dataDir, 'influxdb'),
        database: config.influx.database,
        log: log.child({ part: 'influxd' }),
      });
      const handle = influxd;
      stack.push(() => handle.stop());
      influxUrl = influxd.url;
    } else {
      if (!config.influx.url) throw new Error('influx.url is required when influx.mode is external');
      influxUrl = config.influx.url;
      if (config.influx.passwordFile) password = readFileSync(config.influx.passwordFile, 'utf8').trim();
    }
    const store = createInfluxStore({
      url: influxUrl,
      database: config.influx.database,
      ...(config.influx.username ? { username: config.influx.username } : {}),
      ...(password ? { password } : {}),
      log: log.child({ part: 'influx' }),
    });

    const bus = new EventBus(log.child({ part: 'bus' }));
    const rejects = new RejectCounter();
    const registry = new DeviceRegistry(db);
    const users = new UserStore(db);
    const incidents = new IncidentStore(db);
    const outbox = new MetricsOutbox(db, store, log.child({ part: 'outbox' }));
    outbox.start();
    stack.push(() => outbox.stop());
    const grid = new LiveGrid(bus, now);
    grid.seed(school.devices.map((d) => ({ site: school.site, room: d.room, device: d.id })));

    let publish: RunningBroker['publish'] = async () => {
      throw new Error('broker not started');
    };
    const ingest = new Ingest({
      db,
      incidents,
      outbox,
      registry,
      bus,
      rejects,
      log: log.child({ part: 'ingest' }),
      publish: (topic, payload, opts) => publish(topic, payload, opts),
      now,
    });
    const broker = await startBroker({
      dataDir: config.dataDir,
      host: config.mqtt.host,
      port: config.mqtt.port,
      registry,
      rejects,
      log: log.child({ part: 'broker' }),
      onDevicePublish: (message) => ingest.handle(message),
      onDeviceConnection: (principal, connected) => {
        if (principal.kind === 'device') grid.setOnline(principal.address, connected);
      },
    });
    publish = broker.publish;
    stack.push(() => broker.close());

    // Features beyond the core. Each is constructed here with what it needs; start/stop order is this list's order.
    const extensions: HubExtension[] = [];
    for (const extension of extensions) {
      await extension.start();
      stack.push(() => extension.stop());
    }

    const firstRunAdmin = await users.ensureFirstRunAdmin(now());
    const http: RunningHttp = await startHttp({
      host: config.http.host,
      port: config.http.port,
      dashboardDir: options.dashboardDir ?? join(packageRoot, 'dashboard', 'dist'),
      users,
      incidents,
      registry,
      grid,
      bus,
      rejects,
      log: log.child({ part: 'http' }),
      now,
      routes: extensions.flatMap((e) => (e.routes ? [e.routes] : [])),
      health: async () => ({
        version: packageVersion(),
        mqttClients: broker.connectedClients(),
        outboxPending: await outbox.pending(),
        outboxDelivered: outbox.delivered,
        storeReachable: await store.ping(),
        ingest: ingest.stats,
        rejects: rejects.snapshot(),
      }),
    });
    stack.push(() => http.close());

    return {
      mqttPort: broker.port,
      httpUrl: http.url,
      influxUrl,
      db,
      registry,
      users,
      incidents,
      ingest,
      outbox,
      store,
      broker,
      bus,
      rejects,
      firstRunAdmin,
      influxd,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
