/**
 * Backup and restore (D3) of a stopped hub (a running hub is backed up by online-backup.ts, into the same format): its data directory (hub LevelDB, broker persistence, device state),
 * configuration files, and InfluxDB through influxd's own portable backup, taken from a private influxd started on the
 * data directory for the purpose. One .tar.gz, written by the system `tar` (GNU tar is on every Debian / Raspberry Pi
 * OS), with a manifest. Progress is reported through a callback; nothing here prints.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { type BackupManifest, parse } from '../../schemas/index.js';
import { startInfluxd } from '../influx/influxd-process.js';
import { type Logger, silentLogger } from '../log.js';
import { DEFAULT_KEY_FILE } from '../secrets/key-file.js';
import {
  BackupError,
  memberProblems,
  parseManifest,
  refuseUnsafe,
  specialFileProblems,
} from './archive-checks.js';

export const BACKUP_FORMAT = 1;

export type { BackupManifest };
export { BackupError };

export interface BackupOptions {
  dataDir: string;
  out: string;
  /** InfluxDB database name (the hub config's influx.database). */
  database: string;
  /** Configuration files to include (hub.json, school.json). */
  configFiles?: string[];
  progress?: (message: string) => void;
  log?: Logger;
}

export interface RestoreOptions {
  dataDir: string;
  from: string;
  /** Already extracted and checked by readBackup (the caller disposes it). */
  staged?: StagedBackup;
  progress?: (message: string) => void;
  log?: Logger;
}

export function run(cmd: string, args: string[], stdoutOnly = false): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => {
      output += c;
    });
    let errors = '';
    child.stderr.on('data', (c) => {
      if (stdoutOnly) errors += c;
      else output += c;
    });
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0
        ? ok(output)
        : fail(
            new BackupError(
              'E_BACKUP_TOOL',
              `${cmd} ${args[0]} failed (${code}): ${(output + errors).slice(-2000)}`,
            ),
          ),
    );
  });
}

/**
 * Bytes under `path`: the files' apparent sizes, or what everything takes on the disk ('allocated': blocks, directories
 * included; influxd's series files are sparse, 33 MB apparent for 0.3 MB used). A file gone meanwhile counts 0: a
 * running hub's LevelDB deletes files as it compacts.
 */
export function sizeOf(path: string, measure: 'apparent' | 'allocated' = 'apparent'): number {
  try {
    const stat = statSync(path);
    const own = measure === 'allocated' ? stat.blocks * 512 : stat.isDirectory() ? 0 : stat.size;
    if (!stat.isDirectory()) return own;
    return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name), measure), own);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The RPC address influxd was started with, from the config file influxd-process writes on every start. */
export function rpcAddress(influxDir: string): string {
  const conf = readFileSync(join(influxDir, 'influxd.conf'), 'utf8');
  const match = /^bind-address = "([^"]+)"/m.exec(conf);
  if (!match?.[1]) throw new BackupError('E_BACKUP_INFLUX', 'cannot find influxd RPC bind-address');
  return match[1];
}

async function withInfluxd<T>(
  dataDir: string,
  database: string,
  log: Logger,
  fn: (rpc: string) => Promise<T>,
) {
  const influxDir = join(dataDir, 'influxdb');
  const handle = await startInfluxd({ dataDir: influxDir, database, log });
  try {
    return await fn(rpcAddress(influxDir));
  } finally {
    await handle.stop();
  }
}

/** Hub must be stopped: the caller checks the LevelDB lock first (cli/hub-data.ts). */
/** influxd's own portable backup of one database, from the influxd listening for RPC at `rpc`, into `to`. */
export function portableInfluxBackup(database: string, rpc: string, to: string): Promise<string> {
  return run('influxd', ['backup', '-portable', '-db', database, '-host', rpc, to]);
}

/**
 * The archive's configuration files and manifest, written into `staging`: the manifest is checked by the schema
 * restore reads it with, so a data directory entry restore would refuse fails the backup now, not the restore later.
 */
