/**
 * The daily backup's state for the dashboard (D3): the archives kept, the last run, and the progress of one under way.
 * Names and sizes only: an archive is never served over HTTP (it holds the whole database).
 */
import type { BackupSchedule, BackupStatus } from '../../backup/backup-schedule.js';
import type { RouteModule } from '../http-server.js';

/** null when no daily backup is configured. */
export type BackupView = BackupStatus | null;

export function backupRoutes(schedule: BackupSchedule | null): RouteModule {
  return (app, kit) => {
    app.get('/api/backups', { preHandler: kit.guard('audit:read') }, async () => {
      const data: BackupView = schedule ? await schedule.status() : null;
      return { status: 'ok', data };
    });
  };
}
