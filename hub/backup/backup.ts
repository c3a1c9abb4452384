/**
 * Backup and restore (D3) of a stopped hub: its data directory (hub LevelDB, broker persistence, device state),
 * configuration files, and InfluxDB through influxd's own portable backup, taken from a private influxd started on the
 * data directory for the purpose. One .tar.gz, written by the system `tar` (GNU tar is on every Debian / Raspberry Pi
 * OS), with a manifest. Progress is reported through a callback; nothing here prints.
 */
import { spawn } from 'node:child_process';
import {
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
import { HubError } from '../errors.js';
import { startInfluxd } from '../influx/influxd-process.js';
import { type Logger, silentLogger } from '../log.js';

export const BACKUP_FORMAT = 1;

export interface BackupManifest {
  format: number;
  createdAt: string;
  database: string;
  dataDirEntries: string[];
  influx: 'portable' | 'none';
  configFiles: string[];
}

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
  progress?: (message: string) => void;
  log?: Logger;
}

export class BackupError extends HubError {}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => {
      output += c;
    });
    child.stderr.on('data', (c) => {
      output += c;
    });
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0
        ? ok(output)
        : fail(
            new BackupError('E_BACKUP_TOOL', `${cmd} ${args[0]} failed (${code}): ${output.slice(-2000)}`),
          ),
    );
  });
}

function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The RPC address influxd was started with, from the config file influxd-process writes on every start. */
function rpcAddress(influxDir: string): string {
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
export async function backup(options: BackupOptions): Promise<BackupManifest> {
  const progress = options.progress ?? (() => {});
  const log = options.log ?? silentLogger;
  const dataDir = resolve(options.dataDir);
  const staging = mkdtempSync(join(tmpdir(), 'phones-away-backup-'));
  try {
    const entries = readdirSync(dataDir).filter((name) => name !== 'influxdb');
    progress(
      `hub data: ${entries.join(', ')} (${mb(entries.reduce((s, e) => s + sizeOf(join(dataDir, e)), 0))})`,
    );

    let influx: BackupManifest['influx'] = 'none';
    if (existsSync(join(dataDir, 'influxdb', 'meta'))) {
      progress('InfluxDB: starting a private influxd for its portable backup …');
      await withInfluxd(dataDir, options.database, log, (rpc) =>
        run('influxd', [
          'backup',
          '-portable',
          '-db',
          options.database,
          '-host',
          rpc,
          join(staging, 'influx'),
        ]),
      );
      influx = 'portable';
      progress(`InfluxDB: backed up ${mb(sizeOf(join(staging, 'influx')))}`);
    }

    const configFiles: string[] = [];
    if (options.configFiles?.length) {
      mkdirSync(join(staging, 'config'));
      for (const file of options.configFiles) {
        cpSync(file, join(staging, 'config', basename(file)));
        configFiles.push(basename(file));
      }
      progress(`configuration: ${configFiles.join(', ')}`);
    }

    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      database: options.database,
      dataDirEntries: entries,
      influx,
      configFiles,
    };
    writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

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
    progress(`done: ${options.out} (${mb(statSync(options.out).size)})`);
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Replaces the data directory's contents with the backup's. The hub must be stopped. */
export async function restore(options: RestoreOptions): Promise<BackupManifest> {
  const progress = options.progress ?? (() => {});
  const log = options.log ?? silentLogger;
  const dataDir = resolve(options.dataDir);
  const staging = mkdtempSync(join(tmpdir(), 'phones-away-restore-'));
  try {
    progress(`reading ${options.from} …`);
    // GNU tar refuses absolute names and `..` members by default, so an archive cannot write outside staging.
    await run('tar', ['-xzf', resolve(options.from), '-C', staging]);
    const manifestFile = join(staging, 'manifest.json');
    if (!existsSync(manifestFile))
      throw new BackupError('E_BACKUP_FORMAT', 'not a phones-away backup (no manifest)');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BackupManifest;
    if (manifest.format !== BACKUP_FORMAT)
      throw new BackupError('E_BACKUP_FORMAT', `backup format ${manifest.format} is not supported`);

    progress(`replacing hub data in ${dataDir}`);
    mkdirSync(dataDir, { recursive: true });
    for (const name of readdirSync(dataDir)) rmSync(join(dataDir, name), { recursive: true, force: true });
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
      cpSync(join(staging, 'config'), target, { recursive: true });
      progress(`configuration copied to ${target} (compare with your live files before replacing them)`);
    }
    progress('done');
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

async function fetchDrop(dataDir: string, database: string): Promise<void> {
  const conf = readFileSync(join(dataDir, 'influxdb', 'influxd.conf'), 'utf8');
  const http = /\[http\][^[]*?bind-address = "([^"]+)"/s.exec(conf)?.[1];
  if (!http) throw new BackupError('E_BACKUP_INFLUX', 'cannot find influxd HTTP bind-address');
  const body = new URLSearchParams({ q: `DROP DATABASE "${database.replaceAll('"', '\\"')}"` });
  const response = await fetch(`http://${http}/query`, { method: 'POST', body });
  if (!response.ok) throw new BackupError('E_BACKUP_INFLUX', `DROP DATABASE failed: ${response.status}`);
}
