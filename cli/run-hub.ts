/** `phones-away hub`: loads and validates the configuration, starts the hub, stops cleanly on SIGTERM/SIGINT. */
import { dirname, resolve } from 'node:path';
import { loadConfigFile } from '../hub/config-file.js';
import { startHub } from '../hub/main.js';
import { announceFirstRun } from './first-run-notice.js';

export async function runHub(configPath: string): Promise<void> {
  const stopRequested = waitForSignal();
  const config = loadConfigFile(configPath, 'hub-config');
  const schoolFile = resolve(dirname(configPath), config.school);
  const school = loadConfigFile(schoolFile, 'school-model');
  // D3: the daily backup carries the configuration files with the data.
  const hub = await startHub({
    config,
    school,
    schoolFile,
    configFiles: [resolve(configPath), schoolFile],
    deliverFirstRunPassword: (account) =>
      void announceFirstRun(account, { dataDir: resolve(config.dataDir), out: process.stdout }),
  });
  console.log(`Dashboard: ${hub.httpUrl}   MQTT: port ${hub.mqttPort}`);
  await stopRequested;
  await hub.stop();
}

/**
 * Resolves at the first SIGINT or SIGTERM. Call it before starting anything: a signal that arrives before its
 * listener takes the default action and ends the process at once, with no cleanup (a demo stopped right after it
 * printed 'Press Ctrl+C to stop.' died that way, so the listener was added only after the line it announces).
 */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
