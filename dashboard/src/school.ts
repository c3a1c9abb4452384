/**
 * The school model as the hub serves it (GET /api/policy: timetable, zones, rooms, policy, what is in force now) with
 * the lookups every page needs: a room's or zone's name from its id, falling back to the id while loading.
 */

import { type Resource, useResource } from './resource.js';
import type { PolicyView } from './types.js';

export interface School extends Resource<PolicyView> {
  policy: PolicyView | null;
  roomName: (roomId: string) => string;
  zoneName: (zoneId: string) => string;
  /** The name of the zone a room belongs to; '–' when the room is unknown. */
  roomZoneName: (roomId: string) => string;
}

/** `enabled` false loads nothing (a role without 'policy:read'). */
export function useSchool(enabled = true): School {
  const resource = useResource<PolicyView>(enabled ? '/api/policy' : null);
  const policy = resource.data;
  const roomName = (id: string) => policy?.rooms.find((r) => r.id === id)?.name ?? id;
  const zoneName = (id: string) => policy?.zones.find((z) => z.id === id)?.name ?? id;
  const roomZoneName = (id: string) => {
    const zone = policy?.rooms.find((r) => r.id === id)?.zone;
    return zone === undefined ? '–' : zoneName(zone);
  };
  return { ...resource, policy, roomName, zoneName, roomZoneName };
}
