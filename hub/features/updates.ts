/** Fleet updates: signed releases (verified against the configured keys) and staged roll-outs, with their routes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { updateRoutes } from '../http/routes/update-routes.js';
import { FleetUpdates } from '../updates/fleet-updates.js';
import { ReleaseStore } from '../updates/release-store.js';
import type { HubCore } from './core.js';
import type { Feature } from './feature.js';

export interface UpdatesFeature extends Feature {
  releases: ReleaseStore;
  fleet: FleetUpdates;
}

export function updatesFeature(core: HubCore): UpdatesFeature {
  const { config, db, audit, bus, registry, now, log, rejects } = core;
  const releases = new ReleaseStore({
    db,
    audit,
    dir: join(config.dataDir, 'releases'),
    publicKeys: (config.updates?.publicKeys ?? []).map((file) => readFileSync(file, 'utf8')),
    now,
  });
  const fleet = new FleetUpdates({
    db,
    audit,
    bus,
    registry,
    releases,
    publish: (topic, payload, opts) => core.publish(topic, payload, opts),
    now,
    log: log.child({ part: 'updates' }),
    maxRollbacks: config.updates?.maxRollbacks ?? 1,
  });
  return {
    name: 'updates',
    releases,
    fleet,
    extensions: [fleet],
    routes: [updateRoutes({ releases, updates: fleet, registry, rejected: (r) => rejects.add(r) })],
  };
}
