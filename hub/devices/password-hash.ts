/** scrypt password hashing (memory-hard, in node:crypto, so nothing native to build on a Pi). */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keylen: number;
}
const PARAMS: ScryptParams = { N: 16384, r: 8, p: 1, keylen: 32 };

function scryptAsync(secret: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      secret,
      salt,
      params.keylen,
      { N: params.N, r: params.r, p: params.p, maxmem: 64 * 1024 * 1024 },
      (e, key) => (e ? reject(e) : resolve(key)),
    ),
  );
}

/** Format: scrypt$N$r$p$salt$hash (base64url), so parameters can be raised later without breaking old hashes. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

/**
 * Device secrets are machine-generated (at least 128 random bits), so a salted SHA-256 resists guessing as well as a
 * memory-hard KDF would, and checks in microseconds: thousands of devices reconnecting after a hub restart must not
 * queue up behind one scrypt each. People's passwords keep scrypt (hashSecret).
 * Format: sha256$salt$hash (base64url).
 */
export function hashDeviceSecret(secret: string): string {
  const salt = randomBytes(16);
  const hash = createHash('sha256').update(salt).update(secret).digest();
  return ['sha256', salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  if (encoded.startsWith('sha256$')) {
    const [, salt, hash] = encoded.split('$');
    if (!salt || !hash) return false;
    const expected = Buffer.from(hash, 'base64url');
    const actual = createHash('sha256').update(Buffer.from(salt, 'base64url')).update(secret).digest();
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
  const [scheme, n, r, p, salt, hash] = encoded.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(secret, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    keylen: expected.length,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A random secret for devices and first-run accounts: 24 bytes, base64url, never a default baked into code. */
export function generateSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