export function stageManifest(
  staging: string,
  parts: {
    database: string;
    entries: string[];
    influx: BackupManifest['influx'];
    configFiles: string[];
    createdAt: number;
    progress: (message: string) => void;
  },
): BackupManifest {
  const configFiles: string[] = [];
  if (parts.configFiles.length > 0) {
    mkdirSync(join(staging, 'config'));
    for (const file of parts.configFiles) {
      cpSync(file, join(staging, 'config', basename(file)));
      configFiles.push(basename(file));
    }
    parts.progress(`configuration: ${configFiles.join(', ')}`);
  }
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    createdAt: new Date(parts.createdAt).toISOString(),
    database: parts.database,
    dataDirEntries: parts.entries,
    influx: parts.influx,
    configFiles,
  };
  parse('backup-manifest', manifest);
  writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * Entries of the data directory that belong to its filesystem, not the hub: ext4's `lost+found`, there when the data
 * directory is a disk of its own (a USB disk or partition mounted at /var/lib/phones-away). Never archived (its name
 * is no backup entry name, which stopped every backup of such a hub), never removed by a restore.
 */
export const FILESYSTEM_ENTRIES: ReadonlySet<string> = new Set(['lost+found']);

export async function backup(options: BackupOptions): Promise<BackupManifest> {
  const progress = options.progress ?? (() => {});
  const log = options.log ?? silentLogger;
  const dataDir = resolve(options.dataDir);
  const staging = mkdtempSync(join(tmpdir(), 'phones-away-backup-'));
  try {
    // The secrets key stays out: an archive that travels must not carry what opens the TOTP secrets inside it.
    // Nor dot-files, as the running hub's backup: a write cut short between its temporary file and the rename leaves
    // one (a first-run password for an account never made, say).
    const entries = readdirSync(dataDir).filter(
      (name) =>
        name !== 'influxdb' &&
        name !== DEFAULT_KEY_FILE &&
        !FILESYSTEM_ENTRIES.has(name) &&
        !name.startsWith('.'),
    );
    progress(
      `hub data: ${entries.join(', ')} (${mb(entries.reduce((s, e) => s + sizeOf(join(dataDir, e)), 0))})`,
    );

    let influx: BackupManifest['influx'] = 'none';
    if (existsSync(join(dataDir, 'influxdb', 'meta'))) {
      progress('InfluxDB: starting a private influxd for its portable backup …');
      await withInfluxd(dataDir, options.database, log, (rpc) =>
        portableInfluxBackup(options.database, rpc, join(staging, 'influx')),
      );
      influx = 'portable';
      progress(`InfluxDB: backed up ${mb(sizeOf(join(staging, 'influx')))}`);
    }

    const manifest = stageManifest(staging, {
      database: options.database,
      entries,
      influx,
      configFiles: options.configFiles ?? [],
      createdAt: Date.now(),
      progress,
    });

    progress('writing archive …');
    mkdirSync(dirname(resolve(options.out)), { recursive: true });
    await run('tar', [
      '-czf',
      resolve(options.out),
      '-C',
      staging,
      ...readdirSync(staging),
      '-C',
      dataDir,
      '--transform',
      's,^\\./,data/,',
      ...entries.map((e) => `./${e}`),
    ]);
    chmodSync(resolve(options.out), 0o600);
    progress(`done: ${options.out} (${mb(statSync(options.out).size)})`);
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** An archive extracted into a private staging directory and checked: nothing outside staging has been touched. */
export interface StagedBackup {
  manifest: BackupManifest;
  dir: string;
  dispose(): void;
}

/**
 * Extracts and checks an archive before anything is changed: member names (no absolute paths, no `..`, only the
 * parts a backup has), only plain files and directories (a symlink copied into the data directory would let the hub
 * write outside it), and the manifest against its schema. Throws BackupError (`E_BACKUP_UNSAFE` or
 * `E_BACKUP_FORMAT`) naming what is wrong.
 */
export async function readBackup(from: string): Promise<StagedBackup> {
  const archive = resolve(from);
  const names = (await run('tar', ['-tzf', archive], true)).split('\n');
  const verbose = (await run('tar', ['-tvzf', archive], true)).split('\n');
  refuseUnsafe(memberProblems(names, verbose));
  const dir = mkdtempSync(join(tmpdir(), 'phones-away-restore-'));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    // GNU tar also refuses `..` members and strips a leading `/`: a second guard behind the listing check.
    await run('tar', ['-xzf', archive, '-C', dir, '--no-same-owner', '--no-same-permissions']);
    refuseUnsafe(specialFileProblems(dir));
    const manifestFile = join(dir, 'manifest.json');
    if (!existsSync(manifestFile))
      throw new BackupError('E_BACKUP_FORMAT', 'not a phones-away backup (no manifest)');
    const manifest = parseManifest(dir, readFileSync(manifestFile, 'utf8'));
    return { manifest, dir, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

/**
 * Replaces the data directory's contents with the backup's. The hub must be stopped. Pass `staged` (from readBackup)
 * to check the archive before taking the hub's lock; otherwise the archive at `from` is read and checked here.
 */
export async function restore(options: RestoreOptions): Promise<BackupManifest> {
  const progress = options.progress ?? (() => {});
  const log = options.log ?? silentLogger;
  const dataDir = resolve(options.dataDir);
  progress(`reading ${options.from} …`);
  const staged = options.staged ?? (await readBackup(options.from));
  const { manifest, dir: staging } = staged;
  try {
    progress(`replacing hub data in ${dataDir}`);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dataDir))
      if (!FILESYSTEM_ENTRIES.has(name)) rmSync(join(dataDir, name), { recursive: true, force: true });
    for (const name of manifest.dataDirEntries)
      cpSync(join(staging, 'data', name), join(dataDir, name), { recursive: true });

    if (manifest.influx === 'portable') {
      progress('InfluxDB: restoring the portable backup …');
      await withInfluxd(dataDir, manifest.database, log, async (rpc) => {
        // startInfluxd created the (empty) database; a portable restore wants it absent.
        await fetchDrop(dataDir, manifest.database);
        await run('influxd', [
          'restore',
          '-portable',
          '-db',
          manifest.database,
          '-host',
          rpc,
          join(staging, 'influx'),
        ]);
      });
      progress('InfluxDB: restored');
    }
    if (manifest.configFiles.length) {
      const target = join(dataDir, 'restored-config');
      mkdirSync(target, { mode: 0o700 });
      for (const name of manifest.configFiles) cpSync(join(staging, 'config', name), join(target, name));
      progress(`configuration copied to ${target} (compare with your live files before replacing them)`);
    }
    progress('done');
    return manifest;
  } finally {
    if (!options.staged) staged.dispose();
  }
}

async function fetchDrop(dataDir: string, database: string): Promise<void> {
  const conf = readFileSync(join(dataDir, 'influxdb', 'influxd.conf'), 'utf8');
  const http = /\[http\][^[]*?bind-address = "([^"]+)"/s.exec(conf)?.[1];
  if (!http) throw new BackupError('E_BACKUP_INFLUX', 'cannot find influxd HTTP bind-address');
  // The name reaches here schema-checked as a slug; checked again because it is placed into InfluxQL.
  if (!/^[a-z0-9][a-z0-9-]{0,47}$/.test(database))
    throw new BackupError('E_BACKUP_FORMAT', `not a valid database name: ${JSON.stringify(database)}`);
  const body = new URLSearchParams({ q: `DROP DATABASE "${database}"` });
  const response = await fetch(`http://${http}/query`, { method: 'POST', body });
  if (!response.ok) throw new BackupError('E_BACKUP_INFLUX', `DROP DATABASE failed: ${response.status}`);
}
