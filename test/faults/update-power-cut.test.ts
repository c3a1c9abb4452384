/**
 * A power cut just after a classroom device switched to a new release (S8, ETSI EN 303 645 5.3): the updater's own
 * steps (firmware/updates/install-dir.ts, in updater.ts's order: unpack, mark the trial pending, switch `current`),
 * then the device program goes on and its journal saves a document (an fsync, as every journaled event makes), and
 * the power goes. After the boot `current` must name a release whose every file is whole, and a new release must
 * still be on trial, so the boot guard (the release's own boot.js) can run and switch back if it fails. An empty
 * boot.js would run as an empty program: no guard, no roll-back, a classroom without its device.
 *
 * The disk is ext4 on a loop device (test/support/crash-disk.ts), its image copied at the cut. Needs root for losetup
 * and mount; elsewhere the test is skipped and says why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventJournal } from '../../firmware/event-journal.js';
import {
  currentVersion,
  layoutOf,
  switchTo,
  unpackRelease,
  updateState,
} from '../../firmware/updates/install-dir.js';
import { CrashDisk } from '../support/crash-disk.js';

/** A release's files as a bundle carries them: the boot guard, the program, a few modules; sizes from 1 to 96 KB. */
function releaseFiles(version: string): { path: string; mode: number; data: Buffer }[] {
  const names = [
    'dist/firmware/boot.js',
    'dist/firmware/main.js',
    'dist/firmware/device.js',
    'dist/firmware/updates/updater.js',
    'dist/shared/log.js',
    'package.json',
    ...Array.from({ length: 24 }, (_, i) => `node_modules/dep-${i}/index.js`),
  ];
  return names.map((path, i) => ({
    path,
    mode: 0o644,
    data: Buffer.from(`// ${version} ${path}\n${'x'.repeat(1024 * ((i * 7) % 97))}\n`),
  }));
}

describe('faults: a power cut during a software update', () => {
  let disk: CrashDisk | undefined;

  afterAll(() => disk?.dispose());

  it('S8: a power cut right after the switch to a new release: every file of the release it boots is whole, and the new one is still on trial', async (ctx) => {
    const made = CrashDisk.create(64);
    if (typeof made === 'string') return ctx.skip(`cannot make a loop disk here (${made})`);
    disk = made;
    const layout = layoutOf(join(made.dir, 'install'), join(made.dir, 'data'));
    const installed = releaseFiles('1.0.0');
    const offered = releaseFiles('1.1.0');
    // The device has run 1.0.0 for a while: it is long on the disk, as is its journal.
    await unpackRelease(layout, '1.0.0', installed);
    await switchTo(layout, '1.0.0');
    const journal = await EventJournal.open({ dir: join(made.dir, 'data', 'journal'), deviceId: 'upd-1' });
    made.settle();

    // The updater's steps for an offer of 1.1.0 (updater.ts), then the device program goes on.
    await unpackRelease(layout, '1.1.0', offered);
    await updateState(layout).setPending({
      offer: 'o-1',
      from: '1.0.0',
      to: '1.1.0',
      attempts: 0,
      deadline: null,
    });
    await switchTo(layout, '1.1.0');
    await journal.saveDoc('policy', { mode: 'phones-away', at: Date.now() });

    made.cut();
    await journal.close();
    made.boot();

    const booted = await currentVersion(layout);
    const files = booted === '1.1.0' ? offered : booted === '1.0.0' ? installed : null;
    expect(files, `current names ${booted}`).not.toBeNull();
    const torn = (files ?? [])
      .map((f) => ({ path: f.path, want: f.data, got: readFileSync(join(layout.current, f.path)) }))
      .filter(({ want, got }) => !got.equals(want))
      .map(({ path, want, got }) => `${path}: ${got.length} of ${want.length} bytes`);
    expect(torn, `files of ${booted} not whole after the cut`).toEqual([]);
    // The switch was made durable before the device went on, and the trial with it: the guard runs 1.1.0 on trial.
    expect(booted).toBe('1.1.0');
    expect(await updateState(layout).pending()).toMatchObject({ from: '1.0.0', to: '1.1.0' });
  }, 120_000);
});
