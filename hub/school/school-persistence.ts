/**
 * Where an edited school model is kept, one place per hub so there is never a second truth:
 *
 * - a hub started from a school file (`phones-away hub`): that file. It is what the operator reads, what the CLI's
 *   device commands and `phones-away backup` read, so the edit is written back to it, atomically (temporary file in
 *   the same directory, fsync, rename over the old one, fsync the directory): a power cut leaves the old file or the
 *   new one, never half of one.
 * - a hub given the model in code (tests, the demo): the hub DB, 'meta' key 'school-model', written with fsync. At
 *   start that stored model is used in preference to the one passed in, so an edit survives a restart.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SchoolModel } from '../../schemas/config.js';
import type { HubDb } from '../db/hub-db.js';
import { ConfigError } from '../errors.js';
import { schoolModelProblems } from './school-checks.js';

export interface SchoolPersistence {
  /** Where it goes, for logs and the audit trail. */
  readonly where: string;
  save(model: SchoolModel): Promise<void>;
}

export const SCHOOL_META_KEY = 'school-model';

export function fileSchoolPersistence(path: string): SchoolPersistence {
  return {
    where: path,
    async save(model) {
      writeFileAtomic(path, `${JSON.stringify(model, null, 2)}\n`);
    },
  };
}

export function dbSchoolPersistence(db: HubDb): SchoolPersistence {
  return {
    where: `hub-db meta/${SCHOOL_META_KEY}`,
    save: (model) =>
      db.batch([{ type: 'put', sublevel: 'meta', key: SCHOOL_META_KEY, value: model }], { sync: true }),
  };
}

/** The model stored in the hub DB by an earlier edit, checked like a file: nothing half-loaded. */
export async function storedSchoolModel(db: HubDb): Promise<SchoolModel | undefined> {
  const stored = await db.get<SchoolModel>('meta', SCHOOL_META_KEY);
  if (stored === undefined) return undefined;
  const problems = schoolModelProblems(stored);
  if (problems.length) throw new ConfigError(`hub-db meta/${SCHOOL_META_KEY}`, problems);
  return stored;
}

export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(tmp);
    throw error;
  }
  closeSync(fd);
  renameSync(tmp, path);
  // The rename itself is durable only once the directory entry is on disk.
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
