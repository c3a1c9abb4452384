/**
 * A power cut just after `phones-away release keygen` and `release sign` (S8): the technician's signing key is kept
 * offline and made once; written without a sync, the cut left the name of an empty `.key` file (any other fsync on the
 * disk commits ext4's journal with the name and size, not the bytes), which no later keygen would overwrite and no
 * sign could read. The signed bundle was rewritten in place, so a cut could leave half of it. cli/release.ts now
 * writes both through shared/durable-file.ts. The disk is ext4 on a loop device (test/support/crash-disk.ts), its
 * image copied at the cut. Needs root for losetup and mount; elsewhere the test is skipped and says why.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRelease } from '../../cli/release.js';
import { writeFileDurably } from '../../shared/durable-file.js';
import { buildBundle, hostTarget, parseBundle, verifyBundle } from '../../shared/release-bundle.js';
import { CrashDisk } from '../support/crash-disk.js';

describe('faults: a power cut after a release key is made and a bundle signed', () => {
  let disk: CrashDisk | undefined;

  afterAll(() => disk?.dispose());

  it('S8: after the cut the key pair is whole, and the signed bundle verifies with it', async (ctx) => {
    const made = CrashDisk.create(64);
    if (typeof made === 'string') return ctx.skip(`cannot make a loop disk here (${made})`);
    disk = made;
    const keys = join(made.dir, 'keys');
    mkdirSync(keys);
    const bundle = join(made.dir, 'phones-away-1.4.0.bundle');
    const files = Array.from({ length: 8 }, (_, i) => ({
      path: `dist/part-${i}.js`,
      mode: 0o644,
      data: Buffer.alloc(64 * 1024, i),
    }));
    const unsigned = buildBundle({ version: '1.4.0', target: hostTarget(), entry: 'dist/part-0.js' }, files);
    // The unsigned bundle as `release build` leaves it, already on disk for a while (synced).
    writeFileDurably(bundle, unsigned);
    const base = join(keys, 'school-2026');
    await runRelease(['keygen'], { out: base });
    await runRelease(['sign', bundle], { key: `${base}.key` });
    // Something else on the same disk syncs (a hub's database, a device journal would), then the power goes.
    writeFileDurably(join(made.dir, 'other.json'), '{}');
    made.powerCut();

    const sizes = ['school-2026.key', 'school-2026.pub'].map(
      (n) => `${n}: ${statSync(join(keys, n)).size} bytes`,
    );
    expect(statSync(`${base}.key`).size, `key pair after the cut (${sizes.join(', ')})`).toBeGreaterThan(0);
    expect(statSync(`${base}.pub`).size, `key pair after the cut (${sizes.join(', ')})`).toBeGreaterThan(0);
    expect(statSync(`${base}.key`).mode & 0o777).toBe(0o600);
    const signed = readFileSync(bundle);
    expect(parseBundle(signed).signature, 'the bundle after the cut is signed').toBeDefined();
    const verified = verifyBundle(signed, [readFileSync(`${base}.pub`, 'utf8')]);
    expect(verified.manifest.version).toBe('1.4.0');
    expect(verified.files.length).toBe(files.length);
    // The key still signs: a second bundle signed with it verifies.
    writeFileSync(`${bundle}.2`, unsigned);
    await runRelease(['sign', `${bundle}.2`], { key: `${base}.key` });
    expect(verifyBundle(readFileSync(`${bundle}.2`), [readFileSync(`${base}.pub`, 'utf8')]).keyId).toBe(
      verified.keyId,
    );
  }, 120_000);

  it('S8: keygen never replaces a key: a second keygen of the same name is refused and the key is unchanged', async (ctx) => {
    if (!disk) return ctx.skip('no loop disk here');
    const base = join(disk.dir, 'keys', 'school-2026');
    const before = readFileSync(`${base}.key`, 'utf8');
    await expect(runRelease(['keygen'], { out: base })).rejects.toThrow(/exists/);
    expect(readFileSync(`${base}.key`, 'utf8')).toBe(before);
  });
});
