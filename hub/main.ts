/**
 * The hub's composition root: opens storage, starts the private InfluxDB (embedded mode), the broker, ingest, the
 * outbox and the HTTP server, and stops them in reverse order. Nothing else wires features together.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { HubConfig, SchoolModel } from '../schemas/config.js';
import { AuditLog } from './audit/audit-log.js';
import { type RunningBroker, startBroker } from './broker/broker.js';
import { mqttListeners } from './broker/listeners.js';
import { MonitorAccounts } from './broker/monitor-accounts.js';
import { HubDb } from './db/hub-db.js';
import { setPrivateUmask, tightenTree } from './db/private-files.js';
import { DeviceAdmin } from './devices/device-admin.js';
import { DeviceRegistry } from './devices/device-registry.js';
import { ConfigError, HubError } from './errors.js';
import { EventBus } from './event-bus.js';
import { type BackupFeature, backupFeature } from './features/backup.js';
import { type ConfiscationsFeature, confiscationsFeature } from './features/confiscations.js';
import type { HubCore } from './features/core.js';
import { devicesFeature } from './features/devices.js';
import { evidenceFeature } from './features/evidence.js';
import type { Feature } from './features/feature.js';
import { opsFeature } from './features/ops.js';
import { type PolicyFeature, policyFeature } from './features/policy.js';
import { type Safeguarding, safeguarding } from './features/safeguarding.js';
import { type TamperFeature, tamperFeature } from './features/tamper.js';
import { type TrustFeature, trustFeature } from './features/trust.js';
import { type UpdatesFeature, updatesFeature } from './features/updates.js';
import { type RunningHttp, startHttp } from './http/http-server.js';
import { IncidentService } from './incidents/incident-service.js';
import { IncidentStore } from './incidents/incident-store.js';
import { type InfluxdSupervision, SupervisedInfluxd } from './influx/influxd-supervisor.js';
import { ChainMonitor } from './ingest/chain-monitor.js';
import { Ingest } from './ingest/ingest.js';
import { resolveLimits } from './limits.js';
import { LiveGrid } from './live/live-grid.js';
import { createLogger, type Logger } from './log.js';
import { RejectCounter } from './metrics/reject-counter.js';
import { Notifier } from './notify/notifier.js';
import { MetricsOutbox } from './outbox/metrics-outbox.js';
import { rollForwardSchoolFile, storedSchoolModel } from './school/school-persistence.js';
import { DEFAULT_KEY_FILE, loadOrCreateKey } from './secrets/key-file.js';
import { looseSecretFiles, secretFilesOf } from './secrets/secret-files.js';
import { createInfluxStore, type InfluxStore, toLineProtocol } from './store/influx-store.js';
import type { MetricsStore } from './store/metrics-store.js';
import { LoginFlow, limitsFromConfig } from './users/login-flow.js';
import { type FirstRunAccount, UserStore } from './users/user-store.js';

export interface HubOptions {
  config: HubConfig;
  school: SchoolModel;
  /**
   * The file `school` was read from. Set: dashboard edits are written back to it (atomically). Unset: edits go to the
   * hub DB, and a model stored there is used in preference to `school` (hub/school/school-persistence.ts).
   */
  schoolFile?: string;
  /** Where the built dashboard lives; defaults to dashboard/dist in the package. */
  dashboardDir?: string;
  log?: Logger;
  now?: () => number;
  /** D3: configuration files the backups carry (hub.json, school.json). */
  configFiles?: string[];
  /** S2: dashboard session idle limit; 10 minutes unless a test shortens it. */
  sessionIdleMs?: number;
  /** How often device health goes to the trust's store; 5 minutes unless a test shortens it. */
  trustDevicesEveryMs?: number;
  /**
   * First run: gives the operator the administrator's generated password, before the account is stored (see
   * UserStore.ensureFirstRunAdmin). A file written here must be durable before this returns (a power cut right after
   * the first start). Unset: the password is only in the started hub's `firstRunAdmin`.
   */
  deliverFirstRunPassword?: (account: FirstRunAccount) => void | Promise<void>;
}

