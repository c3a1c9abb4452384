/**
 * Hand-off export of one incident for the school's safeguarding system (CPOMS, MyConcern): the fields such logs
 * expect (date and time, who recorded it, category, description, actions, outcome, chronology), as JSON, plain text or
 * CSV. Pure: the incident and the school's time zone in, text out. No pupil is named anywhere in an incident (D1).
 */
import { toCsv } from '../../shared/csv.js';
import { localClock } from '../../shared/zoned-time.js';
import type { Incident, IncidentStep } from './incident-store.js';

export interface HandOffRecord {
  reference: string;
  kind: Incident['kind'];
  site: string;
  room: string;
  urgency: Incident['urgency'];
  /** Local date and time of the report, in the school's time zone, and the same instant in ISO 8601 UTC. */
  date: string;
  time: string;
  reportedAtIso: string;
  recordedBy: string;
  category: string;
  description: string;
  actions: {
    at: string;
    by: string;
    text: string;
    referral?: { agency: string; date: string; reference?: string };
  }[];
  outcome: string;
  status: Incident['status'];
  routedTo: string;
  chronology: { at: string; by: string; action: string; detail: string }[];
}

function local(ts: number, timeZone: string): { date: string; time: string; both: string } {
  const { date, time } = localClock(ts, timeZone);
  return { date, time, both: `${date} ${time}` };
}

const who = (by: string) => by.replace(/^user:/, '').replace(/^device:(.*)$/, 'report button ($1)');

function detail(step: IncidentStep): string {
  switch (step.action) {
    case 'reported':
      return 'report received by the hub';
    case 'acknowledged':
      return [
        'acknowledged',
        step.category ? `categorised as ${step.category}` : '',
        step.routeTo ? `about a member of staff; routed to ${step.routeTo}` : '',
      ]
        .filter(Boolean)
        .join('; ');
    case 'categorised':
      return `category changed to ${step.category}: ${step.note ?? ''}`;
    case 'action-noted':
      return [
        step.note ?? '',
        step.referral
          ? `referred to ${step.referral.agency.toUpperCase()} on ${step.referral.date}${step.referral.reference ? ` (ref ${step.referral.reference})` : ''}`
          : '',
      ]
        .filter(Boolean)
        .join('; ');
    case 'escalated':
      return `not acknowledged by the deadline; escalated to ${step.routeTo ?? 'dsl'}`;
    case 'routed':
      return `routed to ${step.routeTo}${step.note ? `: ${step.note}` : ''}`;
    case 'closed':
      return `closed as ${step.category}: ${step.outcome ?? ''}`;
  }
}

export function handOffRecord(incident: Incident, timeZone: string): HandOffRecord {
  const reported = local(incident.reportedAt, timeZone);
  const acknowledged = incident.steps.find((s) => s.action === 'acknowledged');
  const closed = [...incident.steps].reverse().find((s) => s.action === 'closed');
  const description =
    incident.kind === 'report'
      ? `Anonymous ${incident.urgency === 'urgent' ? 'urgent ' : ''}report from the report button in ${incident.room}. No pupil is identified by the system.`
      : `Tamper alert from the locker in ${incident.room}${incident.tamperReason ? `: ${incident.tamperReason}` : ''}.`;
  return {
    reference: incident.ref,
    kind: incident.kind,
    site: incident.site,
    room: incident.room,
    urgency: incident.urgency,
    date: reported.date,
    time: reported.time,
    reportedAtIso: new Date(incident.reportedAt).toISOString(),
    recordedBy: acknowledged ? who(acknowledged.by) : '(not yet acknowledged)',
    category: incident.category ?? (incident.kind === 'tamper' ? 'tamper' : '(not yet confirmed)'),
    description,
    actions: incident.steps
      .filter((s) => s.action === 'action-noted')
      .map((s) => ({
        at: local(s.at, timeZone).both,
        by: who(s.by),
        text: s.note ?? '',
        ...(s.referral ? { referral: s.referral } : {}),
      })),
    outcome: closed?.outcome ?? '(open)',
    status: incident.status,
    routedTo: incident.routeTo ?? 'coordinator',
    chronology: incident.steps.map((s) => ({
      at: local(s.at, timeZone).both,
      by: who(s.by),
      action: s.action,
      detail: detail(s),
    })),
  };
}

export function handOffText(r: HandOffRecord): string {
  const lines = [
    `Safeguarding incident ${r.reference} (${r.site})`,
    `Date: ${r.date}`,
    `Time: ${r.time}`,
    `Recorded by: ${r.recordedBy}`,
    `Category: ${r.category}`,
    `Room: ${r.room}`,
    `Urgency: ${r.urgency}`,
    `Routed to: ${r.routedTo}`,
    `Status: ${r.status}`,
    '',
    'Description:',
    `  ${r.description}`,
    '',
    'Actions:',
    ...(r.actions.length
      ? r.actions.map(
          (a) =>
            `  ${a.at} ${a.by}: ${a.text}${a.referral ? ` [referral: ${a.referral.agency} ${a.referral.date}]` : ''}`,
        )
      : ['  (none)']),
    '',
    `Outcome: ${r.outcome}`,
    '',
    'Chronology:',
    ...r.chronology.map((c) => `  ${c.at}  ${c.action.padEnd(12)} ${c.by}: ${c.detail}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** One row per chronology entry with the incident's fields repeated: imports cleanly into a safeguarding log. */
export function handOffCsv(r: HandOffRecord): string {
  const header = [
    'reference',
    'date',
    'time',
    'recorded_by',
    'category',
    'room',
    'urgency',
    'description',
    'outcome',
  ];
  const rows = [
    [...header, 'step_at', 'step_by', 'step', 'detail'],
    ...r.chronology.map((c) => [
      r.reference,
      r.date,
      r.time,
      r.recordedBy,
      r.category,
      r.room,
      r.urgency,
      r.description,
      r.outcome,
      c.at,
      c.by,
      c.action,
      c.detail,
    ]),
  ];
  return toCsv(rows);
}
