/**
 * The hub's share of the trust tier: a second durable outbox, to the trust's shared InfluxDB, with its own LevelDB
 * sublevels so the hub's own outbox is untouched and a shared-store outage loses nothing (the points wait on disk, as
 * they do for the hub's own store). It carries, every point tagged with this hub's site and nothing but numbers:
 * - compliance_week and compliance_term, the recorder's own roll-ups, queued in the recorder's batch (complianceMirror);
 * - trust_school at start and whenever the school model changes;
 * - trust_devices at start and every 5 minutes (a snapshot of the live grid: online, faults, out-of-date software);
 * - trust_incidents per category per ISO week, re-written as counts change, only when the school opted in;
 * - trust_baseline at start and after each school change, when the trust's baseline is configured.
 * The hub only writes to the shared store: it never queries or deletes there (the trust's own retention applies).
 */
import type { HubTrustConfig, SchoolModel } from '../../schemas/config.js';
import type { TrustBaseline } from '../../schemas/trust.js';
import { loadConfigFile } from '../config-file.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import { ConfigError } from '../errors.js';
import type { EventBus } from '../event-bus.js';
import type { HubExtension } from '../extension.js';
import type { IncidentStore } from '../incidents/incident-store.js';
import type { LiveGrid } from '../live/live-grid.js';
import type { Logger } from '../log.js';
import type { RejectCounter } from '../metrics/reject-counter.js';
import { MetricsOutbox, type OutboxOptions } from '../outbox/metrics-outbox.js';
import { type BaselineDifference, baselineDifferences } from '../policy/baseline-diff.js';
import type { MetricPoint, MetricsStore } from '../store/metrics-store.js';
import {
  baselinePoint,
  deviceCounts,
  devicesPoint,
  incidentPoints,
  mirroredCompliance,
  schoolPoint,
  weekStartMs,
} from './trust-points.js';

/** How often device health is sent: often enough for "offline now", rare enough to be nothing for the store. */
export const DEVICES_EVERY_MS = 5 * 60_000;
const WEEK_MS = 7 * 86_400_000;

/** Reads and schema-checks the trust's baseline document (ConfigError, every problem as `path: message`). */
export function readBaseline(file: string): TrustBaseline {
  return loadConfigFile(file, 'trust-baseline');
}

/** What the dashboard shows under Settings → Policy (GET /api/policy/baseline). */
export interface BaselineState {
  configured: boolean;
  name?: string;
  /** Why the configured baseline could not be used (unreadable or not a baseline document). */
  problem?: string;
  differences: BaselineDifference[];
}

export interface TrustShareDeps {
  config: HubTrustConfig;
  /** The live school model (edits replace its contents in place). */
  school: SchoolModel;
  hubVersion: string;
  /** S8: the device software every device should run (absent: the hub's own version). */
  expectedSoftware?: string | undefined;
  db: HubDb;
  bus: EventBus;
  grid: Pick<LiveGrid, 'all'>;
  incidents: Pick<IncidentStore, 'all' | 'receivedBetween'>;
  /** The trust's shared store. */
  store: MetricsStore;
  rejects: RejectCounter;
  log: Logger;
  now: () => number;
  outbox?: OutboxOptions;
  devicesEveryMs?: number;
}