export interface Hub {
  /** The plain MQTT listener's port; 0 when plain MQTT is off (TLS only, S7). */
  mqttPort: number;
  /** Set when config.mqtt.tls is. */
  mqttTlsPort: number | undefined;
  httpUrl: string;
  influxUrl: string;
  db: HubDb;
  /** The live school model (edits replace its contents in place). */
  school: SchoolModel;
  registry: DeviceRegistry;
  /** Enrolment, approval, revocation and re-keying of devices (S4). */
  devices: DeviceAdmin;
  chain: ChainMonitor;
  /** P1–P4, P6: drives lock and signage from the timetable; exemptions and emergency release. */
  policy: Pick<PolicyFeature, 'driver' | 'exemptions' | 'compliance'>;
  /** The trust tier: what this hub shares with its trust's shared store; null without `trust` in the config. */
  trust: TrustFeature['share'];
  /** Fleet updates: held releases and the staged roll-out. */
  updates: Pick<UpdatesFeature, 'releases' | 'fleet'>;
  /** R7: devices that dropped while locked with phones inside. */
  tamperSuspects: TamperFeature['suspects'];
  users: UserStore;
  /** S1, S3: sign-in steps, attempt limits (kept in the DB) and remembered browsers. */
  login: LoginFlow;
  incidents: IncidentStore;
  /** P7: the confiscation register. */
  confiscations: ConfiscationsFeature['store'];
  /** S6: the hash-chained audit log. */
  audit: AuditLog;
  /** Incident workflow, escalation, notifications, retention. */
  safeguarding: Safeguarding & { incidents: IncidentService };
  ingest: Ingest;
  outbox: MetricsOutbox;
  store: MetricsStore;
  broker: RunningBroker;
  bus: EventBus;
  rejects: RejectCounter;
  /** What the dashboard's Today grid shows per device. */
  grid: LiveGrid;
  /** D3: a backup of the running hub, and the daily schedule when `backup` is configured. */
  backups: Pick<BackupFeature, 'take' | 'schedule'>;
  /** Set only on the very first start: shown once to the operator, never stored in clear. */
  firstRunAdmin: FirstRunAccount | null;
  /**
   * The private influxd (embedded mode), supervised: started again after a crash, a hang or a full disk, and tried
   * until it starts; null for an external one.
   */
  influxd: SupervisedInfluxd | null;
  /** Milliseconds each start-up phase took (logged as 'hub started'): where a slow restart spends its time. */
  startup: Record<string, number>;
  stop(): Promise<void>;
}

export const packageRoot = join(
  import.meta.dirname,
  '..',
  import.meta.dirname.includes('/dist/') ? '..' : '',
);

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The operations bearer token: one line, 16+ characters, so it cannot be guessed from the network. */
function readOpsToken(file: string): string {
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 16 || /\s/.test(token))
    throw new HubError('E_CONFIG', `${file}: the metrics token must be one line of 16 or more characters`);
  return token;
}

/**
 * The metrics store the hub writes through. The private influxd starts alongside the broker and the features (a
 * restart after a crash is not held up by it: devices reconnect meanwhile, their points wait in the outbox); `ready`
 * settles once it is up or has failed to start. A failed start does not stop the hub (reports must be taken whatever
 * InfluxDB does): its supervisor keeps trying, and /healthz says so. Only a missing influxd binary fails the start.
 */
function startMetricsStore(
  config: HubConfig,
  log: Logger,
  now: () => number,
  stack: (() => Promise<void>)[],
): {
  store: MetricsStore;
  ready: Promise<{ influxd: SupervisedInfluxd | null; url: string }>;
  lastWriteAt: () => number | null;
  /** The private influxd's restarts, once it is up; null for an external InfluxDB. */
  influxd: () => Readonly<InfluxdSupervision> | null;
} {
  let password: string | undefined;
  if (config.influx.mode !== 'embedded') {
    if (!config.influx.url) throw new Error('influx.url is required when influx.mode is external');
    if (config.influx.passwordFile) password = readFileSync(config.influx.passwordFile, 'utf8').trim();
  }
  const influxdStarting =
    config.influx.mode === 'embedded'
      ? SupervisedInfluxd.start(
          {
            dataDir: join(config.dataDir, 'influxdb'),
            database: config.influx.database,
            log: log.child({ part: 'influxd' }),
          },
          now,
        )
      : null;
  stack.push(async () => {
    const handle = await influxdStarting?.catch(() => null);
    await handle?.stop();
  });
  const connect = (url: string) =>
    createInfluxStore({
      url,
      database: config.influx.database,
      ...(config.influx.username ? { username: config.influx.username } : {}),
      ...(password ? { password } : {}),
      log: log.child({ part: 'influx' }),
    });
  const ready = (async () => {
    const influxd = (await influxdStarting) ?? null;
    const url = influxd?.url ?? config.influx.url ?? '';
    return { influxd, url, store: connect(url) };
  })();
  ready.catch(() => undefined); // awaited by startHub, where a failure stops the start
  // The last successful write, for /healthz: a reachable store that takes nothing is still a problem.
  let lastWriteAt: number | null = null;
  let supervised: SupervisedInfluxd | null = null;
  void ready.then(({ influxd }) => {
    supervised = influxd;
  });
  // A restarted influxd that could not have its old port back is at a new address.
  let current: { url: string; store: InfluxStore } | null = null;
  const storeNow = async (): Promise<InfluxStore> => {
    const { influxd, url, store } = await ready;
    const wanted = influxd?.url ?? url;
    if (wanted === url) return store;
    if (current?.url !== wanted) current = { url: wanted, store: connect(wanted) };
    return current.store;
  };
  // Every write's outcome goes to the supervisor: a disk-full failure restarts influxd once there is room.
  const written = async (write: (store: InfluxStore) => Promise<void>) => {
    const { influxd } = await ready;
    try {
      await write(await storeNow());
    } catch (err) {
      influxd?.noteWriteFailure(err);
      throw err;
    }
    influxd?.noteWriteOk();
    lastWriteAt = now();
  };
  return {
    store: {
      writePoints: (points) => written((store) => store.writePoints(points)),
      // The outbox queues points encoded (line protocol is a pure function of the point), so its drain sends them as
      // they are.
      encode: (point) => toLineProtocol(point),
      writeEncoded: (lines) => written((store) => store.writeEncoded(lines)),
      query: async (influxql) => (await storeNow()).query(influxql),
      ping: async () => (await storeNow()).ping(),
    },
    ready,
    lastWriteAt: () => lastWriteAt,
    influxd: () => supervised?.supervision ?? null,
  };
}

