/**
 * What a backup archive must look like before restore touches anything: member names inside the staging directory,
 * only plain files and directories once extracted, and a manifest that matches its schema and names only what the
 * archive holds. An archive travels (USB sticks, email, cloud storage), so it is read as hostile input.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type BackupManifest, check } from '../../schemas/index.js';
import { HubError } from '../errors.js';

export class BackupError extends HubError {}

/** Top-level names a phones-away archive holds (see backup()). */
const TOP_LEVEL = new Set(['manifest.json', 'data', 'influx', 'config']);

const MEMBER_KINDS: Record<string, string> = {
  l: 'symbolic link',
  h: 'hard link',
  c: 'character device',
  b: 'block device',
  p: 'fifo',
  s: 'socket',
};

/**
 * Problems with the archive's members, from `tar -t` (names) and `tar -tv` (the same members, one line each, the first
 * character their type): absolute paths, `..`, names outside the known top-level ones, and anything but plain files
 * and directories (a symlink member followed by a file "inside" it is the classic way out of the target directory).
 */
export function memberProblems(names: readonly string[], verbose: readonly string[]): string[] {
  const problems: string[] = [];
  for (const [i, raw] of names.entries()) {
    if (raw === '') continue;
    const kind = verbose[i]?.[0] ?? '?';
    if (kind !== '-' && kind !== 'd') problems.push(`${raw}: ${MEMBER_KINDS[kind] ?? 'not a regular file'}`);
    if (raw.startsWith('/')) problems.push(`${raw}: absolute path`);
    else {
      const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
      if (parts.includes('..')) problems.push(`${raw}: contains ..`);
      else if (parts.length > 0 && !TOP_LEVEL.has(parts[0] as string))
        problems.push(`${raw}: not part of a phones-away backup`);
    }
  }
  return problems;
}

/** Anything in the extracted tree that is not a plain file or directory (symlinks, devices, fifos, sockets). */
export function specialFileProblems(root: string): string[] {
  const problems: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const shown = rel ? `${rel}/${name}` : name;
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) problems.push(`${shown}: symbolic link`);
      else if (stat.isDirectory()) walk(path, shown);
      else if (!stat.isFile()) problems.push(`${shown}: not a regular file`);
    }
  };
  walk(root, '');
  return problems;
}

/** The manifest, schema-checked; and every entry it names present in the extracted archive as a file or directory. */
export function parseManifest(staging: string, text: string): BackupManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BackupError('E_BACKUP_FORMAT', 'the backup manifest is not valid JSON');
  }
  const result = check('backup-manifest', json);
  if (!result.ok)
    throw new BackupError(
      'E_BACKUP_FORMAT',
      `the backup manifest is not valid: ${result.error.problems.join('; ')}`,
    );
  const manifest = result.value;
  const missing = [
    ...manifest.dataDirEntries.filter((n) => !exists(join(staging, 'data', n))).map((n) => `data/${n}`),
    ...manifest.configFiles.filter((n) => !exists(join(staging, 'config', n))).map((n) => `config/${n}`),
    ...(manifest.influx === 'portable' && !exists(join(staging, 'influx')) ? ['influx'] : []),
  ];
  if (missing.length)
    throw new BackupError(
      'E_BACKUP_FORMAT',
      `the backup manifest names what the archive lacks: ${missing.join(', ')}`,
    );
  return manifest;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export function refuseUnsafe(problems: string[]): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 5).join('; ');
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  throw new BackupError('E_BACKUP_UNSAFE', `refusing this archive, nothing was changed: ${shown}${more}`);
}
