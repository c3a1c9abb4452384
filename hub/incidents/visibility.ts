/**
 * Who may see and act on one incident (R4, R6, S5), on top of the `incidents:read` / `incidents:write` permissions.
 * Pure: roles and the incident in, a decision out. Every reader of incidents (API routes, the live stream, the audit
 * log's rows about incidents, statistics) asks here, so a concern kept from someone is kept from them everywhere.
 *
 * - A concern routed to the governors (about the head) is the governors' alone to route or close, and is never visible
 *   to anyone holding the head role, even if they are also the DSL.
 * - A pupil's report that the coordinator or DSL has not yet acknowledged may be about a member of staff: until it is
 *   acknowledged (and, if so, routed), the head sees only that a report exists, not its content.
 * - Governors see only what is routed to them.
 */
import type { IncidentSummary } from '../event-bus.js';
import type { StaffRole } from '../users/roles.js';
import type { WorkflowCommand } from './workflow.js';

/** 'full': content and workflow; 'exists': that a report exists and its age, nothing more; 'none': not even that. */
export type IncidentAccess = 'full' | 'exists' | 'none';

type Visible = Pick<IncidentSummary, 'routeTo' | 'status' | 'kind'>;

const handles = (roles: readonly StaffRole[]) => roles.includes('coordinator') || roles.includes('dsl');

export function incidentAccess(roles: readonly StaffRole[], incident: Visible): IncidentAccess {
  const route = incident.routeTo ?? 'coordinator';
  if (route === 'governor') {
    if (roles.includes('governor')) return 'full';
    return !roles.includes('head') && handles(roles) ? 'full' : 'none';
  }
  if (handles(roles)) return 'full';
  if (roles.includes('head')) {
    // A tamper alert is about a device, never a person: the head acts on it at once.
    const unread = incident.kind === 'report' && incident.status === 'reported' && route !== 'head';
    return unread ? 'exists' : 'full';
  }
  return 'none';
}

export const canSeeIncident = (roles: readonly StaffRole[], incident: Visible): boolean =>
  incidentAccess(roles, incident) === 'full';

/**
 * Whether these roles may apply a workflow command, given they can see the incident in full. Once a concern is routed
 * to the governors, only a governor routes it elsewhere or closes it: nobody can pull it back to the head's side.
 */
export function mayApply(
  roles: readonly StaffRole[],
  incident: Visible,
  command: WorkflowCommand,
): { ok: true } | { ok: false; message: string } {
  if (incidentAccess(roles, incident) !== 'full')
    return { ok: false, message: 'the coordinator or DSL reads this report first' };
  if (
    incident.routeTo === 'governor' &&
    (command.type === 'route' || command.type === 'close') &&
    !roles.includes('governor')
  )
    return {
      ok: false,
      message: 'this concern is with the governors: only a governor may route or close it',
    };
  return { ok: true };
}

/**
 * What a reader with 'exists' access is shown of a report: that it is waiting, and since when. Not its reference
 * either, so nothing about it can be asked after or matched to a later record.
 */
export interface IncidentNotice {
  id: string;
  status: IncidentSummary['status'];
  receivedAt: number;
  restricted: true;
}

export function restrictedView(incident: IncidentSummary): IncidentNotice {
  return {
    id: incident.id,
    status: incident.status,
    receivedAt: incident.receivedAt,
    restricted: true,
  };
}
