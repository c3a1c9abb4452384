/**
 * The trust tier, the school's side: what the hub shares with its trust's shared InfluxDB (hub/trust/trust-share.ts)
 * and how its policy differs from the trust's baseline. Without `trust` in the hub config nothing is shared and the
 * baseline answer says none is configured.
 */
import { readFileSync } from 'node:fs';
import { trustRoutes } from '../http/routes/trust-routes.js';
import { createInfluxStore } from '../store/influx-store.js';
import type { MetricsStore } from '../store/metrics-store.js';
import { TrustShare, type TrustShareDeps } from '../trust/trust-share.js';
import type { HubCore } from './core.js';
import type { Feature } from './feature.js';
import type { PolicyTrustHooks } from './policy.js';

export interface TrustFeature extends Feature {
  /** Null when the hub shares nothing with a trust. */
  share: TrustShare | null;
  /** What the policy feature hooks in: the compliance mirror and school changes. */
  hooks: PolicyTrustHooks;
}

/** The shared store, with this school's own account on it (a write-only one where the store has them). */
function sharedStore(core: HubCore, store: NonNullable<HubCore['config']['trust']>['store']): MetricsStore {
  const password = store.passwordFile ? readFileSync(store.passwordFile, 'utf8').trim() : undefined;
  return createInfluxStore({
    url: store.url,
    database: store.database,
    ...(store.username ? { username: store.username } : {}),
    ...(password ? { password } : {}),
    log: core.log.child({ part: 'trust-store' }),
  });
}

export function trustFeature(
  core: HubCore,
  options: Pick<TrustShareDeps, 'outbox' | 'devicesEveryMs'> = {},
): TrustFeature {
  const config = core.config.trust;
  const share = config
    ? new TrustShare({
        config,
        school: core.school,
        hubVersion: core.hubVersion,
        expectedSoftware: core.config.expectedDeviceSoftware,
        db: core.db,
        bus: core.bus,
        grid: core.grid,
        incidents: core.incidents,
        store: sharedStore(core, config.store),
        rejects: core.rejects,
        log: core.log.child({ part: 'trust' }),
        now: core.now,
        ...options,
      })
    : null;
  return {
    name: 'trust',
    share,
    hooks: share
      ? {
          complianceMirror: share.complianceMirror,
          schoolChanged: () => share.schoolChanged(),
          // Per shared store: a hub moved to another trust store sends its term there too.
          termSentMarker: `trust/term-sent/${config?.store.url}/${config?.store.database}`,
        }
      : {},
    extensions: share ? [share] : [],
    routes: [
      trustRoutes({ baseline: () => share?.baselineState() ?? { configured: false, differences: [] } }),
    ],
  };
}
