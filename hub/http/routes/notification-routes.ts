/**
 * Notifications that could not be sent after every retry (R2): listed for the staff who handle incidents, so a notice
 * nobody received is seen and followed up by hand. /healthz says only that some exist; the detail is here, signed in.
 * A notice is listed only to those who may read its incident as it stands now: one routed to the governors never to
 * the head, a report's (new or escalated) never to the head before the coordinator or DSL has read it.
 */
import { type Static, Type } from '@sinclair/typebox';
import { FailedNotice as FailedNoticeSchema } from '../../../schemas/api.js';
import type { IncidentStore } from '../../incidents/incident-store.js';
import { canSeeIncident } from '../../incidents/visibility.js';
import { isAlert, type Notice, type Notifier } from '../../notify/notifier.js';
import type { RouteModule } from '../http-server.js';

export type FailedNotice = Static<typeof FailedNoticeSchema>;

export function notificationRoutes(
  notifier: Notifier | null,
  incidents: Pick<IncidentStore, 'getByRef'>,
): RouteModule {
  /**
   * Whether these roles may see a notice: as they may see its incident now (escalated, acknowledged, routed to the
   * governors since), or, for an incident no longer kept or a device's notice, as it stood when the notice was made.
   * An escalation is only ever of a report nobody has read yet.
   */
  const visible = async (roles: Parameters<typeof canSeeIncident>[0], notice: Notice): Promise<boolean> => {
    const incident =
      notice.kind === 'report' || notice.kind === 'tamper' ? await incidents.getByRef(notice.ref) : undefined;
    if (incident) return canSeeIncident(roles, incident);
    return canSeeIncident(roles, {
      kind: notice.kind === 'report' ? 'report' : 'tamper',
      status: notice.event === 'reported' || notice.event === 'escalated' ? 'reported' : 'acknowledged',
      ...(notice.role === 'governor' || notice.role === 'head' ? { routeTo: notice.role } : {}),
    });
  };
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
        const shown = await Promise.all(notices.map(({ notice }) => visible(roles, notice)));
        const data: FailedNotice[] = notices
          .filter((_, i) => shown[i])
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
