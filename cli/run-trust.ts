/** `phones-away trust`: loads and validates trust.json, starts the trust's read-only dashboard, stops on a signal. */
import { resolve } from 'node:path';
import { loadConfigFile } from '../hub/config-file.js';
import { startTrust } from '../trust/main.js';
import { announceFirstRun } from './first-run-notice.js';
import { waitForSignal } from './run-hub.js';

export async function runTrust(configPath: string): Promise<void> {
  const stopRequested = waitForSignal();
  const config = loadConfigFile(configPath, 'trust-config');
  const trust = await startTrust(config, {
    deliverFirstRunPassword: (account) =>
      void announceFirstRun(account, { dataDir: resolve(config.dataDir), out: process.stdout }),
  });
  console.log(
    `Trust dashboard: ${trust.url}   (reads ${config.store.url}, database ${config.store.database})`,
  );
  await stopRequested;
  await trust.stop();
}
