/**
 * The sealing key's own file: 32 random bytes as hex, mode 0600, outside the LevelDB directory and left out of
 * backups, so neither a copy of the database nor a backup archive carries it. Created on first start; when sealed
 * secrets already exist and the file is missing, the hub refuses to start rather than make a key that opens nothing.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { KEY_BYTES, SecretBox, SecretsError } from './secret-box.js';

export const DEFAULT_KEY_FILE = 'secrets.key';

export interface KeyFileResult {
  box: SecretBox;
  created: boolean;
  /** The file was group/other-readable and has been set to 0600. */
  tightened: boolean;
}

export function loadOrCreateKey(path: string, options: { sealedSecretsExist: boolean }): KeyFileResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (options.sealedSecretsExist)
      throw new SecretsError(
        'E_SECRETS_KEY_MISSING',
        `the secrets key file ${path} is missing but the database holds sealed TOTP secrets. Put back the key ` +
          'file you keep apart from your backups, or (hub stopped) reset each enrolled account with ' +
          '`phones-away user reset-totp <username>` so staff enrol their second factor again.',
      );
    return { box: new SecretBox(createKeyFile(path)), created: true, tightened: false };
  }
  const key = Buffer.from(text.trim(), 'hex');
  if (key.length !== KEY_BYTES || !/^[0-9a-f]+$/i.test(text.trim()))
    throw new SecretsError('E_SECRETS_KEY', `${path} does not hold a ${KEY_BYTES}-byte hex key`);
  const mode = statSync(path).mode & 0o777;
  const tightened = (mode & 0o077) !== 0;
  if (tightened) chmodSync(path, 0o600);
  return { box: new SecretBox(key), created: false, tightened };
}

function createKeyFile(path: string): Buffer {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  // 'wx': never overwrite a key that appeared meanwhile; mode applies whatever the umask allows, then chmod makes sure.
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o600);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return key;
}
