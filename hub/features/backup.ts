/**
 * Backups of the running hub (D3): the hub database first, then the broker's, then InfluxDB (online-backup.ts says why
 * that order keeps every acknowledged event exactly once), and the daily schedule when `backup` is configured.
 */
import { join, relative } from 'node:path';
import type { BackupManifest } from '../backup/backup.js';
import { BackupSchedule } from '../backup/backup-schedule.js';
import { onlineBackup } from '../backup/online-backup.js';
import { backupRoutes } from '../http/routes/backup-routes.js';
import type { HubCore } from './core.js';
import type { Feature } from './feature.js';

export interface BackupFeature extends Feature {
  take(out: string, progress?: (message: string) => void): Promise<BackupManifest>;
  schedule: BackupSchedule | null;
}

export function backupFeature(
  core: HubCore,
  options: {
    /** hub.json and school.json, carried in every archive. */
    configFiles: string[];
    /** Settles once the metrics store (the private influxd) is up: its backup needs it. */
    storeReady: Promise<unknown>;
  },
): BackupFeature {
  const { config, school, db, broker, audit, now, log } = core;
  const take = async (out: string, progress?: (message: string) => void) => {
    await options.storeReady;
    const backupDir = config.backup ? relative(config.dataDir, config.backup.dir) : '';
    return onlineBackup({
      dataDir: config.dataDir,
      out,
      database: config.influx.database,
      databases: [
        { name: 'hub-db', snapshotTo: (dir, p) => db.snapshotTo(dir, p) },
        { name: 'broker', snapshotTo: (dir, p) => broker.snapshotTo(dir, p) },
      ],
      ...(config.influx.mode === 'embedded' ? { influxDir: join(config.dataDir, 'influxdb') } : {}),
      configFiles: options.configFiles,
      // Backups kept inside the data directory are never put into the next one.
      ...(backupDir && !backupDir.startsWith('..') ? { exclude: [backupDir.split('/')[0] as string] } : {}),
      ...(progress ? { progress } : {}),
      now,
    });
  };
  const schedule = config.backup
    ? new BackupSchedule({
        config: config.backup,
        timezone: school.timetable.timezone,
        take,
        db,
        audit,
        now,
        log: log.child({ part: 'backup' }),
      })
    : null;
  return {
    name: 'backup',
    take,
    schedule,
    extensions: schedule ? [schedule] : [],
    routes: [backupRoutes(schedule)],
  };
}
