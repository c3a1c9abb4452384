/**
 * Retention (D2): each kind of data is kept for its configured number of days, then deleted by a daily job, in
 * InfluxDB (raw device events and derived aggregates) and in the hub DB (closed incidents, audit entries). Each run is
 * itself recorded in the audit log with what it removed. A kind with no setting is kept. Open incidents are never
 * removed, whatever their age: a safeguarding concern still being handled outlives any retention period. InfluxDB
 * deletes touch only this hub's `site` series.
 */
import type { RetentionConfig } from '../../schemas/config.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { HubDb } from '../db/hub-db.js';
import type { HubExtension } from '../extension.js';
import type { IncidentStore } from '../incidents/incident-store.js';
import type { Logger } from '../log.js';
import { quoteIdent, quoteString } from '../store/influxql.js';
import type { MetricsStore } from '../store/metrics-store.js';

/** Measurements written straight from device messages (hub/ingest/metric-points.ts); every other one is derived. */
export const RAW_MEASUREMENTS = ['report', 'locker_event', 'locker_state', 'heartbeat'] as const;
const DAY_MS = 86_400_000;

export interface RetentionResult {
  at: number;
  rawEventsBefore?: string;
  aggregatesBefore?: string;
  measurementsCleared: string[];
  incidentsDeleted: number;
  auditEntriesDeleted: number;
}

export interface RetentionDeps {
  config: RetentionConfig;
  /**
   * This hub's `site` tag. An InfluxDB may be shared by several schools (a trust's server): every delete is scoped to
   * this site's series, so one school's retention never removes another's data.
   */
  site: string;
  db: HubDb;
  store: MetricsStore;
  incidents: IncidentStore;
  audit: AuditLog;
  now: () => number;
  log: Logger;
  intervalMs?: number;
}

export class Retention implements HubExtension {
  readonly name = 'retention';
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: RetentionDeps) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => {
      this.running = this.tick(this.deps.now()).catch((error) =>
        this.deps.log.error({ err: error }, 'retention run failed; will try again'),
      );
    }, this.deps.intervalMs ?? 3_600_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Runs when the last successful run is a day old or more (so a hub restarted often still runs daily). */
  async tick(now: number): Promise<RetentionResult | null> {
    const last = await this.deps.db.get<number>('meta', 'retention/last-run');
    if (last !== undefined && now - last < DAY_MS) return null;
    return this.run(now);
  }

  async run(now: number): Promise<RetentionResult> {
    const { config, store, incidents, audit, log } = this.deps;
    const result: RetentionResult = {
      at: now,
      measurementsCleared: [],
      incidentsDeleted: 0,
      auditEntriesDeleted: 0,
    };
    const iso = (days: number) => new Date(now - days * DAY_MS).toISOString();

    if (config.rawEventsDays !== undefined || config.aggregatesDays !== undefined) {
      const site = `${quoteIdent('site')} = ${quoteString(this.deps.site)}`;
      const measurements = (await store.query(`SHOW MEASUREMENTS WHERE ${site}`)).flatMap((s) =>
        s.values.map((v) => String(v[0])),
      );
      for (const m of measurements) {
        const raw = (RAW_MEASUREMENTS as readonly string[]).includes(m);
        const days = raw ? config.rawEventsDays : config.aggregatesDays;
        if (days === undefined) continue;
        await store.query(`DELETE FROM ${quoteIdent(m)} WHERE ${site} AND time < '${iso(days)}'`);
        result.measurementsCleared.push(m);
      }
      if (config.rawEventsDays !== undefined) result.rawEventsBefore = iso(config.rawEventsDays);
      if (config.aggregatesDays !== undefined) result.aggregatesBefore = iso(config.aggregatesDays);
    }

    if (config.closedIncidentsDays !== undefined) {
      const cutoff = now - config.closedIncidentsDays * DAY_MS;
      const ops = [];
      for await (const incident of incidents.all()) {
        const closedAt = incident.steps.findLast((s) => s.action === 'closed')?.at;
        if (incident.status === 'closed' && closedAt !== undefined && closedAt < cutoff) {
          ops.push(...incidents.deleteOps(incident));
          result.incidentsDeleted += 1;
        }
      }
      if (ops.length > 0)
        await audit.commit(
          [
            {
              actor: 'system:retention',
              action: 'incident.retention-delete',
              target: 'incidents',
              after: { deleted: result.incidentsDeleted, closedBefore: iso(config.closedIncidentsDays) },
            },
          ],
          ops,
        );
    }

    if (config.auditDays !== undefined)
      result.auditEntriesDeleted = await audit.prune(now - config.auditDays * DAY_MS);

    await audit.commit(
      [{ actor: 'system:retention', action: 'retention.run', target: 'data', after: result }],
      [{ type: 'put', sublevel: 'meta', key: 'retention/last-run', value: now }],
    );
    log.info(result, 'retention run');
    return result;
  }
}
