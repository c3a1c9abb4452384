/**
 * D3: a snapshot copy of a LevelDB that is being written to holds the database exactly as it stood when the copy
 * began: writes made while it runs (new keys, an overwrite, a delete) are in the live database and not in the copy.
 * Real LevelDB (classic-level) on disk; the writes are made from the copy's own progress callback, so they land
 * mid-copy without any timing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterAll, describe, expect, it } from 'vitest';
import { HubDb } from '../../../../hub/db/hub-db.js';

describe('LevelDB snapshot copy (D3)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phones-away-snapshot-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('D3: the copy is the database as it stood when the copy began, whatever is written meanwhile', async () => {
    const db = await HubDb.open(join(dir, 'live'));
    const key = (i: number) => String(i).padStart(6, '0');
    await db.batch(
      Array.from({ length: 5_000 }, (_, i) => ({
        type: 'put' as const,
        sublevel: 'dedupe' as const,
        key: key(i),
        value: i,
      })),
    );
    let wroteDuring = false;
    const writes: Promise<void>[] = [];
    const copied = await db.snapshotTo(join(dir, 'copy'), () => {
      if (wroteDuring) return;
      wroteDuring = true; // after the first chunk of 1,000: the copy is under way
      writes.push(
        db.batch(
          [
            { type: 'put', sublevel: 'dedupe', key: key(4_999), value: 'changed' },
            { type: 'del', sublevel: 'dedupe', key: key(4_998) },
            ...Array.from({ length: 100 }, (_, i) => ({
              type: 'put' as const,
              sublevel: 'dedupe' as const,
              key: `new-${i}`,
              value: i,
            })),
          ],
          { sync: true },
        ),
      );
    });
    await Promise.all(writes);
    expect(wroteDuring).toBe(true);
    expect(copied).toBe(5_000);
    // The live database has the writes.
    expect(await db.get('dedupe', key(4_999))).toBe('changed');
    expect(await db.count('dedupe')).toBe(5_000 - 1 + 100);
    await db.close();

    const copy = await HubDb.open(join(dir, 'copy'));
    try {
      expect(await copy.count('dedupe')).toBe(5_000);
      expect(await copy.get('dedupe', key(4_999))).toBe(4_999);
      expect(await copy.get('dedupe', key(4_998))).toBe(4_998);
      expect(await copy.get('dedupe', 'new-0')).toBeUndefined();
    } finally {
      await copy.close();
    }
    // The copy is a plain LevelDB any reader opens.
    const raw = new Level(join(dir, 'copy'));
    await raw.open();
    await raw.close();
  });
});
