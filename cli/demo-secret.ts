/** The demo's generated secrets and passwords, each kept in a 0600 file so a restarted demo reuses it. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { generateSecret } from '../hub/devices/password-hash.js';

/** Generated once, reused on later runs so devices and accounts keep working; `created` on the first. */
export function persistentSecret(file: string): { secret: string; created: boolean } {
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), created: false };
  const secret = generateSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return { secret, created: true };
}
