/** S3: sealed TOTP secrets open only with their key and for the record they were sealed for. */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateKey } from '../../../../hub/secrets/key-file.js';
import { SecretBox } from '../../../../hub/secrets/secret-box.js';
import { looseSecretFiles, secretFilesOf } from '../../../../hub/secrets/secret-files.js';

describe('SecretBox (S3)', () => {
  const box = new SecretBox(randomBytes(32));
  const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

  it('S3: round-trips, and the sealed text does not contain the secret', () => {
    const sealed = box.seal(secret, 'totp:alice');
    expect(SecretBox.isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain(secret);
    expect(box.open(sealed, 'totp:alice')).toBe(secret);
    expect(box.seal(secret, 'totp:alice')).not.toBe(sealed); // fresh IV each time
  });

  it('S3: refuses another key, another record, and an altered value', () => {
    const sealed = box.seal(secret, 'totp:alice');
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'totp:alice')).toThrow(
      expect.objectContaining({ code: 'E_SECRETS_OPEN' }),
    );
    expect(() => box.open(sealed, 'totp:mallory')).toThrow(
      expect.objectContaining({ code: 'E_SECRETS_OPEN' }),
    );
    const parts = sealed.split('.');
    parts[3] = Buffer.from('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').toString('base64url');
    expect(() => box.open(parts.join('.'), 'totp:alice')).toThrow(
      expect.objectContaining({ code: 'E_SECRETS_OPEN' }),
    );
    expect(() => box.open(secret, 'totp:alice')).toThrow(
      expect.objectContaining({ code: 'E_SECRETS_FORMAT' }),
    );
  });
});

describe('key file (S3)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('S3: created 0600 on first start, read back after, tightened when loose', () => {
    const path = join(dir, 'secrets.key');
    const first = loadOrCreateKey(path, { sealedSecretsExist: false });
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const sealed = first.box.seal('x', 'c');
    chmodSync(path, 0o644);
    const second = loadOrCreateKey(path, { sealedSecretsExist: true });
    expect(second).toMatchObject({ created: false, tightened: true });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(second.box.open(sealed, 'c')).toBe('x');
  });

  it('S3: a missing key file with sealed secrets in the database is an error, not a new key', () => {
    expect(() => loadOrCreateKey(join(dir, 'absent.key'), { sealedSecretsExist: true })).toThrow(
      expect.objectContaining({ code: 'E_SECRETS_KEY_MISSING' }),
    );
    writeFileSync(join(dir, 'short.key'), 'abcd\n');
    expect(() => loadOrCreateKey(join(dir, 'short.key'), { sealedSecretsExist: false })).toThrow(
      expect.objectContaining({ code: 'E_SECRETS_KEY' }),
    );
  });
});

describe('secret files named in the hub config (S3)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-secret-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('S3: the webhook secret, passwords and tokens readable by others are listed; private ones are not', () => {
    const hook = join(dir, 'webhook.secret');
    const token = join(dir, 'metrics.token');
    writeFileSync(hook, 'x', { mode: 0o644 });
    chmodSync(hook, 0o644);
    writeFileSync(token, 'y', { mode: 0o600 });
    const files = secretFilesOf({
      version: 1,
      site: 's',
      dataDir: dir,
      school: 'school.json',
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      influx: { mode: 'embedded', database: 'd' },
      logLevel: 'info',
      metrics: { credentialsFile: token },
      notifications: { dashboardUrl: 'https://hub/', webhook: { url: 'https://x/', secretFile: hook } },
    });
    expect(files.sort()).toEqual([token, hook].sort());
    expect(looseSecretFiles([...files, join(dir, 'absent')])).toEqual([`${hook} (0644)`]);
  });
});
