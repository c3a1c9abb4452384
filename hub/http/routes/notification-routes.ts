/**
 * Notifications that could not be sent after every retry (R2): listed for the staff who handle incidents, so a notice
 * nobody received is seen and followed up by hand. /healthz says only that some exist; the detail is here, signed in.
 * A notice is listed only to those who may read its incident as it stood when the notice was made: one routed to the
 * governors never to the head, a new report's never to the head before the coordinator or DSL has read it.
 */
import { type Static, Type } from '@sinclair/typebox';
import { FailedNotice as FailedNoticeSchema } from '../../../schemas/api.js';
import { canSeeIncident } from '../../incidents/visibility.js';
import { isAlert, type Notice, type Notifier } from '../../notify/notifier.js';
import type { RouteModule } from '../http-server.js';

export type FailedNotice = Static<typeof FailedNoticeSchema>;

export function notificationRoutes(notifier: Notifier | null): RouteModule {
  return (app, kit) => {
    app.get(
      '/api/notifications/failed',
      { preHandler: kit.guard('incidents:read'), config: { response: Type.Array(FailedNoticeSchema) } },
      async (request) => {
        const { roles } = kit.session(request);
        const jobs = notifier ? await notifier.failed() : [];
        const notices = jobs.flatMap((job) =>
          job.notice && !isAlert(job.notice) ? [{ job, notice: job.notice as Notice }] : [],
        );
        const data: FailedNotice[] = notices
          .filter(({ notice }) =>
            canSeeIncident(roles, {
              kind: notice.kind === 'report' ? 'report' : 'tamper',
              status: notice.event === 'reported' ? 'reported' : 'acknowledged',
              ...(notice.role === 'governor' || notice.role === 'head' ? { routeTo: notice.role } : {}),
            }),
          )
          .map(({ job, notice }) => ({
            id: job.id,
            channel: job.channel,
            event: notice.event,
            ref: notice.ref,
            kind: notice.kind,
            room: notice.room,
            at: notice.at,
            attempts: job.attempts,
            lastError: job.lastError ?? '',
          }));
        return { status: 'ok', data };
      },
    );
  };
}
