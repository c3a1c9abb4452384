/**
 * What the device's service runs (config/phones-away-device.service): `node <installDir>/current/dist/firmware/boot.js
 * <device.json>`. Before loading the device program it asks the boot guard whether a freshly installed version may
 * start; a version that crashes at start is restarted by systemd into this guard, which switches back after its
 * allowed starts. Kept small and light on imports so that it runs even when the program it guards does not.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { decideBoot, type PendingUpdate } from './updates/boot-guard.js';
import { layoutOf, updateState } from './updates/install-dir.js';
import { readSoftwareVersion } from './updates/software-version.js';
import { guardLimits, RESTART_EXIT_CODE, rollBackTo, type UpdatesConfig } from './updates/updater.js';

async function guard(configPath: string): Promise<{ proceed: boolean; trial: PendingUpdate | null }> {
  // Only what the guard needs, read without the device program's schema checks (those run in main.ts).
  const raw = JSON.parse(await readFile(configPath, 'utf8')) as { dataDir?: string; updates?: UpdatesConfig };
  if (!raw.updates || !raw.dataDir) return { proceed: true, trial: null };
  const base = dirname(resolve(configPath));
  const layout = layoutOf(resolve(base, raw.updates.installDir), resolve(base, raw.dataDir));
  const state = updateState(layout);
  const pending = await state.pending();
  const decision = decideBoot(pending, await readSoftwareVersion(), Date.now(), guardLimits(raw.updates));
  switch (decision.kind) {
    case 'run':
      if (decision.clearPending) await state.clearPending();
      return { proceed: true, trial: null };
    case 'trial':
      await state.setPending(decision.pending);
      return { proceed: true, trial: decision.pending };
    case 'roll-back':
      process.stderr.write(`phones-away: ${decision.reason}; switching back to ${pending?.from}\n`);
      if (pending) await rollBackTo(layout, pending, decision.reason);
      return { proceed: false, trial: null };
  }
}

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: boot.js <device-config.json>\n');
  process.exit(2);
}
guard(configPath)
  .then(async ({ proceed, trial }) => {
    if (!proceed) process.exit(RESTART_EXIT_CODE);
    const { runDevice } = await import('./main.js');
    await runDevice(configPath, { trial });
  })
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
