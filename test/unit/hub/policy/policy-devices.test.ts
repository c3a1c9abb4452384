/**
 * Which devices the policy drives (S4): the registry overrides the school model's inventory on this site, pending and
 * revoked devices get nothing, records of another site are ignored. The per-device lookup agrees with the list.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceRegistry } from '../../../../hub/devices/device-registry.js';
import { findPolicyDevice, listPolicyDevices } from '../../../../hub/policy/policy-devices.js';
import { demoSchool } from '../../../support/hub-fixture.js';

const school = demoSchool();
const [first, second, third] = school.devices;
const record = (id: string, room: string, status: string, site = school.site) => ({
  id,
  site,
  room,
  status,
  lockerMode: 'lesson' as const,
  createdAt: 0,
});
const records = [
  record(first?.id ?? '', 'room-9', 'approved'), // moved on the dashboard
  record(second?.id ?? '', second?.room ?? '', 'revoked'),
  record(third?.id ?? '', 'room-7', 'approved', 'other-school'), // another site: ignored
  record('new-locker', 'room-3', 'approved'),
  record('waiting-locker', 'room-3', 'pending'),
];
// A fake registry is enough here: this is the pure override rule, not storage.
const registry = {
  list: async () => records,
  get: async (id: string) => records.find((r) => r.id === id),
} as unknown as DeviceRegistry;

describe('policy devices', () => {
  it('S4: registry overrides the inventory; pending, revoked and foreign records drive nothing extra', async () => {
    const devices = await listPolicyDevices(school, registry);
    const byId = new Map(devices.map((d) => [d.id, d]));
    expect(byId.get(first?.id ?? '')?.room).toBe('room-9');
    expect(byId.has(second?.id ?? '')).toBe(false);
    expect(byId.get(third?.id ?? '')?.room).toBe(third?.room);
    expect(byId.get('new-locker')?.address).toEqual({
      site: school.site,
      room: 'room-3',
      device: 'new-locker',
    });
    expect(byId.has('waiting-locker')).toBe(false);
  });

  it('findPolicyDevice gives exactly what listPolicyDevices gives, device by device', async () => {
    const listed = await listPolicyDevices(school, registry);
    const ids = [...school.devices.map((d) => d.id), ...records.map((r) => r.id), 'unknown-locker'];
    for (const id of ids)
      expect(await findPolicyDevice(school, registry, id)).toEqual(listed.find((d) => d.id === id));
  });
});
