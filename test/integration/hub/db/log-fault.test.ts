/**
 * The hub's database after a write fails on a real full disk (a tmpfs): LevelDB's log may hold part of the failed
 * record, and LevelDB goes on appending after it, so what it stored next would be lost at the next open. HubDb must
 * refuse writes from the failure until it has reopened the database (hub/db/log-fault.ts), keep answering reads
 * meanwhile, and hold every write it acknowledged, before and after the fault, across a close and open (R1).
 * Needs root for `mount -t tmpfs`; elsewhere the test is skipped and says so.
 */
import { unlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HubDb } from '../../../../hub/db/hub-db.js';
import { StorageFaultError } from '../../../../hub/db/log-fault.js';
import { fillDisk, tmpfsForTests } from '../../../support/full-disk.js';
import { waitFor } from '../../../support/hub-fixture.js';

const { dir, notMounted } = tmpfsForTests('pa-log-fault-', '8m');

/** A value of about 2 KB: a few fill the last pages of the full disk. */
const value = (i: number) => ({ i, pad: 'x'.repeat(2000) });

describe('HubDb on a full disk', () => {
  it('R1: refuses writes from a failed one until reopened, reads on, and keeps every acknowledged write across an open', async (ctx) => {
    const mountError = notMounted();
    if (mountError) return ctx.skip(`cannot mount a tmpfs here (${mountError})`);
    const changes: boolean[] = [];
    let db = await HubDb.open(dir, { onLogFault: (s) => changes.push(s.refusing) });
    const stored: string[] = [];
    let filler = '';
    try {
      for (let i = 0; i < 20; i++) {
        await db.batch([{ type: 'put', sublevel: 'incidents', key: `before-${i}`, value: value(i) }], {
          sync: true,
        });
        stored.push(`before-${i}`);
      }
      filler = fillDisk(dir);
      // Writes until one fails: the log's last page takes a few, then the append fails part way.
      let failure: unknown;
      for (let i = 0; i < 1000 && failure === undefined; i++) {
        await db
          .batch([{ type: 'put', sublevel: 'incidents', key: `full-${i}`, value: value(i) }], { sync: true })
          .then(
            () => stored.push(`full-${i}`),
            (error: unknown) => {
              failure = error;
            },
          );
      }
      expect((failure as { code?: string }).code).toBe('LEVEL_IO_ERROR');
      expect(db.logFault).toMatchObject({ refusing: true, faults: 1, recoveries: 0 });

      // Refused without touching LevelDB, whatever the write, while reads go on.
      await expect(db.put('incidents', 'refused', value(0))).rejects.toBeInstanceOf(StorageFaultError);
      await expect(
        db.batch([{ type: 'put', sublevel: 'incidents', key: 'refused', value: value(0) }]),
      ).rejects.toBeInstanceOf(StorageFaultError);
      expect(await db.get('incidents', 'before-0')).toEqual(value(0));
      // Still full: no reopen is tried (it would close the database and fail), so reads keep working.
      await new Promise((r) => setTimeout(r, 700));
      expect(db.logFault).toMatchObject({ refusing: true, recoveries: 0 });
      expect(await db.get('incidents', 'before-19')).toEqual(value(19));

      unlinkSync(filler);
      filler = '';
      await waitFor(async () => !db.logFault.refusing, 'writes accepted again', 15_000);
      expect(db.logFault).toMatchObject({ faults: 1, recoveries: 1 });
      expect(changes).toEqual([true, false]);
      for (let i = 0; i < 20; i++) {
        await db.batch([{ type: 'put', sublevel: 'incidents', key: `after-${i}`, value: value(i) }], {
          sync: true,
        });
        stored.push(`after-${i}`);
      }
      await db.put('meta', 'after-put', 1);
    } finally {
      if (filler) unlinkSync(filler);
      await db.close();
    }

    // What a restart sees: LevelDB replays its log. Before the fix, every write after the failure was dropped here.
    db = await HubDb.open(dir);
    try {
      const keys = new Set<string>();
      for await (const [key] of db.entries('incidents')) keys.add(key);
      expect(stored.filter((key) => !keys.has(key))).toEqual([]);
      expect(keys.has('refused')).toBe(false);
      expect(await db.get('meta', 'after-put')).toBe(1);
    } finally {
      await db.close();
    }
  }, 60_000);
});
