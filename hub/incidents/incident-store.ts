/**
 * The incident log (R3, R4): one record per report or tamper alert. Steps are only ever appended, each timed and
 * attributed; nothing is deleted by hand. A report's incident, its dedupe key and its metric points are written in one
 * atomic, fsynced batch before the device is told the report is stored.
 */
import { randomUUID } from 'node:crypto';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import type { IncidentSummary } from '../event-bus.js';
import { allocateRef } from './incident-ref.js';

export type StepAction =
  | 'reported'
  | 'acknowledged'
  | 'categorised'
  | 'action-noted'
  | 'escalated'
  | 'routed'
  | 'closed';

/** R6: an external referral recorded on the incident, with the date it was made. */
export interface Referral {
  agency: 'police' | 'ceop' | 'iwf' | 'lado' | 'childrens-social-care';
  date: string;
  reference?: string;
}

export interface IncidentStep {
  at: number;
  /** `device:<id>`, `user:<username>` or `system:<part>`. */
  by: string;
  action: StepAction;
  /** Free text, stored as text and rendered inert by the dashboard. */
  note?: string;
  referral?: Referral;
  outcome?: string;
  category?: string;
  routeTo?: NonNullable<IncidentSummary['routeTo']>;
}

export interface Incident extends IncidentSummary {
  site: string;
  eventId: string;
  tamperReason?: string;
  steps: IncidentStep[];
  /** A report flood (tamperReason 'report-flood'): how many reports it collapsed, and when the last arrived. */
  flood?: FloodTally;
}

export interface FloodTally {
  reports: number;
  lastAt: number;
}

/** The tamper reason of an incident that collapses one device's reports beyond its rate. */
export const REPORT_FLOOD = 'report-flood';

export interface NewIncident {
  kind: Incident['kind'];
  site: string;
  room: string;
  device: string;
  eventId: string;
  urgency: Incident['urgency'];
  reportedAt: number;
  receivedAt: number;
  tamperReason?: string;
}

/** Incident keys sort by time received, so the inbox reads newest-first with a reverse scan. */
function incidentKey(receivedAt: number, id: string): string {
  return `${receivedAt.toString().padStart(15, '0')}-${id}`;
}

/** Recently allocated references remembered (see IncidentStore.reserved); far more than can be awaiting one commit. */
const RESERVED_MAX = 10_000;

export class IncidentStore {
  /**
   * References handed out whose incident may not be on disk yet: ingest pipelines its writes (one group commit for
   * many devices' events), so two incidents prepared before either is committed must not draw the same reference.
   */
  private readonly reserved = new Set<string>();

  constructor(private readonly db: HubDb) {}

  /** Returns the incident already stored for this event, if any: the basis of exactly-once. */
  async findByEvent(eventId: string): Promise<Incident | undefined> {
    const key = await this.db.get<string>('dedupe', eventId);
    return key ? this.db.get<Incident>('incidents', key) : undefined;
  }

  private async uniqueRef(): Promise<string> {
    const ref = await allocateRef(
      async (candidate) =>
        this.reserved.has(candidate) || (await this.db.get('meta', `ref/${candidate}`)) !== undefined,
    );
    if (this.reserved.size >= RESERVED_MAX) this.reserved.clear();
    this.reserved.add(ref);
    return ref;
  }

  /** Builds the record and the batch that stores it; the caller adds its own ops and commits atomically. */
  async prepare(input: NewIncident): Promise<{ incident: Incident; ops: BatchOp[] }> {
    const id = randomUUID();
    const ref = await this.uniqueRef();
    const incident: Incident = {
      id,
      ref,
      ...input,
      status: 'reported',
      steps: [{ at: input.receivedAt, by: `device:${input.device}`, action: 'reported' }],
    };
    const key = incidentKey(input.receivedAt, id);
    return {
      incident,
      ops: [
        { type: 'put', sublevel: 'incidents', key, value: incident },
        { type: 'put', sublevel: 'dedupe', key: input.eventId, value: key },
        { type: 'put', sublevel: 'meta', key: `ref/${ref}`, value: key },
        { type: 'put', sublevel: 'meta', key: `incident/${id}`, value: key },
      ],
    };
  }

