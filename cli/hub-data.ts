/** Opening a stopped hub's data directory from the CLI: `--data-dir <dir>` or `--config <hub.json>`. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HubDb } from '../hub/db/hub-db.js';
import { HubError } from '../hub/errors.js';

export class HubRunningError extends HubError {
  constructor(what: string) {
    super(
      'E_HUB_RUNNING',
      `the hub is running on this data directory (its database is locked). LevelDB is single-process: stop the hub, then run ${what} again.`,
    );
  }
}

export async function resolveDataDir(values: { 'data-dir'?: string; config?: string }): Promise<string> {
  if (values['data-dir']) return resolve(values['data-dir']);
  if (values.config) {
    const { loadConfigFile } = await import('../hub/config-file.js');
    return resolve(loadConfigFile(values.config, 'hub-config').dataDir);
  }
  throw new Error('needs --data-dir <dir> (or --config <hub.json>)');
}

export async function openStoppedHubDb(dataDir: string, what: string, options: { create?: boolean } = {}) {
  const dir = join(dataDir, 'hub-db');
  if (!options.create && !existsSync(dir)) throw new Error(`no hub database in ${dataDir}`);
  try {
    return await HubDb.open(dir);
  } catch (error) {
    const e = error as { code?: string; cause?: { code?: string }; message?: string };
    if (e.cause?.code === 'LEVEL_LOCKED' || e.code === 'LEVEL_LOCKED' || /lock/i.test(String(e.message)))
      throw new HubRunningError(what);
    throw error;
  }
}
