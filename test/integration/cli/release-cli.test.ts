/**
 * `phones-away release` as an operator runs it (the real command in its own process): a key pair, a bundle built
 * from a compiled tree, signed with the private key, verified with the public one, refused with another, and added
 * to a stopped hub only when its config trusts the key.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBundle } from '../../../shared/release-bundle.js';
import { repoRoot } from '../../support/hub-fixture.js';
import { compileDeviceTree } from '../../support/release-tree.js';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'cli', 'main.ts'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
  });
let dir: string;
const at = (name: string) => join(dir, name);

describe('phones-away release (S8)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'phones-away-release-cli-'));
    compileDeviceTree(at('tree'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keygen, build, sign and verify; another key is refused', () => {
    expect(cli('release', 'keygen', '--out', at('school')).status).toBe(0);
    expect(statSync(at('school.key')).mode & 0o777).toBe(0o600);
    expect(cli('release', 'keygen', '--out', at('other')).status).toBe(0);
    const build = cli(
      'release',
      'build',
      '--root',
      at('tree'),
      '--no-deps',
      '--version',
      '3.1.0',
      '--out',
      at('r.bundle'),
    );
    expect(build.status, build.stderr).toBe(0);
    const { manifest, signature } = parseBundle(readFileSync(at('r.bundle')));
    expect(manifest.version).toBe('3.1.0');
    expect(manifest.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/firmware/boot.js',
        'dist/firmware/main.js',
        'dist/schemas/validate.js',
      ]),
    );
    expect(
      manifest.files.some((f) => f.path.startsWith('dist/hub/') || f.path.startsWith('node_modules/')),
    ).toBe(false);
    expect(signature).toBeNull();
    const unsigned = cli('release', 'verify', at('r.bundle'), '--public-key', at('school.pub'));
    expect(unsigned.status).toBe(1);
    expect(unsigned.stderr).toContain('not signed');
    expect(cli('release', 'sign', at('r.bundle'), '--key', at('school.key')).status).toBe(0);
    const good = cli('release', 'verify', at('r.bundle'), '--public-key', at('school.pub'));
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('Good: version 3.1.0');
    const other = cli('release', 'verify', at('r.bundle'), '--public-key', at('other.pub'));
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('not from a trusted key');
  }, 180_000);

  it('add: a stopped hub takes the bundle only against its configured key', () => {
    const hubConfig = (keys: string[]) => {
      const file = join(dir, `hub-${keys.length}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          version: 1,
          site: 'demo-school',
          dataDir: join(dir, 'hub-data'),
          school: join(repoRoot, 'config', 'school.example.json'),
          mqtt: { host: '127.0.0.1', port: 0 },
          http: { host: '127.0.0.1', port: 0 },
          influx: { mode: 'embedded', database: 'phones-away' },
          logLevel: 'warn',
          ...(keys.length ? { updates: { publicKeys: keys } } : {}),
        }),
      );
      return file;
    };
    mkdirSync(join(dir, 'hub-data'));
    const untrusted = cli('release', 'add', at('r.bundle'), '--config', hubConfig([at('other.pub')]));
    expect(untrusted.status).toBe(1);
    expect(untrusted.stderr).toContain('not from a trusted key');
    const added = cli(
      'release',
      'add',
      at('r.bundle'),
      '--config',
      hubConfig([at('other.pub'), at('school.pub')]),
    );
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toContain('Release 3.1.0 added');
    expect(existsSync(join(dir, 'hub-data', 'releases', '3.1.0.bundle'))).toBe(true);
  }, 180_000);
});
