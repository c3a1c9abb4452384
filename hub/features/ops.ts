/** Operations (S7): /healthz and the token-guarded /metrics over one snapshot of the hub's counters. */
import { healthOf, type OpsSnapshot, opsRoutes } from '../http/routes/ops-routes.js';
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
      storage: {
        refusingWrites: db.logFault.refusing || broker.logFault().refusing,
        faults: db.logFault.faults + broker.logFault().faults,
      },
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
