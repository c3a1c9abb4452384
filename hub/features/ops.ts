/** Operations (S7): /healthz and the token-guarded /metrics over one snapshot of the hub's counters. */

import { stdoutSink } from '../../shared/log-sink.js';
import type { LogFault } from '../db/log-fault.js';
import { healthOf, type OpsSnapshot, opsRoutes } from '../http/routes/ops-routes.js';
import type { InfluxdSupervision } from '../influx/influxd-supervisor.js';
import type { MetricsOutbox } from '../outbox/metrics-outbox.js';
import type { LoginFlow } from '../users/login-flow.js';
import type { HubCore } from './core.js';
import type { Feature } from './feature.js';

export interface OpsFeature extends Feature {
  snapshot(): Promise<OpsSnapshot>;
  healthy(): Promise<boolean>;
}

export function opsFeature(
  core: HubCore,
  counters: {
    login: LoginFlow;
    messagesOut: () => number;
    lastStoreWriteAt: () => number | null;
    /** The private influxd's supervision (embedded mode), else null. */
    influxd?: () => Readonly<InfluxdSupervision> | null;
    /** The trust share's outbox, when the hub shares with a trust. */
    trustOutbox?: Pick<MetricsOutbox, 'waiting'> | null | undefined;
  },
): OpsFeature {
  const { broker, grid, store, outbox, ingest, rejects, notifier, now, db } = core;
  const snapshot = async (): Promise<OpsSnapshot> => {
    const views = grid.all();
    return {
      mqttClients: broker.connectedClients(),
      devicesOnline: views.filter((v) => v.online).length,
      devicesKnown: views.length,
      storeReachable: await store.ping(),
      outboxDepth: outbox.waiting(),
      outboxDelivered: outbox.delivered,
      lastStoreWriteAt: counters.lastStoreWriteAt(),
      messagesIn: ingest.stats.accepted,
      messagesOut: counters.messagesOut(),
      duplicates: ingest.stats.duplicates,
      reportsStored: ingest.stats.reportsStored,
      rejects: rejects.snapshot(),
      login: { ...counters.login.stats },
      notificationsFailed: ((await notifier?.failed()) ?? []).length > 0,
      trustOutboxDepth: counters.trustOutbox ? counters.trustOutbox.waiting() : null,
      storage: storageOf(db.logFault, broker.logFault()),
      influxd: influxdOf(counters.influxd?.() ?? null),
      logLinesDropped: stdoutSink.dropped,
    };
  };
  return {
    name: 'ops',
    extensions: [],
    routes: [opsRoutes(snapshot)],
    snapshot,
    healthy: async () => healthOf(await snapshot(), now()).healthy,
  };
}

/** Both databases' refusal of writes (hub/db/log-fault.ts) as one figure: refusing if either is. */
function storageOf(...faults: Readonly<LogFault>[]): OpsSnapshot['storage'] {
  return {
    refusingWrites: faults.some((f) => f.refusing),
    faults: faults.reduce((n, f) => n + f.faults, 0),
  };
}

function influxdOf(s: Readonly<InfluxdSupervision> | null): OpsSnapshot['influxd'] {
  return s === null ? null : { restarts: s.restarts, restarting: s.pending };
}
