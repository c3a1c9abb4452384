/**
 * Secrets the hub config names by file (the webhook signing secret, SMTP and InfluxDB passwords (the hub's own and the trust's shared store), monitor secrets,
 * the metrics token) are never copied into the database or a backup; what remains is that the files themselves are
 * private. This lists those readable by group or others, so the hub can say so at start.
 */
import { statSync } from 'node:fs';
import type { HubConfig } from '../../schemas/config.js';

export function secretFilesOf(config: HubConfig): string[] {
  return [
    config.notifications?.webhook?.secretFile,
    config.notifications?.email?.passwordFile,
    config.influx.passwordFile,
    config.trust?.store.passwordFile,
    config.metrics?.credentialsFile,
    ...(config.monitors ?? []).map((m) => m.passwordFile),
  ].filter((f): f is string => f !== undefined);
}

/** `path (mode)` for each existing file whose mode lets group or others read it. */
export function looseSecretFiles(files: readonly string[]): string[] {
  const loose: string[] = [];
  for (const file of files) {
    try {
      const mode = statSync(file).mode & 0o777;
      if ((mode & 0o077) !== 0) loose.push(`${file} (${mode.toString(8).padStart(4, '0')})`);
    } catch {
      // A missing file is reported where it is read.
    }
  }
  return loose;
}
