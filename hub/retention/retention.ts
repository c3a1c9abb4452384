/**
 * Retention (D2): each kind of data is kept for its number of days (configured, else the default in
 * retention-defaults.ts), then deleted by a daily job, in InfluxDB (raw device events and derived aggregates) and in
 * the hub DB (closed incidents, audit entries, and every store that registers a RetentionSource: the compliance
 * timeline, exemptions, confiscations, notification jobs). Each store's removal is committed in one batch with its
 * audit entry, and the run itself is recorded with what it removed. Open incidents and unreturned confiscations are
 * never removed, whatever their age: a concern still being handled, or a phone still held, outlives any period.
 * InfluxDB deletes touch only this hub's `site` series.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import type { HubExtension } from '../extension.js';
import type { IncidentStore } from '../incidents/incident-store.js';
import type { Logger } from '../log.js';
import { dailyRunDue } from '../policy/calendar.js';
import { quoteIdent, quoteString } from '../store/influxql.js';
import type { MetricsStore } from '../store/metrics-store.js';
import type { RetentionKind, Retention as RetentionPeriods } from './retention-defaults.js';

/** What a store would remove for records older than `before`: its ops, how many records, and what to do once done. */
export interface RetentionPlan {
  ops: BatchOp[];
  count: number;
  /** Called after the ops are committed (a store that keeps records in memory drops them here). */
  applied?: () => void;
}

/** A store in the hub DB whose records expire: it names its kind (the setting) and plans the removal. */
export interface RetentionSource {
  kind: Exclude<RetentionKind, 'rawEventsDays' | 'aggregatesDays' | 'closedIncidentsDays' | 'auditDays'>;
  /** The audit action and target of its removal, e.g. 'exemption.retention-delete' on 'exemptions'. */
  action: string;
  target: string;
  plan(before: number): Promise<RetentionPlan>;
}

/** Measurements written straight from device messages (hub/ingest/metric-points.ts); every other one is derived. */
export const RAW_MEASUREMENTS = ['report', 'locker_event', 'locker_state', 'heartbeat'] as const;
const DAY_MS = 86_400_000;

export interface RetentionResult {
  at: number;
  rawEventsBefore: string;
  aggregatesBefore: string;
  measurementsCleared: string[];
  incidentsDeleted: number;
  auditEntriesDeleted: number;
  /** Records removed by each registered source, by its kind. */
  removed: Partial<Record<RetentionKind, number>>;
}

export interface RetentionDeps {
  /** Every kind's period, defaults filled in (resolveRetention). */
  config: RetentionPeriods;
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
  /** The school's time zone and the local time of the daily run (HH:MM). */
  timezone: string;
  runAt: string;
  intervalMs?: number;
}

export class Retention implements HubExtension {
  readonly name = 'retention';
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private readonly sources: RetentionSource[] = [];

  constructor(private readonly deps: RetentionDeps) {}

  /** Registers a store whose records expire by its own setting (the composition root adds each one). */
  add(...sources: RetentionSource[]): void {
    this.sources.push(...sources);
  }

  /** The periods in force (for the dashboard's schedule). */
  get periods(): RetentionPeriods {
    return this.deps.config;
  }

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

  async due(now: number): Promise<boolean> {
    const last = await this.deps.db.get<number>('meta', 'retention/last-run');
    return dailyRunDue(now, this.deps.runAt, this.deps.timezone, last, 'retention.runAt');
  }

  async tick(now: number): Promise<RetentionResult | null> {
    if (!(await this.due(now))) return null;
    return this.run(now);
  }

  async run(now: number): Promise<RetentionResult> {
    const { config, audit, log } = this.deps;
    const iso = (days: number) => new Date(now - days * DAY_MS).toISOString();
    const result: RetentionResult = {
      at: now,
      rawEventsBefore: iso(config.rawEventsDays),
      aggregatesBefore: iso(config.aggregatesDays),
      measurementsCleared: await this.influx(now),
      incidentsDeleted: await this.closedIncidents(now),
      auditEntriesDeleted: 0,
      removed: {},
    };

    for (const source of this.sources) {
      const days = config[source.kind];
      const plan = await source.plan(now - days * DAY_MS);
      result.removed[source.kind] = plan.count;
      if (plan.count === 0) continue;
      await audit.commit(
        [
          {
            actor: 'system:retention',
            action: source.action,
            target: source.target,
            after: { deleted: plan.count, before: iso(days) },
          },
        ],
        plan.ops,
      );
      plan.applied?.();
    }

    // Last, so what this run wrote is not among what it removes.
    result.auditEntriesDeleted = await audit.prune(now - config.auditDays * DAY_MS);

    await audit.commit(
      [{ actor: 'system:retention', action: 'retention.run', target: 'data', after: result }],
      [{ type: 'put', sublevel: 'meta', key: 'retention/last-run', value: now }],
    );
    log.info(result, 'retention run');
    return result;
  }

  /** Raw events and aggregates past their periods, this site's series only. Returns the measurements it cleared. */
  private async influx(now: number): Promise<string[]> {
    const { config, store } = this.deps;
    const site = `${quoteIdent('site')} = ${quoteString(this.deps.site)}`;
    const measurements = (await store.query(`SHOW MEASUREMENTS WHERE ${site}`)).flatMap((s) =>
      s.values.map((v) => String(v[0])),
    );
    for (const m of measurements) {
      const raw = (RAW_MEASUREMENTS as readonly string[]).includes(m);
      const days = raw ? config.rawEventsDays : config.aggregatesDays;
      const before = new Date(now - days * DAY_MS).toISOString();
      await store.query(`DELETE FROM ${quoteIdent(m)} WHERE ${site} AND time < '${before}'`);
    }
    return measurements;
  }

  /** Incidents closed longer ago than their period, removed with one audit entry. Open ones are never touched. */
  private async closedIncidents(now: number): Promise<number> {
    const { config, incidents, audit } = this.deps;
    const cutoff = now - config.closedIncidentsDays * DAY_MS;
    const ops: BatchOp[] = [];
    let deleted = 0;
    for await (const incident of incidents.all()) {
      const closedAt = incident.steps.findLast((s) => s.action === 'closed')?.at;
      if (incident.status === 'closed' && closedAt !== undefined && closedAt < cutoff) {
        ops.push(...incidents.deleteOps(incident));
        deleted += 1;
      }
    }
    if (deleted > 0)
      await audit.commit(
        [
          {
            actor: 'system:retention',
            action: 'incident.retention-delete',
            target: 'incidents',
            after: { deleted, closedBefore: new Date(cutoff).toISOString() },
          },
        ],
        ops,
      );
    return deleted;
  }
}
