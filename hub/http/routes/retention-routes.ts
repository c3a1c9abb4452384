/**
 * The data retention schedule (D2) in plain words: what is kept, for how long, and what is never removed. Read-only;
 * the periods are hub configuration (`retention` in hub.json). For the administrator and the head, who answer a
 * parent's or an auditor's question about how long the school keeps what.
 */
import { RetentionView } from '../../../schemas/api.js';
import { type Retention, retentionSchedule } from '../../retention/retention-defaults.js';
import { ok } from '../answer.js';
import type { RouteModule } from '../http-server.js';

export function retentionRoutes(deps: {
  periods: Retention;
  backupsKept: () => number | null;
  lastRunAt: () => Promise<number | undefined>;
}): RouteModule {
  return (app, kit) => {
    app.get(
      '/api/retention',
      { preHandler: kit.guard('audit:read'), config: { response: RetentionView } },
      async () =>
        ok(RetentionView, {
          lines: retentionSchedule(deps.periods, deps.backupsKept()),
          // When the last retention run happened, null if none yet.
          lastRunAt: (await deps.lastRunAt()) ?? null,
        }),
    );
  };
}