/**
 * The core every feature is built over, opened in dependency order: storage, the metrics store, the bus, the
 * registry and device administration, the audit log, users, incidents, the outbox, the live grid, ingest and the
 * broker (listening from here on: a device enrolling now is already audited in its enrolment's batch).
 */
async function openCore(
  options: HubOptions,
  log: Logger,
  now: () => number,
  stack: (() => Promise<void>)[],
  phase: (name: string) => void,
): Promise<{
  core: HubCore;
  metrics: ReturnType<typeof startMetricsStore>;
  limits: ReturnType<typeof resolveLimits>;
  messagesOut: () => number;
}> {
  const { config } = options;
  const listeners = mqttListeners(config.mqtt);
  if (listeners.problems.length > 0) throw new ConfigError('hub config', listeners.problems);
  for (const warning of listeners.warnings) log.warn(warning);
  // Private whatever the umask the hub was started under: 0700 directories, 0600 files.
  setPrivateUmask();
  tightenTree(config.dataDir);
  const db = await HubDb.open(join(config.dataDir, 'hub-db'), {
    onLogFault: ({ refusing, lastError }) => {
      if (refusing)
        log.error({ err: lastError }, 'database write failed: refusing writes until it is reopened');
      else log.warn('database reopened after a failed write: writes accepted again');
    },
  });
  phase('db');
  stack.push(() => db.close());
  // An edit committed and audited whose file write a crash cut off is written to the file before anything reads it.
  const school = options.schoolFile
    ? ((await rollForwardSchoolFile(db, options.schoolFile)) ?? options.school)
    : ((await storedSchoolModel(db)) ?? options.school);

  const metrics = startMetricsStore(config, log, now, stack);
  const { store } = metrics;

  const bus = new EventBus(log.child({ part: 'bus' }));
  const rejects = new RejectCounter();
  const registry = new DeviceRegistry(db);
  // Every device's record in memory before the broker listens: after a restart all of them reconnect at once.
  await registry.preload();
  const seenTimer = setInterval(() => {
    registry.flushSeen().catch((error) => log.warn({ err: error }, 'could not record last-seen times'));
  }, 30_000);
  seenTimer.unref();
  stack.push(async () => {
    clearInterval(seenTimer);
    await registry.flushSeen();
  });
  const audit = new AuditLog(db, now, log.child({ part: 'audit' }));
  const secrets = loadOrCreateKey(config.secretsKeyFile ?? join(config.dataDir, DEFAULT_KEY_FILE), {
    sealedSecretsExist: await new UserStore(db).anySealed(),
  });
  if (secrets.created) log.info('created the secrets key file (keep a copy apart from your backups)');
  if (secrets.tightened) log.warn('the secrets key file was readable by others; set to 0600');
  const users = new UserStore(db, audit, secrets.box);
  const sealed = await users.sealPlaintext();
  if (sealed > 0) {
    await db.compact();
    log.info({ sealed }, 'sealed TOTP secrets stored in clear by an earlier version');
  }
  const incidents = new IncidentStore(db);
  const incidentService = new IncidentService(incidents, audit, bus, now);
  const outbox = new MetricsOutbox(db, store, log.child({ part: 'outbox' }));
  outbox.start();
  stack.push(() => outbox.stop());
  const grid = new LiveGrid(bus, now);
  grid.seed(school.devices.map((d) => ({ site: school.site, room: d.room, device: d.id })));

  let publish: RunningBroker['publish'] = async () => {
    throw new Error('broker not started');
  };
  let disconnect: RunningBroker['disconnect'] = () => {};
  // Kept current when an admin edits the rooms (school settings below).
  const roomIds = new Set(school.rooms.map((r) => r.id));
  const devices = new DeviceAdmin({
    db,
    registry,
    site: school.site,
    rooms: roomIds,
    now,
    audit,
    bus,
    disconnect: (id) => disconnect(id),
  });
  const chain = new ChainMonitor({ db, bus, log: log.child({ part: 'chain' }), now });
  const limits = resolveLimits(config.limits);
  const notifier = config.notifications
    ? new Notifier({ config: config.notifications, db, bus, now, log: log.child({ part: 'notify' }) })
    : null;
  const ingest = new Ingest({
    ...(notifier ? { notices: notifier } : {}),
    db,
    incidents,
    outbox,
    registry,
    bus,
    rejects,
    log: log.child({ part: 'ingest' }),
    publish: (topic, payload, opts) => publish(topic, payload, opts),
    now,
    chain,
    reportRate: limits.reports,
  });
  const broker = await startBroker({
    maxConnections: limits.mqtt.maxConnections,
    maxConnectionsPerAddress: limits.mqtt.maxConnectionsPerAddress,
    connectTimeoutMs: limits.mqtt.connectTimeoutMs,
    tlsHandshakeTimeoutMs: limits.mqtt.tlsHandshakeTimeoutMs,
    ...(config.monitors?.length ? { monitors: new MonitorAccounts(config.monitors, config.site) } : {}),
    dataDir: config.dataDir,
    host: config.mqtt.host,
    ...(listeners.plainPort !== undefined ? { port: listeners.plainPort } : {}),
    registry,
    rejects,
    log: log.child({ part: 'broker' }),
    ...(listeners.tls ? { tls: listeners.tls } : {}),
    enrol: (id, token, secret) => devices.enrol(id, token, secret),
    onDevicePublish: (message) => ingest.handle(message),
    onDeviceConnection: (principal, connected) => {
      if (principal.kind === 'device') grid.setOnline(principal.address, connected);
    },
  });
  let messagesOut = 0;
  publish = (topic, payload, opts) => {
    messagesOut += 1;
    return broker.publish(topic, payload, opts);
  };
  disconnect = broker.disconnect;
  stack.push(() => broker.close());
  phase('broker');

  const core: HubCore = {
    config,
    school,
    schoolFile: options.schoolFile,
    hubVersion: packageVersion(),
    db,
    bus,
    log,
    now,
    rejects,
    store,
    outbox,
    registry,
    roomIds,
    devices,
    chain,
    ingest,
    broker,
    publish,
    audit,
    users,
    incidents,
    incidentService,
    notifier,
    grid,
  };
  return { core, metrics, limits, messagesOut: () => messagesOut };
}

