/**
 * Where an edited school model is kept, one place per hub so there is never a second truth:
 *
 * - a hub started from a school file (`phones-away hub`): that file. It is what the operator reads, what the CLI's
 *   device commands and `phones-away backup` read, so the edit is written back to it, atomically (temporary file in
 *   the same directory, fsync, rename over the old one, fsync the directory): a power cut leaves the old file or the
 *   new one, never half of one. A file cannot join a LevelDB batch, so the edit is first committed to the hub DB as
 *   pending ('meta' key 'school-file-pending'), in the same batch as its audit entry (S6), then written to the file,
 *   then the pending copy dropped. A crash in between is rolled forward at the next start (rollForwardSchoolFile):
 *   the file never holds a change the audit log lacks, nor the log a change the file never gets.
 * - a hub given the model in code (tests, the demo): the hub DB, 'meta' key 'school-model', in the audit entry's
 *   batch. At start that stored model is used in preference to the one passed in, so an edit survives a restart.
 */

import type { SchoolModel } from '../../schemas/config.js';
import { writeFileDurably } from '../../shared/durable-file.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import { ConfigError } from '../errors.js';
import { schoolModelProblems } from './school-checks.js';

export interface SchoolPersistence {
  /** Where it goes, for logs and the audit trail. */
  readonly where: string;
  /** The ops that commit the edited model, for the batch that carries its audit entry. */
  ops(model: SchoolModel): BatchOp[];
  /** After that batch is committed: anything outside the hub DB (the file). */
  committed(model: SchoolModel): Promise<void>;
}

export const SCHOOL_META_KEY = 'school-model';
const PENDING_KEY = 'school-file-pending';

interface PendingFile {
  path: string;
  model: SchoolModel;
}

export function fileSchoolPersistence(path: string, db: HubDb): SchoolPersistence {
  return {
    where: path,
    ops: (model) => [{ type: 'put', sublevel: 'meta', key: PENDING_KEY, value: { path, model } }],
    async committed(model) {
      writeSchoolFile(path, model);
      await db.del('meta', PENDING_KEY);
    },
  };
}

export function dbSchoolPersistence(): SchoolPersistence {
  return {
    where: `hub-db meta/${SCHOOL_META_KEY}`,
    ops: (model) => [{ type: 'put', sublevel: 'meta', key: SCHOOL_META_KEY, value: model }],
    committed: async () => {},
  };
}

/**
 * At start, before the model is used: an edit committed (and audited) whose file write a crash cut off is written
 * now. Returns the model the file holds afterwards when it rolled one forward. A pending edit for another file (the
 * hub started from a different one) is left alone.
 */
export async function rollForwardSchoolFile(db: HubDb, path: string): Promise<SchoolModel | undefined> {
  const pending = await db.get<PendingFile>('meta', PENDING_KEY);
  if (pending === undefined || pending.path !== path) return undefined;
  writeSchoolFile(path, pending.model);
  await db.del('meta', PENDING_KEY);
  return pending.model;
}

function writeSchoolFile(path: string, model: SchoolModel): void {
  writeFileDurably(path, `${JSON.stringify(model, null, 2)}\n`);
}

/** The model stored in the hub DB by an earlier edit, checked like a file: nothing half-loaded. */
export async function storedSchoolModel(db: HubDb): Promise<SchoolModel | undefined> {
  const stored = await db.get<SchoolModel>('meta', SCHOOL_META_KEY);
  if (stored === undefined) return undefined;
  const problems = schoolModelProblems(stored);
  if (problems.length) throw new ConfigError(`hub-db meta/${SCHOOL_META_KEY}`, problems);
  return stored;
}
