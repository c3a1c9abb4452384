/** Evidence for governors and inspectors (D5, R5): incident figures over a period, with their routes. */
import { evidenceRoutes } from '../http/routes/evidence-routes.js';
import type { HubCore } from './core.js';
import type { Feature } from './feature.js';

export function evidenceFeature(core: HubCore): Feature {
  return {
    name: 'evidence',
    extensions: [],
    routes: [evidenceRoutes({ incidents: core.incidents, timeZone: core.school.timetable.timezone })],
  };
}
