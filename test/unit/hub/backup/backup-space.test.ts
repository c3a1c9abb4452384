/**
 * D3: whether a backup may start (backupSpaceProblem, hub/backup/online-backup.ts): room for a staging copy of the data
 * and its archive, and on the hub's own disk the reserve its database needs. The refusal is the sentence the dashboard
 * shows. The full disk itself is attacked in test/faults/backup-disk-space.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BACKUP_RESERVE_BYTES, backupSpaceProblem } from '../../../../hub/backup/online-backup.js';

const MB = 1024 * 1024;

describe('backup space (D3)', () => {
  it('D3: allowed with room for the copy and the archive, and the reserve on the hub disk', () => {
    expect(
      backupSpaceProblem({ dataBytes: 100 * MB, freeBytes: 200 * MB, sameDisk: false, dir: '/b' }),
    ).toBeNull();
    expect(
      backupSpaceProblem({
        dataBytes: 100 * MB,
        freeBytes: 200 * MB + BACKUP_RESERVE_BYTES,
        sameDisk: true,
        dir: '/b',
      }),
    ).toBeNull();
  });

  it('D3: refused one byte short, saying what is needed and what is free in plain words', () => {
    expect(
      backupSpaceProblem({ dataBytes: 100 * MB, freeBytes: 200 * MB - 1, sameDisk: false, dir: '/b' }),
    ).toBe(
      "not enough free space for a backup in /b: about 200.0 MB needed (a copy of the hub's data and its archive), 200.0 MB free",
    );
    expect(
      backupSpaceProblem({
        dataBytes: 100 * MB,
        freeBytes: 200 * MB + BACKUP_RESERVE_BYTES - 1,
        sameDisk: true,
        dir: '/b',
      }),
    ).toBe(
      "not enough free space for a backup in /b: about 264.0 MB needed (a copy of the hub's data, its archive, and 64.0 MB left for the hub's database on the same disk), 264.0 MB free",
    );
  });
});
