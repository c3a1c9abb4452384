/**
 * The devices the policy drives: the school model's inventory, overridden by the registry (a device provisioned or
 * moved on the dashboard counts at once). Pending and revoked devices get no commands (S4).
 */
import type { SchoolModel } from '../../schemas/config.js';
import type { DeviceAddress } from '../../schemas/topics.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { PolicyDevice } from './policy-engine.js';

export type DrivenDevice = PolicyDevice & { address: DeviceAddress };

type RegistryEntry = {
  id: string;
  site: string;
  room: string;
  status: string;
  lockerMode: PolicyDevice['lockerMode'];
};

/**
 * The one rule: a registry record on this site decides (approved: driven, in its room; otherwise not driven); without
 * one, the school model's inventory entry does.
 */
function driven(
  school: SchoolModel,
  id: string,
  record: RegistryEntry | undefined,
): DrivenDevice | undefined {
  const own = record?.site === school.site ? undefined : school.devices.find((d) => d.id === id);
  const source = record?.site === school.site ? (record.status === 'approved' ? record : undefined) : own;
  return (
    source && {
      id,
      room: source.room,
      lockerMode: source.lockerMode,
      address: { site: school.site, room: source.room, device: id },
    }
  );
}

export async function listPolicyDevices(
  school: SchoolModel,
  registry: DeviceRegistry,
): Promise<DrivenDevice[]> {
  const records = new Map((await registry.list()).map((r) => [r.id, r]));
  const ids = new Set([...school.devices.map((d) => d.id), ...records.keys()]);
  return [...ids].flatMap((id) => driven(school, id, records.get(id)) ?? []);
}

/** One device as listPolicyDevices gives it, with one registry read instead of a scan: for per-device refreshes. */
export async function findPolicyDevice(
  school: SchoolModel,
  registry: DeviceRegistry,
  id: string,
): Promise<DrivenDevice | undefined> {
  return driven(school, id, await registry.get(id));
}
