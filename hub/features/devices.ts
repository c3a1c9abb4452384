/** Devices (S4, S8, R7): enrolment, approval, revocation and re-keying, the hash-chain checks, and their routes. */
import { deviceRoutes } from '../http/routes/device-routes.js';
import type { HubCore } from './core.js';
import type { Feature } from './feature.js';

export function devicesFeature(core: HubCore): Feature {
  return {
    name: 'devices',
    extensions: [core.chain],
    routes: [
      deviceRoutes(core.devices, {
        hubVersion: core.hubVersion,
        expected: core.config.expectedDeviceSoftware,
      }),
    ],
  };
}
