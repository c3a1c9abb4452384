/**
 * D3: restore from a crafted archive. Each archive is built with the system tar the way an attacker would (members
 * with `../` and absolute names, a symlink with a file written "through" it, a manifest naming paths outside the data
 * directory, a database name made to break out of InfluxQL) and handed to the real `phones-away restore` on a real,
 * stopped hub's data directory. Each must be refused with a clear error, the data directory byte-for-byte and
 * mode-for-mode unchanged, and nothing written outside it. A benign archive from the same builder restores, so the
 * refusals are for the hostile part and not a broken fixture.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../../../cli/backup.js';
import { startTestHub } from '../../../support/hub-fixture.js';

/** Every path under root with its type, mode and content (or link target) hashed: any change shows. */
function treeHash(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      hash.update(`${rel}/${name}\0${stat.mode}\0`);
      if (stat.isSymbolicLink()) hash.update(readlinkSync(path));
      else if (stat.isDirectory()) walk(path, `${rel}/${name}`);
      else hash.update(readFileSync(path));
    }
  };
  walk(root, '');
  return hash.digest('hex');
}

const manifest = (overrides: Record<string, unknown> = {}) => ({
  format: 1,
  createdAt: new Date().toISOString(),
  database: 'phones-away',
  dataDirEntries: ['hub-db'],
  influx: 'none',
  configFiles: [],
  ...overrides,
});

