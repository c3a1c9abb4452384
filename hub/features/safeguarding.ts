/**
 * The safeguarding and staff-access feature: the audit log, the incident workflow, account administration, same-day
 * escalation, notifications, the audit anchor and retention, with their routes.
 */
import type { HubConfig, SchoolModel } from '../../schemas/config.js';
import { AuditAnchor } from '../audit/audit-anchor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { HubDb } from '../db/hub-db.js';
import type { EventBus } from '../event-bus.js';
import { auditRoutes } from '../http/routes/audit-routes.js';
import { incidentRoutes } from '../http/routes/incident-routes.js';
import { notificationRoutes } from '../http/routes/notification-routes.js';
import { retentionRoutes } from '../http/routes/retention-routes.js';
import { userRoutes } from '../http/routes/user-routes.js';
import { Escalation } from '../incidents/escalation.js';
import type { IncidentService } from '../incidents/incident-service.js';
import type { Logger } from '../log.js';
import type { Notifier } from '../notify/notifier.js';
import { Retention } from '../retention/retention.js';
import {
  DEFAULT_BACKUPS_KEPT,
  DEFAULT_RETENTION_RUN_AT,
  resolveRetention,
} from '../retention/retention-defaults.js';
import type { MetricsStore } from '../store/metrics-store.js';
import { AccountChanges } from '../users/account-changes.js';
import type { UserStore } from '../users/user-store.js';
import type { Feature } from './feature.js';

export interface SafeguardingDeps {
  config: HubConfig;
  school: SchoolModel;
  db: HubDb;
  bus: EventBus;
  audit: AuditLog;
  users: UserStore;
  incidents: IncidentService;
  store: MetricsStore;
  now: () => number;
  log: Logger;
  /** Made by the composition root before ingest, which queues each new incident's first notice with it. */
  notifier: Notifier | null;
}

export interface Safeguarding extends Feature {
  changes: AccountChanges;
  escalation: Escalation;
  notifier: Notifier | null;
  retention: Retention;
  /** S6: the daily audit chain head, sent by the notifier; absent without notifications. */
  anchor: AuditAnchor | null;
}

export function safeguarding(deps: SafeguardingDeps): Safeguarding {
  const { config, school, db, bus, audit, users, incidents, store, now, log, notifier } = deps;
  const escalation = new Escalation({
    incidents,
    timetable: school.timetable,
    ...(config.incidents ? { config: config.incidents } : {}),
    now,
    log: log.child({ part: 'escalation' }),
  });
  const to = config.notifications?.email?.to;
  const changes = new AccountChanges({
    users,
    db,
    now,
    log: log.child({ part: 'accounts' }),
    ...(notifier ? { mail: (mail) => notifier.enqueueMessage(mail) } : {}),
    approverAddresses: [...new Set([...(to?.head ?? []), ...(to?.dsl ?? [])])],
  });
  // D2: always on; every kind has a default period (retention-defaults.ts).
  const retention = new Retention({
    config: resolveRetention(config.retention),
    timezone: school.timetable.timezone,
    runAt: config.retention?.runAt ?? DEFAULT_RETENTION_RUN_AT,
    // Points carry the school model's site (ingest by device address, compliance by school.site).
    site: school.site,
    db,
    store,
    incidents: incidents.store,
    audit,
    now,
    log: log.child({ part: 'retention' }),
  });
  if (notifier)
    retention.add({
      kind: 'notificationJobsDays',
      action: 'notification.retention-delete',
      target: 'notifications',
      plan: (before) => notifier.retentionPlan(before),
    });
  const anchor = notifier
    ? new AuditAnchor({
        audit,
        send: (head, at) =>
          notifier.enqueue({
            event: 'audit-anchor',
            seq: head.seq,
            hash: head.hash,
            at: new Date(at).toISOString(),
            site: school.site,
          }),
        now,
        log: log.child({ part: 'audit-anchor' }),
      })
    : null;
  return {
    name: 'safeguarding',
    changes,
    escalation,
    notifier,
    retention,
    anchor,
    extensions: [audit, escalation, ...(notifier ? [notifier] : []), ...(anchor ? [anchor] : []), retention],
    routes: [
      incidentRoutes({ service: incidents, timeZone: school.timetable.timezone }),
      userRoutes({ users, changes, bus }),
      auditRoutes(audit, incidents.store),
      notificationRoutes(notifier, incidents.store),
      retentionRoutes({
        periods: retention.periods,
        backupsKept: () => (config.backup ? (config.backup.keep ?? DEFAULT_BACKUPS_KEPT) : null),
        lastRunAt: () => db.get<number>('meta', 'retention/last-run'),
      }),
    ],
  };
}