export async function startHub(options: HubOptions): Promise<Hub> {
  const { config } = options;
  const log = options.log ?? createLogger('hub', config.logLevel);
  const now = options.now ?? Date.now;
  const stack: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stack.reverse())
      await step().catch((error) => log.error({ err: error }, 'stop step failed'));
    stack.length = 0;
  };

  const startup: Record<string, number> = {};
  let phaseStart = performance.now();
  const phase = (name: string) => {
    const t = performance.now();
    startup[name] = Math.round(t - phaseStart);
    phaseStart = t;
  };

  const loose = looseSecretFiles(secretFilesOf(config));
  if (loose.length > 0)
    log.warn(
      { files: loose },
      'secret files readable by other users: chmod 600 them (and chown to the hub user)',
    );

  try {
    const { core, metrics, limits, messagesOut } = await openCore(options, log, now, stack, phase);
    const { db, school, store, bus, rejects, registry, devices, chain, ingest, broker, audit, users } = core;
    const { incidents, incidentService, outbox, grid } = core;

    // The features, in start order (stopped in reverse): each pairs its domain objects with its routes.
    const guarding = safeguarding({ ...core, incidents: incidentService });
    const updates = updatesFeature(core);
    // Before the policy feature: the compliance recorder mirrors its roll-ups into the trust share's outbox.
    const trust = trustFeature(
      core,
      options.trustDevicesEveryMs ? { devicesEveryMs: options.trustDevicesEveryMs } : {},
    );
    const policy = policyFeature(core, trust.hooks);
    const tamper = tamperFeature(core, policy);
    const confiscations = confiscationsFeature(core);
    const backups = backupFeature(core, {
      configFiles: options.configFiles ?? [],
      storeReady: metrics.ready,
    });
    // D2: the stores in the hub DB whose records expire, each by its own setting.
    guarding.retention.add(
      {
        kind: 'complianceTimelineDays',
        action: 'compliance.retention-delete',
        target: 'compliance',
        plan: (before) => policy.compliance.retentionPlan(before),
      },
      {
        kind: 'exemptionsDays',
        action: 'exemption.retention-delete',
        target: 'exemptions',
        plan: async (before) => policy.exemptions.retentionPlan(before),
      },
      {
        kind: 'confiscationsDays',
        action: 'confiscation.retention-delete',
        target: 'confiscations',
        plan: (before) => confiscations.store.retentionPlan(before),
      },
    );
    const features: Feature[] = [
      devicesFeature(core),
      guarding,
      evidenceFeature(core),
      updates,
      // Started before the recorder, stopped after it: what the recorder queues on the way out is on disk.
      trust,
      policy,
      tamper,
      confiscations,
      backups,
    ];
    phase('features');
    for (const extension of features.flatMap((f) => f.extensions)) {
      await extension.start();
      stack.push(() => extension.stop());
      phase(extension.name);
    }

    const opsToken = config.metrics ? readOpsToken(config.metrics.credentialsFile) : undefined;
    const firstRunAdmin = await users.ensureFirstRunAdmin(now(), options.deliverFirstRunPassword);
    const loginLog = log.child({ part: 'login' });
    const login = new LoginFlow(users, db, now, {
      limits: limitsFromConfig(config.login),
      onFailure: (reason) => rejects.add(reason),
      onAttack: (alert) => {
        loginLog.warn({ username: alert.username, failures: alert.failures }, 'account under attack');
        guarding.notifier
          ?.accountAttack(alert)
          .catch((error) => loginLog.error({ err: error }, 'could not queue the alert'));
      },
    });
    await login.start();
    phase('login');
    const ops = opsFeature(core, {
      login,
      messagesOut,
      lastStoreWriteAt: metrics.lastWriteAt,
      influxd: metrics.influxd,
      trustOutbox: trust.share?.outbox,
    });
    const http: RunningHttp = await startHttp({
      host: config.http.host,
      port: config.http.port,
      ...(config.http.tls ? { tls: config.http.tls } : {}),
      limits: limits.http,
      dashboardDir: options.dashboardDir ?? join(packageRoot, 'dashboard', 'dist'),
      version: packageVersion(),
      users,
      login,
      incidents,
      registry,
      grid,
      bus,
      rejects,
      log: log.child({ part: 'http' }),
      now,
      ...(options.sessionIdleMs ? { idleLimitMs: options.sessionIdleMs } : {}),
      routes: [...features, ops].flatMap((f) => f.routes),
      ...(opsToken ? { opsToken } : {}),
      health: async () => ({
        healthy: await ops.healthy(),
        version: packageVersion(),
        mqttClients: broker.connectedClients(),
        outboxPending: outbox.waiting(),
        outboxDelivered: outbox.delivered,
        storeReachable: await store.ping(),
        ingest: ingest.stats,
        chain: chain.stats,
        rejects: rejects.snapshot(),
      }),
    });
    stack.push(() => http.close());
    phase('http');
    const { influxd, url: influxUrl } = await metrics.ready;
    phase('influxd (started alongside)');
    // Where the umask could not be set (a worker thread), what influxd and LevelDB made meanwhile is tightened here.
    tightenTree(config.dataDir);
    log.info({ ms: startup }, 'hub started');

    return {
      mqttPort: broker.port ?? 0,
      mqttTlsPort: broker.tlsPort,
      httpUrl: http.url,
      influxUrl,
      db,
      school,
      registry,
      devices,
      chain,
      policy: { exemptions: policy.exemptions, driver: policy.driver, compliance: policy.compliance },
      updates: { releases: updates.releases, fleet: updates.fleet },
      trust: trust.share,
      tamperSuspects: tamper.suspects,
      users,
      login,
      incidents,
      confiscations: confiscations.store,
      audit,
      safeguarding: { ...guarding, incidents: incidentService },
      ingest,
      outbox,
      store,
      broker,
      bus,
      rejects,
      grid,
      backups: { take: backups.take, schedule: backups.schedule },
      firstRunAdmin,
      influxd,
      startup,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
