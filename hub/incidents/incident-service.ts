/**
 * Applies workflow commands to stored incidents (R3): read → pure transition → one atomic, fsynced batch holding the
 * new record and its audit entry (S6) → 'incident.updated' on the bus. Serialised per incident so two staff acting at
 * once both get their step appended, in order, or a clear refusal.
 */
import type { AuditLog } from '../audit/audit-log.js';
import { HubError } from '../errors.js';
import type { EventBus } from '../event-bus.js';
import { KeyedQueue } from '../ingest/keyed-queue.js';
import type { StaffRole } from '../users/roles.js';
import { type Incident, type IncidentStore, summarise } from './incident-store.js';
import { mayApply } from './visibility.js';
import { transition, type WorkflowCommand } from './workflow.js';

export class IncidentNotFoundError extends HubError {
  constructor(id: string) {
    super('E_NOT_FOUND', `no incident ${id}`);
  }
}

export class IncidentService {
  private readonly queue = new KeyedQueue();

  constructor(
    readonly store: IncidentStore,
    private readonly audit: AuditLog,
    private readonly bus: EventBus,
    private readonly now: () => number,
  ) {}

  /**
   * `by` is `user:<name>` (with the user's roles, checked against the incident as it is now, inside the queue) or
   * `system:<part>` (no roles). Throws HubError E_NOT_FOUND, E_FORBIDDEN, E_TRANSITION or E_VALIDATION.
   */
  apply(id: string, command: WorkflowCommand, by: string, roles?: readonly StaffRole[]): Promise<Incident> {
    let result: Incident | undefined;
    return this.queue
      .run(id, async () => {
        const incident = await this.store.get(id);
        if (!incident) throw new IncidentNotFoundError(id);
        if (roles) {
          const allowed = mayApply(roles, incident, command);
          if (!allowed.ok) throw new HubError('E_FORBIDDEN', allowed.message);
        }
        const outcome = transition(incident, command, by, this.now());
        if (!outcome.ok) throw new HubError(outcome.code, outcome.message);
        // The audit entry names the step, never its free text: admins read the audit log, not incident content.
        await this.audit.commit(
          [
            {
              actor: by,
              action: `incident.${outcome.step.action}`,
              target: `incident:${incident.ref}`,
              before: { status: incident.status },
              after: { status: outcome.incident.status },
            },
          ],
          this.store.updateOps(outcome.incident),
        );
        result = outcome.incident;
        const { action, routeTo } = outcome.step;
        this.bus.emit('incident.updated', {
          incident: summarise(outcome.incident),
          step: { action, ...(routeTo ? { routeTo } : {}) },
        });
      })
      .then(() => result as Incident);
  }
}
