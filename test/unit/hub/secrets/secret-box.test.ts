/** S3: sealed TOTP secrets open only with their key and for the record they were sealed for. */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateKey } from '../../../../hub/secrets/key-file.js';
import { SecretBox } from '../../../../hub/secrets/secret-box.js';

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
