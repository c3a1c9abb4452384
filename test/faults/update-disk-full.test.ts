/**
 * A software update that does not fit on the classroom device's card (S8, R1): the release is written beside the
 * running one until the card is full. The install fails (the updater reports it refused), and what it wrote must go
 * with it: the event journal lives on the same card, and a report pressed next must still be written there. Before,
 * the half-written release stayed until the next successful update, which a full card never allows. Likewise what an
 * install cut short by a power cut left (under another process's name) goes before the next install. A real 4 MB
 * tmpfs holds the install directory and the journal. Needs root for `mount -t tmpfs`; elsewhere it is skipped and
 * says so.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventJournal } from '../../firmware/event-journal.js';
import { currentVersion, layoutOf, switchTo, unpackRelease } from '../../firmware/updates/install-dir.js';
import { mountTmpfs, unmount } from '../support/full-disk.js';

const file = (path: string, kb: number, version: string) => ({
  path,
  mode: 0o644,
  data: Buffer.alloc(kb * 1024, version),
});

describe('faults: a software update larger than the space left on the card', () => {
  const card = mkdtempSync(join(tmpdir(), 'phones-away-update-card-'));
  let mounted = false;
  let journal: EventJournal | undefined;

  afterAll(async () => {
    await journal?.close().catch(() => undefined);
    if (mounted) unmount(card);
    rmSync(card, { recursive: true, force: true });
  });

  it('S8, R1: the install fails with ENOSPC, leaves nothing of itself, and the journal still writes', async (ctx) => {
    const mountError = mountTmpfs(card, '4m');
    if (mountError) return ctx.skip(`cannot mount a tmpfs here (${mountError})`);
    mounted = true;
    mkdirSync(join(card, 'data'));
    const layout = layoutOf(join(card, 'install'), join(card, 'data'));
    await unpackRelease(layout, '1.0.0', [file('dist/firmware/boot.js', 64, '1')]);
    await switchTo(layout, '1.0.0');
    journal = await EventJournal.open({ dir: join(card, 'data', 'journal'), deviceId: 'card-1' });

    const tooBig = Array.from({ length: 6 }, (_, i) => file(`node_modules/dep-${i}/index.js`, 1024, '2'));
    await expect(unpackRelease(layout, '1.1.0', tooBig)).rejects.toMatchObject({ code: 'ENOSPC' });

    expect(readdirSync(layout.releases), 'what is left in releases/').toEqual(['1.0.0']);
    expect(await currentVersion(layout)).toBe('1.0.0');
    // The card has room again for what matters: the device's journal (a saved document here, 64 KB).
    await journal.saveDoc('policy', { mode: 'phones-away', padding: 'x'.repeat(64 * 1024) });
    expect(await journal.loadDoc('policy')).toMatchObject({ mode: 'phones-away' });
  }, 60_000);

  it('S8: what an install cut short by a power cut left (another process, another name) goes before the next one', async (ctx) => {
    if (!mounted) return ctx.skip('no tmpfs (see the test above)');
    const layout = layoutOf(join(card, 'install'), join(card, 'data'));
    // A 1.1.0 install of an earlier boot, cut short: 3 MB of the 4 MB card.
    const leftover = join(layout.releases, '.incoming-1.1.0-99999');
    mkdirSync(join(leftover, 'node_modules'), { recursive: true });
    writeFileSync(join(leftover, 'node_modules', 'half.js'), Buffer.alloc(3 * 1024 * 1024, 'h'));
    // The retry of 1.1.0 (1.5 MB) fits only once the leftover is gone.
    const retry = Array.from({ length: 3 }, (_, i) => file(`node_modules/dep-${i}/index.js`, 512, '2'));
    await unpackRelease(layout, '1.1.0', retry);
    expect(readdirSync(layout.releases).sort()).toEqual(['1.0.0', '1.1.0']);
  }, 60_000);
});
