/**
 * S8: how a verified release is laid out on the device's disk (firmware/updates/install-dir.ts). A bundle's file
 * modes are kept, but never group- or world-writable: a signed bundle built on a machine with a loose umask must not
 * leave the device program's code writable by any other account on the Pi.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layoutOf, unpackRelease } from '../../../firmware/updates/install-dir.js';

describe('release install directory (S8)', () => {
  const root = mkdtempSync(join(tmpdir(), 'phones-away-install-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('S8: file modes are kept without group or world write', async () => {
    const layout = layoutOf(join(root, 'install'), join(root, 'data'));
    const files = [
      { path: 'dist/firmware/boot.js', mode: 0o777, data: Buffer.from('// boot\n') },
      { path: 'bin/run', mode: 0o775, data: Buffer.from('#!/bin/sh\n') },
      { path: 'package.json', mode: 0o666, data: Buffer.from('{}\n') },
      { path: 'secret.txt', mode: 0o600, data: Buffer.from('x\n') },
    ];
    const dir = await unpackRelease(layout, '2.0.0', files);
    const modes = Object.fromEntries(
      files.map((f) => [f.path, (statSync(join(dir, f.path)).mode & 0o777).toString(8)]),
    );
    expect(modes).toEqual({
      'dist/firmware/boot.js': '755',
      'bin/run': '755',
      'package.json': '644',
      'secret.txt': '600',
    });
  });
});
