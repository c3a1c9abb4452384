/**
 * The daily backup's state for the dashboard (D3): the archives kept, the last run, and the progress of one under way.
 * Names and sizes only: an archive is never served over HTTP (it holds the whole database). An administrator may start
 * one now, beside the daily run; the answer comes at once and the page follows its progress.
 */
import { BackupView, NoData } from '../../../schemas/api.js';
import type { BackupSchedule } from '../../backup/backup-schedule.js';
import { HubError } from '../../errors.js';
import { ok } from '../answer.js';
import type { RouteModule } from '../http-server.js';
import { answerOrRefuse } from '../route-action.js';

export function backupRoutes(schedule: BackupSchedule | null): RouteModule {
  return (app, kit) => {
    app.get(
      '/api/backups',
      { preHandler: kit.guard('audit:read'), config: { response: BackupView } },
      async () => ok(BackupView, schedule ? await schedule.status() : null),
    );
    app.post(
      '/api/backups/run',
      { preHandler: kit.guard('backups:run'), config: { response: NoData } },
      async (request, reply) => {
        return answerOrRefuse(kit, reply, NoData, async () => {
          if (!schedule)
            throw new HubError(
              'E_NO_BACKUP_DIR',
              'no backup directory is configured (backup.dir in hub.json)',
            );
          schedule.startNow(kit.now(), kit.session(request).username);
          return null;
        });
      },
    );
  };
}
