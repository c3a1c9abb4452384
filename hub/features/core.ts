/**
 * The small core every feature is built over: storage, the bus, the broker and ingest, the registry and device
 * administration, the audit log, users and incidents. hub/main.ts builds it once; features only read it.
 */
import type { HubConfig, SchoolModel } from '../../schemas/config.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { RunningBroker } from '../broker/broker.js';
import type { HubDb } from '../db/hub-db.js';
import type { DeviceAdmin } from '../devices/device-admin.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { EventBus } from '../event-bus.js';
import type { IncidentService } from '../incidents/incident-service.js';
import type { IncidentStore } from '../incidents/incident-store.js';
import type { ChainMonitor } from '../ingest/chain-monitor.js';
import type { Ingest } from '../ingest/ingest.js';
import type { LiveGrid } from '../live/live-grid.js';
import type { Logger } from '../log.js';
import type { RejectCounter } from '../metrics/reject-counter.js';
import type { Notifier } from '../notify/notifier.js';
import type { MetricsOutbox } from '../outbox/metrics-outbox.js';
import type { MetricsStore } from '../store/metrics-store.js';
import type { UserStore } from '../users/user-store.js';

export interface HubCore {
  config: HubConfig;
  /** The live school model: edits replace its contents in place. */
  school: SchoolModel;
  /** The file `school` was read from, when there is one: edits are written back to it. */
  schoolFile: string | undefined;
  hubVersion: string;
  db: HubDb;
  bus: EventBus;
  log: Logger;
  now: () => number;
  rejects: RejectCounter;
  store: MetricsStore;
  outbox: MetricsOutbox;
  registry: DeviceRegistry;
  /** Rooms devices may be approved into; kept current when an admin edits the rooms. */
  roomIds: Set<string>;
  devices: DeviceAdmin;
  chain: ChainMonitor;
  ingest: Ingest;
  broker: RunningBroker;
  /** The broker's publish, counted for /metrics: what features send to devices goes through it. */
  publish: RunningBroker['publish'];
  audit: AuditLog;
  users: UserStore;
  incidents: IncidentStore;
  incidentService: IncidentService;
  notifier: Notifier | null;
  grid: LiveGrid;
}