  async get(id: string): Promise<Incident | undefined> {
    const key = await this.db.get<string>('meta', `incident/${id}`);
    return this.withFlood(key ? await this.db.get<Incident>('incidents', key) : undefined);
  }

  /**
   * A flood's tally lives in its own key, written with each collapsed report, so those writes never rewrite the
   * incident record that staff are updating through the workflow at the same time.
   */
  private async withFlood(incident: Incident | undefined): Promise<Incident | undefined> {
    if (incident?.tamperReason !== REPORT_FLOOD) return incident;
    const flood = await this.db.get<FloodTally>('meta', `flood/${incident.id}`);
    return flood ? { ...incident, flood } : incident;
  }

  /** A flooded report's ops: its dedupe key (so a resend finds the flood incident) and the flood's new tally. */
  floodOps(incident: Incident, eventId: string, tally: FloodTally): BatchOp[] {
    return [
      { type: 'put', sublevel: 'dedupe', key: eventId, value: incidentKey(incident.receivedAt, incident.id) },
      { type: 'put', sublevel: 'meta', key: `flood/${incident.id}`, value: tally },
    ];
  }

  async list(options: { limit?: number } = {}): Promise<Incident[]> {
    return this.db.values<Incident>('incidents', { reverse: true, limit: options.limit ?? 200 });
  }

  /** Every incident, oldest first: for the escalation and retention scans. */
  async *all(): AsyncGenerator<Incident> {
    for await (const [, incident] of this.db.entries<Incident>('incidents')) yield incident;
  }

  /** Incidents received in [from, to), oldest first: keys sort by time received, so this reads only that range. */
  async receivedBetween(from: number, to: number): Promise<Incident[]> {
    const at = (ms: number) => Math.max(0, Math.floor(ms)).toString().padStart(15, '0');
    return this.db.values<Incident>('incidents', { gte: at(from), lt: at(to) });
  }

  async getByRef(ref: string): Promise<Incident | undefined> {
    const key = await this.db.get<string>('meta', `ref/${ref}`);
    return this.withFlood(key ? await this.db.get<Incident>('incidents', key) : undefined);
  }

  /** The ops that replace an incident's record; the caller commits them atomically (with its audit entry). */
  updateOps(incident: Incident): BatchOp[] {
    return [
      {
        type: 'put',
        sublevel: 'incidents',
        key: incidentKey(incident.receivedAt, incident.id),
        value: incident,
      },
    ];
  }

  /** D2 only: removing a record past its retention period, never a hand deletion (R3). */
  deleteOps(incident: Incident): BatchOp[] {
    return [
      { type: 'del', sublevel: 'incidents', key: incidentKey(incident.receivedAt, incident.id) },
      { type: 'del', sublevel: 'meta', key: `ref/${incident.ref}` },
      { type: 'del', sublevel: 'meta', key: `incident/${incident.id}` },
      { type: 'del', sublevel: 'meta', key: `flood/${incident.id}` },
      { type: 'del', sublevel: 'dedupe', key: incident.eventId },
    ];
  }
}

export function summarise(incident: Incident): IncidentSummary {
  const { id, ref, kind, room, device, urgency, reportedAt, receivedAt, status } = incident;
  return {
    id,
    ref,
    kind,
    room,
    device,
    urgency,
    reportedAt,
    receivedAt,
    status,
    ...(incident.routeTo ? { routeTo: incident.routeTo } : {}),
    ...(incident.category ? { category: incident.category } : {}),
    ...(incident.escalatedAt !== undefined ? { escalatedAt: incident.escalatedAt } : {}),
  };
}
