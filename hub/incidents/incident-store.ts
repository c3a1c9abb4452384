/**
 * The incident log (R3, R4): one record per report or tamper alert. Steps are only ever appended, each timed and
 * attributed; nothing is deleted by hand. A report's incident, its dedupe key and its metric points are written in one
 * atomic, fsynced batch before the device is told the report is stored.
 */
import { randomUUID } from 'node:crypto';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import type { IncidentSummary } from '../event-bus.js';
import { randomIncidentRef } from './incident-ref.js';

export interface IncidentStep {
  at: number;
  by: string;
  action: 'reported' | 'acknowledged' | 'action-noted' | 'closed';
  note?: string;
}

export interface Incident extends IncidentSummary {
  site: string;
  eventId: string;
  tamperReason?: string;
  steps: IncidentStep[];
}

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

export class IncidentStore {
  constructor(private readonly db: HubDb) {}

  /** Returns the incident already stored for this event, if any: the basis of exactly-once. */
  async findByEvent(eventId: string): Promise<Incident | undefined> {
    const key = await this.db.get<string>('dedupe', eventId);
    return key ? this.db.get<Incident>('incidents', key) : undefined;
  }

  private async uniqueRef(): Promise<string> {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const ref = randomIncidentRef();
      if ((await this.db.get('meta', `ref/${ref}`)) === undefined) return ref;
    }
    throw new Error('could not allocate an incident reference');
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
    return key ? this.db.get<Incident>('incidents', key) : undefined;
  }

  async list(options: { limit?: number } = {}): Promise<Incident[]> {
    return this.db.values<Incident>('incidents', { reverse: true, limit: options.limit ?? 200 });
  }
}

export function summarise(incident: Incident): IncidentSummary {
  const { id, ref, kind, room, device, urgency, reportedAt, receivedAt, status } = incident;
  return { id, ref, kind, room, device, urgency, reportedAt, receivedAt, status };
}