describe('restore from a crafted archive (D3)', () => {
  const work = mkdtempSync(join(tmpdir(), 'pa-crafted-'));
  /** Where an escaping restore would write: beside the data directory, and an absolute path elsewhere. */
  const outside = join(work, 'outside');
  const victim = join(work, 'victim.txt');
  let dataDir = '';
  let hubDbCopy = '';
  let before = '';
  let outsideBefore = '';

  beforeAll(async () => {
    const fixture = await startTestHub({ dataDir: join(work, 'hub', 'data') });
    dataDir = fixture.dataDir;
    await fixture.hub.users.add('coord', 'tulip lantern orbit 42', ['coordinator'], Date.now());
    await fixture.stop();
    hubDbCopy = join(work, 'hub-db-copy');
    cpSync(join(dataDir, 'hub-db'), hubDbCopy, { recursive: true });
    mkdirSync(outside);
    writeFileSync(victim, 'original\n');
    before = treeHash(dataDir);
    outsideBefore = treeHash(outside);
  }, 60_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  let n = 0;
  /** A staging directory with a manifest and data/hub-db, changed by `shape`, then tarred by `pack`. */
  function craft(
    shape: (staging: string) => void,
    pack: (staging: string, archive: string) => void = (staging, archive) =>
      execFileSync('tar', ['-czf', archive, '-C', staging, ...readdirSync(staging)]),
  ): string {
    n += 1;
    const staging = join(work, `staging-${n}`);
    mkdirSync(join(staging, 'data'), { recursive: true });
    cpSync(hubDbCopy, join(staging, 'data', 'hub-db'), { recursive: true });
    writeFileSync(join(staging, 'manifest.json'), JSON.stringify(manifest()));
    shape(staging);
    const archive = join(work, `crafted-${n}.tar.gz`);
    pack(staging, archive);
    return archive;
  }

  async function expectRefused(archive: string, code: string, reason: RegExp) {
    const lines: string[] = [];
    const error = await runBackup('restore', ['--data-dir', dataDir, '--from', archive], (l) =>
      lines.push(l),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code });
    expect(String((error as Error).message)).toMatch(reason);
    expect(lines.join('\n')).not.toMatch(/replacing hub data/);
    expect(treeHash(dataDir)).toBe(before);
    expect(treeHash(outside)).toBe(outsideBefore);
    expect(readFileSync(victim, 'utf8')).toBe('original\n');
    expect(existsSync(join(work, 'hub', 'data-escaped'))).toBe(false);
  }

  it('D3: a member named ../ is refused before extraction', async () => {
    const name = `pa-escaped-${process.pid}-${Date.now()}.txt`;
    const archive = craft(
      (staging) => writeFileSync(join(staging, '..', name), 'hostile\n'),
      // -P keeps the `../` in the member name, as a hand-made archive would.
      (staging, out) =>
        execFileSync('tar', ['-czPf', out, 'manifest.json', 'data', `../${name}`], { cwd: staging }),
    );
    await expectRefused(archive, 'E_BACKUP_UNSAFE', /contains \.\./);
    // Extraction happens in a directory under tmpdir(): its parent is where the member would have landed.
    expect(existsSync(join(tmpdir(), name))).toBe(false);
  });

  it('D3: a member with an absolute path is refused', async () => {
    writeFileSync(victim, 'hostile\n');
    const archive = craft(
      () => {},
      (staging, out) =>
        execFileSync('tar', ['-czPf', out, 'manifest.json', 'data', victim], { cwd: staging }),
    );
    writeFileSync(victim, 'original\n');
    await expectRefused(archive, 'E_BACKUP_UNSAFE', /absolute path/);
  });

  it('D3: a symlink out of the archive, with a file written through it, is refused', async () => {
    // Two members with one name: first a symlink data/hub-db → outside, then a file data/hub-db/CURRENT "inside" it.
    const archive = craft(
      () => {},
      (staging, out) => {
        const linkDir = join(work, `link-${n}`);
        mkdirSync(join(linkDir, 'data'), { recursive: true });
        symlinkSync(outside, join(linkDir, 'data', 'hub-db'));
        const tarFile = out.replace(/\.gz$/, '');
        execFileSync('tar', ['-cf', tarFile, '-C', linkDir, 'data/hub-db']);
        execFileSync('tar', ['-rf', tarFile, '-C', staging, 'manifest.json', 'data/hub-db/CURRENT']);
        execFileSync('gzip', [tarFile]);
      },
    );
    await expectRefused(archive, 'E_BACKUP_UNSAFE', /data\/hub-db: symbolic link/);
  });

  it('D3: a manifest naming entries outside the data directory is refused', async () => {
    for (const entries of [['../data-escaped'], ['/etc'], ['hub-db/../../data-escaped'], ['.']]) {
      const archive = craft((staging) =>
        writeFileSync(join(staging, 'manifest.json'), JSON.stringify(manifest({ dataDirEntries: entries }))),
      );
      await expectRefused(archive, 'E_BACKUP_FORMAT', /dataDirEntries\/0: must match pattern/);
    }
  });

  it('D3: a manifest whose database name would break out of DROP DATABASE is refused', async () => {
    const archive = craft((staging) => {
      mkdirSync(join(staging, 'influx'));
      writeFileSync(join(staging, 'influx', 'meta'), '');
      writeFileSync(
        join(staging, 'manifest.json'),
        JSON.stringify(
          manifest({ influx: 'portable', database: 'phones-away"; DROP DATABASE "other-school' }),
        ),
      );
    });
    await expectRefused(archive, 'E_BACKUP_FORMAT', /\/database: must match pattern/);
  });

  it('D3: a manifest with unknown fields, or naming what the archive lacks, is refused', async () => {
    const extra = craft((staging) =>
      writeFileSync(join(staging, 'manifest.json'), JSON.stringify(manifest({ run: 'rm -rf /' }))),
    );
    await expectRefused(extra, 'E_BACKUP_FORMAT', /must NOT have additional properties 'run'/);
    const lacking = craft((staging) =>
      writeFileSync(join(staging, 'manifest.json'), JSON.stringify(manifest({ dataDirEntries: ['broker'] }))),
    );
    await expectRefused(lacking, 'E_BACKUP_FORMAT', /lacks: data\/broker/);
  });

  it('D3: the same builder with nothing hostile restores (control)', async () => {
    const archive = craft(() => {});
    const lines: string[] = [];
    await runBackup('restore', ['--data-dir', dataDir, '--from', archive], (l) => lines.push(l));
    expect(lines.at(-1)).toBe('restore: done');
    expect(readdirSync(dataDir)).toEqual(['hub-db']);
    expect(treeHash(join(dataDir, 'hub-db'))).not.toBe('');
    expect(readFileSync(join(dataDir, 'hub-db', 'CURRENT'), 'utf8')).toBe(
      readFileSync(join(hubDbCopy, 'CURRENT'), 'utf8'),
    );
  });
});
