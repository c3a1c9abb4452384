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

/** One device as listPolicyDevices would give it (one registry read, not a scan): for per-device refreshes. */
export async function findPolicyDevice(
  school: SchoolModel,
  registry: DeviceRegistry,
  id: string,
): Promise<DrivenDevice | undefined> {
  const record = await registry.get(id);
  let device: PolicyDevice | undefined;
  if (record?.site === school.site) {
    device =
      record.status === 'approved' ? { id, room: record.room, lockerMode: record.lockerMode } : undefined;
  } else {
    const own = school.devices.find((d) => d.id === id);
    device = own ? { id, room: own.room, lockerMode: own.lockerMode } : undefined;
  }
  return device && { ...device, address: { site: school.site, room: device.room, device: id } };
}
