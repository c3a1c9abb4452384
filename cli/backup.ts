/**
 * `phones-away backup --data-dir <dir> --out <file.tar.gz> [--config <hub.json>]` and
 * `phones-away restore --data-dir <dir> --from <file.tar.gz>` (D3). The hub must be stopped (its LevelDB is locked
 * while it runs; a running hub backs itself up on the schedule in hub.json `backup`, hub/backup/backup-schedule.ts);
 * progress is printed as each part is done.
 */
import { dirname, resolve } from 'node:path';
import { backup, readBackup, restore, type StagedBackup } from '../hub/backup/backup.js';
import { type ParsedValues, parseCommandLine } from './commands.js';
import { HubRunningError, openStoppedHubDb, resolveDataDir } from './hub-data.js';

interface BackupValues {
  'data-dir'?: string;
  config?: string;
  out?: string;
  from?: string;
  database?: string;
}

/** `args` as typed after `phones-away backup|restore`. */
export async function runBackup(
  command: 'backup' | 'restore',
  args: string[],
  out = console.log,
): Promise<void> {
  const parsed = parseCommandLine([command, ...args]);
  if (parsed.kind === 'help') return out(parsed.text);
  return runBackupParsed(command, parsed.values, out);
}

export async function runBackupParsed(
  command: 'backup' | 'restore',
  parsed: ParsedValues,
  out = console.log,
): Promise<void> {
  const values = parsed as BackupValues;
  const dataDir = await resolveDataDir(values);
  let database = values.database ?? 'phones-away';
  const configFiles: string[] = [];
  if (values.config) {
    const { loadConfigFile } = await import('../hub/config-file.js');
    const config = loadConfigFile(values.config, 'hub-config');
    database = values.database ?? config.influx.database;
    configFiles.push(resolve(values.config), resolve(dirname(values.config), config.school));
  }
  if (command === 'backup' && !values.out) throw new Error('backup needs --out <file.tar.gz>');
  if (command === 'restore' && !values.from) throw new Error('restore needs --from <file.tar.gz>');
  const progress = (message: string) => out(`${command}: ${message}`);
  // A restore checks the archive first: a refused archive leaves the data directory exactly as it was.
  let staged: StagedBackup | undefined;
  if (command === 'restore' && values.from) {
    progress(`checking ${values.from} …`);
    staged = await readBackup(values.from);
  }
  try {
    // Proves the hub is stopped (LevelDB lock), and leaves the database closed and consistent on disk.
    await (
      await openStoppedHubDb(dataDir, `phones-away ${command}`, { create: command === 'restore' }).catch(
        (error: unknown) => {
          // D3: a running hub is backed up by itself, with no stop (hub.json `backup`: daily, rotated).
          if (error instanceof HubRunningError && command === 'backup')
            throw new HubRunningError(
              'phones-away backup (or set `backup` in hub.json: the running hub then backs itself up every day, with no stop, and an administrator can take one at any time with "Back up now" under Settings → Data retention)',
            );
          throw error;
        },
      )
    ).close();
    if (command === 'backup' && values.out)
      await backup({ dataDir, out: values.out, database, configFiles, progress });
    if (staged && values.from) await restore({ dataDir, from: values.from, staged, progress });
  } finally {
    staged?.dispose();
  }
}
