/**
 * S3 data at rest. A hub started under Debian's umask 022, on a data directory an older version left world-readable,
 * leaves every directory 0700 and every file 0600 (LevelDB, broker persistence, influxd, the key file). A staff
 * member's TOTP secret, enrolled through the real sign-in, is nowhere in the data directory's bytes nor in a backup
 * archive, yet still opens after a restart. A secret an older version stored in clear is sealed at start and its old
 * bytes compacted away. A database with sealed secrets and no key file is refused with a clear error.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../../cli/backup.js';
import { HubDb } from '../../../hub/db/hub-db.js';
import { type HubFixture, provisionAndConnect, repoRoot, startTestHub } from '../../support/hub-fixture.js';
import { data, StaffClient } from '../../support/staff-client.js';

const PASSWORD = 'tulip lantern orbit 42';

/** Every path under root whose mode is not 0700 (directories) or 0600 (files). */
function looseModes(root: string): string[] {
  const loose: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      const mode = stat.mode & 0o777;
      if (stat.isDirectory()) {
        if (mode !== 0o700) loose.push(`${path} ${mode.toString(8)}`);
        walk(path);
      } else if (stat.isFile() && mode !== 0o600) loose.push(`${path} ${mode.toString(8)}`);
    }
  };
  walk(root);
  return loose;
}

/** Files under root whose bytes contain needle. */
function filesContaining(root: string, needle: string): string[] {
  const hits: string[] = [];
  const bytes = Buffer.from(needle);
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && readFileSync(path).includes(bytes)) hits.push(path);
    }
  };
  walk(root);
  return hits;
}

describe('data at rest (S3)', () => {
  const work = mkdtempSync(join(tmpdir(), 'pa-at-rest-'));
  const dataDir = join(work, 'data');
  let fixture: HubFixture | undefined;
  let secret = '';

  afterAll(async () => {
    await fixture?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('S3: under umask 022 every directory is 0700 and every file 0600; the TOTP secret is sealed', async () => {
    const previous = process.umask(0o022);
    try {
      // What an older version left behind: a world-readable directory and file.
      mkdirSync(join(dataDir, 'devices'), { recursive: true, mode: 0o755 });
      writeFileSync(join(dataDir, 'devices', 'state.json'), '{}\n', { mode: 0o644 });
      chmodSync(dataDir, 0o755);
      fixture = await startTestHub({ dataDir });
      const { hub } = fixture;
      // Broker persistence and the outbox get written: a device connects and publishes retained state.
      const client = await provisionAndConnect(
        hub,
        { site: 'demo-school', room: 'room-1', device: 'room-1-locker' },
        'a-device-secret-of-enough-length',
      );
      await client.endAsync();
      await hub.users.add('coord', PASSWORD, ['coordinator'], Date.now());
      const staff = new StaffClient(hub.httpUrl, 'coord', PASSWORD);
      data(await staff.signIn());
      secret = staff.totpSecret ?? '';
      expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
      expect((await hub.users.list()).find((u) => u.username === 'coord')?.totpEnrolled).toBe(true);
      await fixture.stop();

      expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(['hub-db', 'influxdb', 'secrets.key']));
      expect(looseModes(dataDir)).toEqual([]);
      expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
      // A copied data directory does not hold the second factor in clear.
      expect(filesContaining(dataDir, secret)).toEqual([]);

      // Nor does a backup, which also leaves the key out and is itself 0600.
      const archive = join(work, 'backup.tar.gz');
      await runBackup('backup', ['--data-dir', dataDir, '--out', archive], () => {});
      expect(lstatSync(archive).mode & 0o777).toBe(0o600);
      const members = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).split('\n');
      expect(members.some((m) => m.includes('hub-db/'))).toBe(true);
      expect(members.some((m) => m.includes('secrets.key'))).toBe(false);
      const unpacked = join(work, 'unpacked');
      mkdirSync(unpacked);
      execFileSync('tar', ['-xzf', archive, '-C', unpacked]);
      expect(filesContaining(unpacked, secret)).toEqual([]);

      // With its key file the hub still opens the sealed secret: the same authenticator signs in again.
      fixture = await startTestHub({ dataDir });
      const again = new StaffClient(fixture.hub.httpUrl, 'coord', PASSWORD);
      again.totpSecret = secret;
      expect((await again.signIn(Date.now() + 30_000)).status).toBe(200);
      await fixture.stop();
    } finally {
      process.umask(previous);
    }
  });

  it('S3: a TOTP secret stored in clear by an older version is sealed at start and compacted off the disk', async () => {
    // Put the secret back in clear, as a version before sealing stored it.
    const db = await HubDb.open(join(dataDir, 'hub-db'));
    const stored = (await db.get<Record<string, unknown>>('users', 'coord')) ?? {};
    const { totpSealed: _sealed, ...plain } = stored;
    await db.put('users', 'coord', { ...plain, totpSecret: secret });
    await db.close();
    expect(filesContaining(dataDir, secret).length).toBeGreaterThan(0);

    fixture = await startTestHub({ dataDir });
    expect((await fixture.hub.users.get('coord'))?.totpSecret).toBe(secret);
    const actions = (await fixture.hub.audit.list({ limit: 50 })).map((e) => e.action);
    expect(actions).toContain('user.seal-totp');
    await fixture.stop();
    expect(filesContaining(dataDir, secret)).toEqual([]);
  });

  it('S3: sealed secrets without their key file: start refused with a clear error', async () => {
    renameSync(join(dataDir, 'secrets.key'), join(work, 'secrets.key.saved'));
    await expect(startTestHub({ dataDir })).rejects.toMatchObject({ code: 'E_SECRETS_KEY_MISSING' });
    renameSync(join(work, 'secrets.key.saved'), join(dataDir, 'secrets.key'));
  });

  it('S3: after a demo run under umask 022 every directory is 0700 and every file 0600', async () => {
    const demoDir = join(work, 'demo');
    // `phones-away demo` as a user runs it (npm run dev), from a shell whose umask is Debian's default.
    const child = spawn(
      'sh',
      ['-c', 'umask 022; exec "$@"', 'sh', process.execPath, '--import', 'tsx', 'cli/main.ts', 'demo'].concat(
        ['--data-dir', demoDir, '--http-port', '0'],
      ),
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stderr.on('data', (c) => {
      output += c;
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((ok) =>
      child.once('exit', (code, signal) => ok({ code, signal })),
    );
    await new Promise<void>((ok, fail) => {
      child.stdout.on('data', (c) => {
        output += c;
        if (output.includes('Press Ctrl+C to stop.')) ok();
      });
      exited.then(({ code, signal }) =>
        fail(new Error(`demo exited (${code ?? signal}) before it was up:\n${output}`)),
      );
    });
    // Ctrl+C right after the banner: the demo stops cleanly (a signal before its listener would kill it outright).
    child.kill('SIGINT');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(readdirSync(demoDir)).toEqual(expect.arrayContaining(['hub', 'devices', 'admin-password.txt']));
    expect(looseModes(demoDir)).toEqual([]);
    // A whole first start: influxd, four emulated classrooms and four weeks of demo history built before it is up.
  }, 300_000);
});
