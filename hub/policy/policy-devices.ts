/**
 * The devices the policy drives: the school model's inventory, overridden by the registry (a device provisioned or
 * moved on the dashboard counts at once). Pending and revoked devices get no commands (S4).
 */
import type { SchoolModel } from '../../schemas/config.js';
import type { DeviceAddress } from '../../schemas/topics.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { PolicyDevice } from './policy-engine.js';

export type DrivenDevice = PolicyDevice & { address: DeviceAddress };

export async function listPolicyDevices(
  school: SchoolModel,
  registry: DeviceRegistry,
): Promise<DrivenDevice[]> {
  const byId = new Map<string, PolicyDevice>(
    school.devices.map((d) => [d.id, { id: d.id, room: d.room, lockerMode: d.lockerMode }]),
  );
  for (const r of await registry.list()) {
    if (r.site !== school.site) continue;
    if (r.status === 'approved') byId.set(r.id, { id: r.id, room: r.room, lockerMode: r.lockerMode });
    else byId.delete(r.id);
  }
  return [...byId.values()].map((d) => ({
    ...d,
    address: { site: school.site, room: d.room, device: d.id },
  }));
}
