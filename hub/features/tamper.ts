/**
 * Device trouble the coordinator must hear of (R7): a locker that drops while locked with phones inside, and a
 * device whose storage fails. No routes of its own: both show on the live grid and go out as notices.
 */
import { StorageFaults } from '../devices/storage-faults.js';
import { TamperSuspectWatch } from '../tamper/tamper-suspect.js';
import type { HubCore } from './core.js';
import type { Feature } from './feature.js';
import type { PolicyFeature } from './policy.js';

export interface TamperFeature extends Feature {
  suspects: TamperSuspectWatch;
}

export function tamperFeature(core: HubCore, policy: PolicyFeature): TamperFeature {
  const { config, db, bus, log, now, notifier, grid, chain } = core;
  const suspects = new TamperSuspectWatch({
    db,
    bus,
    log: log.child({ part: 'tamper-suspect' }),
    now,
    expectedLocked: async (device, at) => (await policy.driver.directive(device, at))?.locked ?? false,
    chainConsistent: (device) => chain.consistent(device),
    ...(notifier ? { notify: (notice) => notifier.enqueue(notice) } : {}),
    show: (ref, text) => grid.setSuspect(ref, text),
    ...(config.notifications ? { dashboardUrl: config.notifications.dashboardUrl } : {}),
  });
  const storage = new StorageFaults({
    db,
    bus,
    notifier,
    dashboardUrl: config.notifications?.dashboardUrl ?? '',
    log: log.child({ part: 'devices' }),
    now,
  });
  return { name: 'tamper', suspects, extensions: [suspects, storage], routes: [] };
}
