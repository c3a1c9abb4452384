/** The trust's only reads of the shared store: runs figures.ts's queries and shapes the answers. Nothing is written. */
import type { Series } from '../hub/store/metrics-store.js';
import type { TrustSchool } from '../schemas/trust.js';
import {
  type BaselineFigure,
  baselineFigures,
  baselineQuery,
  type Detail,
  type DeviceHealth,
  deviceHealth,
  devicesQuery,
  type IncidentCount,
  incidentCounts,
  incidentsQuery,
  type TermFigure,
  termFigures,
  termsQuery,
  type WeekFigure,
  weekFigures,
  weekRanges,
  weeksQuery,
} from './figures.js';

export interface StoreQuery {
  query(influxql: string): Promise<Series[]>;
}

const DAY = 86_400_000;
/** The weekly pages show about a school year; terms are read back this far. */
export const WEEKS_SHOWN = 13;
const TERMS_BACK_MS = 400 * DAY;

export class TrustReader {
  private readonly sites: string[];
  private readonly siteSet: Set<string>;
  private readonly sharing: string[];

  constructor(
    private readonly store: StoreQuery,
    readonly schools: readonly TrustSchool[],
  ) {
    this.sites = schools.map((s) => s.site);
    this.siteSet = new Set(this.sites);
    this.sharing = schools.filter((s) => s.shareIncidents === true).map((s) => s.site);
  }

  /** The current week and the `weeks` before it. */
  async weeks(now: number, weeks: number, sites: readonly string[], detail: Detail): Promise<WeekFigure[]> {
    return weekFigures(
      await this.store.query(weeksQuery(sites, weekRanges(now, weeks), detail)),
      this.siteSet,
    );
  }

  async terms(now: number, sites: readonly string[], detail: Detail): Promise<TermFigure[]> {
    return termFigures(await this.store.query(termsQuery(sites, now - TERMS_BACK_MS, detail)), this.siteSet);
  }

  get allSites(): readonly string[] {
    return this.sites;
  }

  async devices(): Promise<DeviceHealth[]> {
    return deviceHealth(await this.store.query(devicesQuery(this.sites)), this.siteSet);
  }

  /** Counts since `from` of the schools that share them; the others are never queried. */
  async incidents(from: number): Promise<IncidentCount[]> {
    if (this.sharing.length === 0) return [];
    return incidentCounts(await this.store.query(incidentsQuery(this.sharing, from)), new Set(this.sharing));
  }

  async baseline(): Promise<BaselineFigure[]> {
    return baselineFigures(await this.store.query(baselineQuery(this.sites)), this.siteSet);
  }
}
