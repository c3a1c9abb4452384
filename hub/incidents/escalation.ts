/**
 * Same-day escalation (R2): a report still unacknowledged at its deadline escalates to the designated safeguarding
 * lead, with an 'escalated' step appended to its chronology. Runs once a minute; `tick(now)` is the whole job, so tests
 * drive it with fake time.
 */
import type { IncidentsConfig, Timetable } from '../../schemas/config.js';
import { HubError } from '../errors.js';
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';
import { acknowledgeDeadline } from './deadline.js';
import type { IncidentService } from './incident-service.js';

export interface EscalationDeps {
  incidents: IncidentService;
  timetable: Pick<Timetable, 'timezone' | 'homeTime'>;
  config?: IncidentsConfig;
  now: () => number;
  log: Logger;
  intervalMs?: number;
}

export class Escalation implements HubExtension {
  readonly name = 'escalation';
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: EscalationDeps) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => {
      this.running = this.tick(this.deps.now()).catch((error) =>
        this.deps.log.error({ err: error }, 'escalation tick failed'),
      );
    }, this.deps.intervalMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  deadlineOf(receivedAt: number): number {
    return acknowledgeDeadline(receivedAt, this.deps.timetable, this.deps.config);
  }

  /** Escalates every incident past its deadline; returns their references. */
  async tick(now: number): Promise<string[]> {
    const escalated: string[] = [];
    for await (const incident of this.deps.incidents.store.all()) {
      if (incident.status !== 'reported' || incident.escalatedAt !== undefined) continue;
      if (this.deadlineOf(incident.receivedAt) > now) continue;
      try {
        await this.deps.incidents.apply(incident.id, { type: 'escalate', to: 'dsl' }, 'system:escalation');
        escalated.push(incident.ref);
        this.deps.log.warn(
          { ref: incident.ref },
          'report not acknowledged by its deadline: escalated to the DSL',
        );
      } catch (error) {
        // Acknowledged between the scan and the step: nothing to do.
        if (!(error instanceof HubError && error.code === 'E_TRANSITION')) throw error;
      }
    }
    return escalated;
  }
}
