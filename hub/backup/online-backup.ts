/**
 * D3: a backup of a running hub, in the same archive format `backup()` writes (so `phones-away restore` reads it),
 * while devices keep reporting. Nothing is paused: the hub database and the broker's persistence are copied from
 * LevelDB snapshots (hub/db/level-snapshot.ts), so each is the database exactly as it stood at one instant, and a
 * device's PUBACK is never held up.
 *
 * Order matters for "every acknowledged event exactly once": the hub database is snapshotted first, InfluxDB backed
 * up after. A point the outbox delivered before the snapshot is then in InfluxDB's backup (taken later); a point not
 * yet delivered is still in the snapshot's outbox and is delivered again after a restore, onto the same series and
 * time, which InfluxDB overwrites rather than duplicates. The other order would lose points delivered in between.
 *
 * InfluxDB: the hub's private influxd (embedded mode) is backed up through its own `influxd backup -portable` while it
 * runs. An external InfluxDB is not in the archive (manifest `influx: 'none'`): it belongs to its own server's backup
 * (README, Operations); what the hub has not yet delivered to it is in the archive's outbox.
 */
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { BackupManifest } from '../../schemas/index.js';
import { fsyncPath } from '../../shared/durable-file.js';
import { DEFAULT_KEY_FILE } from '../secrets/key-file.js';
import {
  BackupError,
  FILESYSTEM_ENTRIES,
  mb,
  portableInfluxBackup,
  rpcAddress,
  run,
  sizeOf,
  stageManifest,
} from './backup.js';

/** A running LevelDB the backup copies from a snapshot: its directory name under dataDir, and how to copy it. */
export interface LiveDatabase {
  name: string;
  snapshotTo(dir: string, progress?: (entries: number) => void): Promise<number>;
}

export interface OnlineBackupOptions {
  dataDir: string;
  out: string;
  database: string;
  /** In snapshot order: the hub database first (see above). */
  databases: LiveDatabase[];
  /** The private influxd's data directory (embedded mode); absent for an external InfluxDB. */
  influxDir?: string;
  configFiles?: string[];
  /** Directories under dataDir never to include (the backups themselves, when kept there). */
  exclude?: string[];
  progress?: (message: string) => void;
  now?: () => number;
}

/**
 * Names a backup in progress gives its working files beside the archive: the staging copy (mkdtemp adds six
 * characters) and the archive until it is whole. A backup cut short by a crash or power cut leaves them behind
 * (BackupSchedule removes them at the next start).
 */
export const STAGING_PREFIX = '.phones-away-backup-';
export const PARTIAL_SUFFIX = '.partial';

/** Progress at most every this many entries copied, so a large database reports as it goes without flooding. */
const PROGRESS_EVERY = 10_000;

/** Kept free for the hub's own database when the backups share its disk: a full disk stops it storing reports. */
export const BACKUP_RESERVE_BYTES = 64 * 1024 * 1024;

/**
 * Why a backup must not start, or null: it needs room for a staging copy of the data and then the archive (each at
 * most the data's size), and, on the hub's own disk, must leave the reserve for the database. Pure: the sizes come in.
 */
export function backupSpaceProblem(space: {
  dataBytes: number;
  freeBytes: number;
  sameDisk: boolean;
  dir: string;
}): string | null {
  const need = 2 * space.dataBytes + (space.sameDisk ? BACKUP_RESERVE_BYTES : 0);
  if (space.freeBytes >= need) return null;
  const why = space.sameDisk
    ? `a copy of the hub's data, its archive, and ${mb(BACKUP_RESERVE_BYTES)} left for the hub's database on the same disk`
    : "a copy of the hub's data and its archive";
  return `not enough free space for a backup in ${space.dir}: about ${mb(need)} needed (${why}), ${mb(space.freeBytes)} free`;
}

/** The data's size (without the backups kept inside it), the free space where the archive goes, and whether they share a disk. */
async function backupSpace(dataDir: string, outDir: string, exclude: readonly string[]) {
  const dataBytes = readdirSync(dataDir)
    .filter((name) => !exclude.includes(name))
    .reduce((sum, name) => sum + sizeOf(join(dataDir, name), 'allocated'), 0);
  const fs = await statfs(outDir);
  return {
    dataBytes,
    freeBytes: fs.bavail * fs.bsize,
    sameDisk: statSync(dataDir).dev === statSync(outDir).dev,
    dir: outDir,
  };
}

export async function onlineBackup(options: OnlineBackupOptions): Promise<BackupManifest> {
  const progress = options.progress ?? (() => {});
  const dataDir = resolve(options.dataDir);
  const outDir = dirname(resolve(options.out));
  // Checked before anything is written: a backup that filled the hub's disk would stop it storing reports.
  const problem = backupSpaceProblem(await backupSpace(dataDir, outDir, options.exclude ?? []));
  if (problem) throw new BackupError('E_BACKUP_SPACE', problem);
  const staging = mkdtempSync(join(outDir, STAGING_PREFIX));
  try {
    mkdirSync(join(staging, 'data'));
    const entries: string[] = [];
    for (const db of options.databases) {
      progress(`${db.name}: copying from a snapshot …`);
      let reported = 0;
      const copied = await db.snapshotTo(join(staging, 'data', db.name), (n) => {
        if (n - reported >= PROGRESS_EVERY) {
          reported = n;
          progress(`${db.name}: ${n.toLocaleString('en-GB')} entries copied`);
        }
      });
      entries.push(db.name);
      progress(
        `${db.name}: ${copied.toLocaleString('en-GB')} entries (${mb(sizeOf(join(staging, 'data', db.name)))})`,
      );
    }
    // Everything else in the data directory, as the offline backup takes it (signed releases for fleet updates, …):
    // files written whole, so a plain copy is a consistent one. Never the secrets key, InfluxDB's own files, the live
    // databases' directories, or the backups.
    const skip = new Set([
      'influxdb',
      DEFAULT_KEY_FILE,
      ...FILESYSTEM_ENTRIES,
      ...options.databases.map((d) => d.name),
      ...(options.exclude ?? []),
    ]);
    for (const name of readdirSync(dataDir)) {
      if (skip.has(name) || name.startsWith('.')) continue;
      cpSync(join(dataDir, name), join(staging, 'data', name), { recursive: true });
      entries.push(name);
    }

    let influx: BackupManifest['influx'] = 'none';
    if (options.influxDir) {
      progress('InfluxDB: backing up the running influxd …');
      await portableInfluxBackup(options.database, rpcAddress(options.influxDir), join(staging, 'influx'));
      influx = 'portable';
      progress(`InfluxDB: backed up ${mb(sizeOf(join(staging, 'influx')))}`);
    } else progress('InfluxDB: external, not in this archive (back it up on its own server)');

    const manifest = stageManifest(staging, {
      database: options.database,
      entries,
      influx,
      configFiles: options.configFiles ?? [],
      createdAt: (options.now ?? Date.now)(),
      progress,
    });

    progress('writing archive …');
    // Written beside its final name and renamed: a half-written archive never carries a backup's name. Its bytes,
    // then the rename, are on disk before the schedule's rotation deletes an older archive: after a power cut the
    // newest name must not stand for an empty file.
    const partial = `${resolve(options.out)}${PARTIAL_SUFFIX}`;
    await run('tar', ['-czf', partial, '-C', staging, ...readdirSync(staging)]);
    chmodSync(partial, 0o600);
    fsyncPath(partial);
    renameSync(partial, resolve(options.out));
    fsyncPath(dirname(resolve(options.out)));
    progress(`done: ${options.out} (${mb(statSync(options.out).size)})`);
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
