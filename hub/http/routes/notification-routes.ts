/**
 * Notifications that could not be sent after every retry (R2): listed for the staff who handle incidents, so a notice
 * nobody received is seen and followed up by hand. /healthz says only that some exist; the detail is here, signed in.
 * A notice about the head (routed to the governors) is listed only to those who may see that incident.
 */
import { canSeeIncident } from '../../incidents/workflow.js';
import type { Notifier } from '../../notify/notifier.js';
import type { RouteModule } from '../http-server.js';

export interface FailedNotice {
  id: string;
  channel: 'email' | 'webhook';
  event: string;
  ref: string;
  kind: string;
  room: string;
  /** ISO 8601 of the report. */
  at: string;
  attempts: number;
  lastError: string;
}

export function notificationRoutes(notifier: Notifier | null): RouteModule {
  return (app, kit) => {
    app.get('/api/notifications/failed', { preHandler: kit.guard('incidents:read') }, async (request) => {
      const { roles } = kit.session(request);
      const jobs = notifier ? await notifier.failed() : [];
      const data: FailedNotice[] = jobs
        .filter((job) => canSeeIncident(roles, job.notice.role === 'governor' ? { routeTo: 'governor' } : {}))
        .map((job) => ({
          id: job.id,
          channel: job.channel,
          event: job.notice.event,
          ref: job.notice.ref,
          kind: job.notice.kind,
          room: job.notice.room,
          at: job.notice.at,
          attempts: job.attempts,
          lastError: job.lastError ?? '',
        }));
      return { status: 'ok', data };
    });
  };
}
