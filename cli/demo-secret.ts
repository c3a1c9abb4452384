/** The demo's generated secrets and passwords, each kept in a 0600 file so a restarted demo reuses it. */
import { existsSync, readFileSync } from 'node:fs';
import { generateSecret } from '../hub/devices/password-hash.js';
import { writeFileDurably } from '../shared/durable-file.js';

/**
 * Generated once, reused on later runs so devices and accounts keep working; `created` on the first. Synced before
 * it is used (an account or a device is made with it next), so a power cut cannot leave a secret in use but not kept.
 */
export function persistentSecret(file: string): { secret: string; created: boolean } {
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), created: false };
  const secret = generateSecret();
  writeFileDurably(file, `${secret}\n`, 0o600);
  return { secret, created: true };
}
