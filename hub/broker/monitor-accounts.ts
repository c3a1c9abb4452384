/**
 * Read-only MQTT accounts for systems that watch a site (S5): a building-management or monitoring system subscribes
 * to `phones-away/v1/<site>/#` and publishes nothing (access-policy.ts). Configured in the hub config (`monitors`),
 * each with a secret in its own file, read at start. Checked before the device registry, so a monitor's name cannot
 * be taken over by a device of the same id.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { Principal } from './access-policy.js';

/** Shorter secrets are refused at start: a monitor account is a network credential like a device's. */
export const MIN_MONITOR_SECRET_LENGTH = 16;

export interface MonitorAccount {
  username: string;
  passwordFile: string;
}

const digest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

export class MonitorAccounts {
  private readonly secrets = new Map<string, Buffer>();

  /** Reads every secret file; throws ConfigError naming each account whose file is missing or too short. */
  constructor(
    accounts: readonly MonitorAccount[],
    private readonly site: string,
    read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
  ) {
    const problems: string[] = [];
    for (const [i, { username, passwordFile }] of accounts.entries()) {
      let secret = '';
      try {
        secret = read(passwordFile).trim();
      } catch (error) {
        problems.push(
          `monitors/${i}/passwordFile: cannot read ${passwordFile} (${(error as Error).message})`,
        );
        continue;
      }
      if (secret.length < MIN_MONITOR_SECRET_LENGTH)
        problems.push(
          `monitors/${i}/passwordFile: secret shorter than ${MIN_MONITOR_SECRET_LENGTH} characters`,
        );
      else if (this.secrets.has(username))
        problems.push(`monitors/${i}/username: '${username}' appears twice`);
      else this.secrets.set(username, digest(secret));
    }
    if (problems.length) throw new ConfigError('hub config', problems);
  }

  has(username: string): boolean {
    return this.secrets.has(username);
  }

  /** The monitor's principal when the secret is right, else null. Constant-time comparison of the digests. */
  authenticate(username: string, secret: string): Principal | null {
    const expected = this.secrets.get(username);
    if (!expected || !timingSafeEqual(expected, digest(secret))) return null;
    return { kind: 'service', id: username, role: 'monitor', site: this.site };
  }
}
