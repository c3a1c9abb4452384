/**
 * Seals small secrets (staff TOTP secrets) with AES-256-GCM under a key kept outside the database (key-file.ts), so a
 * copied database or backup holds only ciphertext. Each value is bound to what it is for (`context`, e.g.
 * `totp:alice`): a sealed value moved to another user's record does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HubError } from '../errors.js';

export class SecretsError extends HubError {}

const PREFIX = 'aes256gcm.v1';
export const KEY_BYTES = 32;

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES)
      throw new SecretsError('E_SECRETS_KEY', `the key must be ${KEY_BYTES} bytes`);
  }

  static isSealed(value: string): boolean {
    return value.startsWith(`${PREFIX}.`);
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [PREFIX, iv.toString('base64url'), body.toString('base64url'), tag.toString('base64url')].join(
      '.',
    );
  }

  open(sealed: string, context: string): string {
    const parts = sealed.split('.');
    const [iv, body, tag] = parts.slice(2).map((p) => Buffer.from(p, 'base64url'));
    if (!SecretBox.isSealed(sealed) || parts.length !== 5 || !iv || !body || !tag)
      throw new SecretsError('E_SECRETS_FORMAT', `not a sealed value (${context})`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretsError(
        'E_SECRETS_OPEN',
        `cannot open the sealed secret for ${context}: wrong key file, or the value was altered`,
      );
    }
  }
}
