/** Confiscated phones (P7): logged by slot, returned at the end of the day, the open count on the live grid. */
import { ConfiscationStore } from '../confiscations/confiscations.js';
import { confiscationRoutes } from '../http/routes/confiscation-routes.js';
import type { HubCore } from './core.js';
import { type Feature, lifecycle } from './feature.js';

export interface ConfiscationsFeature extends Feature {
  store: ConfiscationStore;
}

export function confiscationsFeature(core: HubCore): ConfiscationsFeature {
  const { db, audit, grid, registry, bus, log } = core;
  const store = new ConfiscationStore(db, audit);
  const showConfiscated = async (ref: { site: string; room: string; device: string }) => {
    const open = await store.list({ openOnly: true });
    grid.setConfiscated(ref, open.filter((o) => o.device === ref.device).length);
  };
  return {
    name: 'confiscations',
    store,
    extensions: [
      lifecycle('confiscations', async () => {
        const open = await store.list({ openOnly: true });
        for (const c of open) grid.setConfiscated(c, open.filter((o) => o.device === c.device).length);
      }),
    ],
    routes: [
      confiscationRoutes({
        store,
        registry,
        // The locker reports its slot count in its retained state; before it has, allow the schema's maximum.
        slotsOf: (id) => grid.all().find((v) => v.device === id)?.locker?.slots ?? 16,
        bus,
        changed: (c) => {
          showConfiscated(c).catch((error) => log.warn({ err: error }, 'could not update the grid'));
        },
      }),
    ],
  };
}
