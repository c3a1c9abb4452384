/**
 * A feature of the hub, as zigbee2mqtt's lib/extension/* are: its domain objects (started in this order, stopped in
 * reverse) paired with the HTTP routes that expose them. Domain modules know nothing of HTTP; this folder and
 * hub/main.ts are the composition root, the only place outside hub/http/ that imports it.
 */
import type { HubExtension } from '../extension.js';
import type { RouteModule } from '../http/http-server.js';

export interface Feature {
  readonly name: string;
  readonly extensions: readonly HubExtension[];
  readonly routes: readonly RouteModule[];
}

/** Something started with the hub and stopped with it that needs no class of its own. */
export function lifecycle(name: string, start: () => Promise<void>): HubExtension {
  return { name, start, stop: async () => {} };
}
