/**
 * The data retention schedule (D2) in plain words: what is kept, for how long, and what is never removed. Read-only;
 * the periods are hub configuration (`retention` in hub.json). For the administrator and the head, who answer a
 * parent's or an auditor's question about how long the school keeps what.
 */
import { type Retention, type RetentionLine, retentionSchedule } from '../../retention/retention-defaults.js';
import type { RouteModule } from '../http-server.js';

export interface RetentionView {
  lines: RetentionLine[];
  /** When the last retention run happened (ms), null if none yet. */
  lastRunAt: number | null;
}

export function retentionRoutes(deps: {
  periods: Retention;
  backupsKept: () => number | null;
  lastRunAt: () => Promise<number | undefined>;
}): RouteModule {
  return (app, kit) => {
    app.get('/api/retention', { preHandler: kit.guard('audit:read') }, async () => {
      const data: RetentionView = {
        lines: retentionSchedule(deps.periods, deps.backupsKept()),
        lastRunAt: (await deps.lastRunAt()) ?? null,
      };
      return { status: 'ok', data };
    });
  };
}
