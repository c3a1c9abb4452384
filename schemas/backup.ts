/** The manifest inside a backup archive: read back from a file that may have been crafted, so every field is bounded. */
import { type Static, Type } from '@sinclair/typebox';
import { Slug, StringEnum } from './common.js';

/**
 * One name inside a directory: no separator, never `.` or `..`, so joined onto the data directory it cannot leave it.
 * The characters are those LevelDB, aedes persistence and the device state use (`hub-db`, `broker`, `LOCK` …).
 */
export const EntryName = Type.String({
  pattern: '^(?!\\.\\.?$)[A-Za-z0-9._-]{1,255}$',
  description: 'A single file or directory name: no slash, not . or ..',
});

export const BackupManifest = Type.Object(
  {
    format: Type.Literal(1),
    createdAt: Type.String({ format: 'date-time' }),
    database: Slug,
    dataDirEntries: Type.Array(EntryName, { maxItems: 100, uniqueItems: true }),
    influx: StringEnum(['portable', 'none'] as const),
    configFiles: Type.Array(EntryName, { maxItems: 10, uniqueItems: true }),
  },
  { $id: 'backup-manifest', additionalProperties: false, title: 'BackupManifest' },
);
export type BackupManifest = Static<typeof BackupManifest>;

export const backupSchemas = { 'backup-manifest': BackupManifest } as const;