export class TrustShare implements HubExtension {
  readonly name = 'trust-share';
  readonly outbox: MetricsOutbox;
  private baseline: TrustBaseline | null = null;
  private baselineProblem: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private offs: (() => void)[] = [];
  /** Weeks (epoch ms of their Monday) whose incident counts must be re-sent; coalesced so a burst costs one scan. */
  private readonly dirtyWeeks = new Set<number>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: TrustShareDeps) {
    this.outbox = new MetricsOutbox(deps.db, deps.store, deps.log.child({ part: 'trust-outbox' }), {
      ...deps.outbox,
      sublevels: { queue: 'trust-outbox', dead: 'trust-outbox-dead' },
    });
  }

  /**
   * The ops that mirror the recorder's roll-ups to the shared store: the recorder commits them in the same batch as
   * the points for the hub's own store, so neither can be made without the other.
   */
  readonly complianceMirror = {
    ops: (points: MetricPoint[]): BatchOp[] => {
      const mirrored = mirroredCompliance(points, this.deps.school.site);
      return mirrored.length > 0 ? this.outbox.enqueueOps(mirrored) : [];
    },
    kick: () => this.outbox.kick(),
  };

  async start(): Promise<void> {
    const { bus, config } = this.deps;
    this.outbox.start();
    this.loadBaseline();
    await this.sendSchool();
    await this.sendDevices();
    if (config.shareIncidentCounts) {
      const tz = () => this.deps.school.timetable.timezone;
      // Listening before the scan: an incident arriving meanwhile marks its week again, and is counted either way.
      const changed = ({ incident }: { incident: { receivedAt: number } }) => {
        this.dirtyWeeks.add(weekStartMs(incident.receivedAt, tz()));
        void this.sendIncidents();
      };
      this.offs.push(bus.on('incident.created', changed), bus.on('incident.updated', changed));
      // Every week with an incident is re-sent at start: counts changed while the hub was not sharing are caught up.
      for await (const incident of this.deps.incidents.all())
        this.dirtyWeeks.add(weekStartMs(incident.receivedAt, tz()));
      await this.sendIncidents();
    }
    this.timer = setInterval(() => void this.sendDevices(), this.deps.devicesEveryMs ?? DEVICES_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const off of this.offs) off();
    this.offs = [];
    await this.chain;
    await this.outbox.stop();
  }

  /** The school model changed (timetable, rooms, policy): its name, rooms and baseline differences are re-sent. */
  schoolChanged(): Promise<void> {
    this.loadBaseline();
    return this.sendSchool();
  }

  /** How the school's matrix differs from the trust's baseline, for the hub's own dashboard. */
  baselineState(): BaselineState {
    if (!this.deps.config.baselineFile) return { configured: false, differences: [] };
    if (!this.baseline)
      return { configured: true, problem: this.baselineProblem ?? 'not read yet', differences: [] };
    return {
      configured: true,
      name: this.baseline.name,
      differences: baselineDifferences(this.deps.school.policy, this.baseline),
    };
  }

  /** Resolves once every point asked for so far is in the outbox (outbox.drain() then waits for the store). */
  async idle(): Promise<void> {
    await this.chain;
  }

  /**
   * Re-read on every school change, so a new baseline the trust published takes effect without a restart. A file that
   * is not a baseline is refused with its reasons (logged, counted, shown), and the hub carries on without it.
   */
  private loadBaseline(): void {
    const file = this.deps.config.baselineFile;
    if (!file) return;
    try {
      this.baseline = readBaseline(file);
      this.baselineProblem = null;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.baseline = null;
      this.baselineProblem = error.problems.join('; ');
      this.deps.rejects.add('trust baseline invalid');
      this.deps.log.error({ file, problems: error.problems }, 'trust baseline refused');
    }
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const next = this.chain
      .then(task)
      .catch((error) => this.deps.log.error({ err: error }, 'trust share failed'));
    this.chain = next;
    return next;
  }

  private sendSchool(): Promise<void> {
    return this.serial(async () => {
      const { school, hubVersion, now } = this.deps;
      const points = [schoolPoint(school, hubVersion, now())];
      const state = this.baselineState();
      if (this.baseline) points.push(baselinePoint(school.site, state.differences, now()));
      await this.outbox.enqueue(points);
    });
  }

  private sendDevices(): Promise<void> {
    return this.serial(async () => {
      const { school, grid, hubVersion, expectedSoftware, now } = this.deps;
      const counts = deviceCounts(grid.all(), expectedSoftware ?? hubVersion);
      await this.outbox.enqueue([devicesPoint(school.site, counts, now())]);
    });
  }

  private sendIncidents(): Promise<void> {
    return this.serial(async () => {
      if (this.dirtyWeeks.size === 0) return;
      const weeks = [...this.dirtyWeeks];
      this.dirtyWeeks.clear();
      const { school, incidents } = this.deps;
      const points: MetricPoint[] = [];
      for (const week of weeks) {
        // A week is at most 7 days and a DST change moves its end by an hour either way: read a little past it.
        const inWeek = await incidents.receivedBetween(week, week + WEEK_MS + 3_600_000);
        points.push(
          ...incidentPoints(
            school.site,
            school.timetable.timezone,
            inWeek.map(({ receivedAt, category }) => ({ receivedAt, category })),
            [week],
          ),
        );
      }
      await this.outbox.enqueue(points);
    });
  }
}
