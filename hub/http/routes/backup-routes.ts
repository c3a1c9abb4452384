/**
 * The daily backup's state for the dashboard (D3): the archives kept, the last run, and the progress of one under way.
 * Names and sizes only: an archive is never served over HTTP (it holds the whole database).
 */
import { BackupView } from '../../../schemas/api.js';
import type { BackupSchedule } from '../../backup/backup-schedule.js';
import { ok } from '../answer.js';
import type { RouteModule } from '../http-server.js';

export function backupRoutes(schedule: BackupSchedule | null): RouteModule {
  return (app, kit) => {
    app.get(
      '/api/backups',
      { preHandler: kit.guard('audit:read'), config: { response: BackupView } },
      async () => ok(BackupView, schedule ? await schedule.status() : null),
    );
  };
}
