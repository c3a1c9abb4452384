/**
 * When the policy driver brings a device up to date as it comes online (P1, P5). A device that lost its session gets
 * everything again; one that resumed it holds every command published while it was away (QoS 1, retained), so it is
 * left alone, unless a round failed since, when it is refreshed with what changed. And the day schedules, computed
 * once per room, are still each room's own.
 *
 * Fakes stand in for the registry, exemptions and broker: this is the driver's decision logic, not storage or MQTT
 * (test/integration/hub/policy/ drives it against the real hub).
 */
import { describe, expect, it } from 'vitest';
import type { DeviceRegistry } from '../../../../hub/devices/device-registry.js';
import { EventBus } from '../../../../hub/event-bus.js';
import { silentLogger } from '../../../../hub/log.js';
import { parseClock, zonedTime } from '../../../../hub/policy/calendar.js';
import type { ExemptionStore } from '../../../../hub/policy/exemptions.js';
import { PolicyDriver } from '../../../../hub/policy/policy-driver.js';
import type { ExemptionGrant } from '../../../../hub/policy/policy-engine.js';
import type { Command } from '../../../../schemas/messages.js';
import { demoSchool } from '../../../support/hub-fixture.js';

const WED = '2026-09-02';
const now = zonedTime(WED, parseClock('09:05'), 'Europe/London');

function setUp() {
  const school = demoSchool();
  const rooms = [...new Set(school.devices.map((d) => d.room))].slice(0, 2) as [string, string];
  const ids = ['a-1', 'a-2', 'b-1'];
  const records = ids.map((id, i) => ({
    id,
    site: school.site,
    room: rooms[i < 2 ? 0 : 1],
    status: 'approved',
    lockerMode: 'lesson' as const,
    createdAt: 0,
  }));
  const looked: string[] = [];
  const registry = {
    list: async () => records,
    get: async (id: string) => {
      looked.push(id);
      return records.find((r) => r.id === id);
    },
  } as unknown as DeviceRegistry;
  const grants: ExemptionGrant[] = [];
  const exemptions = {
    load: async () => {},
    onChange: () => () => {},
    grants: () => [...grants],
    activeEmergency: () => null,
    activeStorageRelease: () => null,
  } as unknown as ExemptionStore;
  const log = silentLogger;
  const bus = new EventBus(log);
  const sent: { device: string; command: Command }[] = [];
  let failing = false;
  const resumed = new Set<string>();
  const driver = new PolicyDriver({
    school: { ...school, devices: [] },
    registry,
    exemptions,
    bus,
    log,
    now: () => now,
    timers: false,
    sessionResumed: (id) => resumed.has(id),
    publish: async (topic, payload) => {
      if (failing) throw new Error('broker persistence failed');
      sent.push({ device: topic.split('/')[4] as string, command: JSON.parse(payload) as Command });
    },
  });
  const online = (id: string) => {
    const record = records.find((r) => r.id === id);
    bus.emit('device.availability', {
      ref: { site: school.site, room: record?.room as string, device: id },
      availability: { v: 1, ts: now, status: 'online' },
    });
  };
  return {
    driver,
    sent,
    online,
    resumed,
    looked,
    grants,
    rooms,
    fail: (on: boolean) => {
      failing = on;
    },
  };
}

describe('policy driver: devices coming online', () => {
  it('P1: a device that lost its session is sent its directive and schedules again; one that resumed it is not', async () => {
    const { driver, sent, online, resumed, looked } = setUp();
    await driver.start();
    expect(new Set(sent.map((s) => s.device))).toEqual(new Set(['a-1', 'a-2', 'b-1']));
    sent.length = 0;

    resumed.add('a-1');
    online('a-1');
    online('a-2');
    await driver.idle();
    // Not even looked at: in a reconnect storm of 3,000 that was a registry read and a decision each.
    expect(looked).toEqual(['a-2']);
    expect(sent.filter((s) => s.device === 'a-1')).toEqual([]);
    expect(sent.filter((s) => s.device === 'a-2').map((s) => s.command.kind)).toEqual([
      'lock',
      'signage',
      'schedule',
      'schedule',
    ]);
    await driver.stop();
  });

  it('after a failed round, a device resuming its session is brought up to date with what changed', async () => {
    const { driver, sent, online, resumed, grants, rooms, fail } = setUp();
    await driver.start();
    sent.length = 0;
    resumed.add('a-1');
    // A granted exemption changes room A's directive, but the round that should send it fails.
    grants.push({ room: rooms[0], period: 'p1', date: WED });
    fail(true);
    await driver.tick();
    fail(false);
    expect(sent).toEqual([]);
    online('a-1');
    await driver.idle();
    expect(sent.filter((s) => s.device === 'a-1').length).toBeGreaterThan(0);
    // The next complete round catches up the rest; then a resumed device is left alone again.
    await driver.tick();
    sent.length = 0;
    online('a-1');
    await driver.idle();
    expect(sent).toEqual([]);
    await driver.stop();
  });

  it("P6: schedules are computed once per room but stay each room's own: an exemption changes its room only", async () => {
    const { driver, sent, grants, rooms } = setUp();
    await driver.start();
    const schedule = (device: string) =>
      JSON.stringify(
        sent.filter((s) => s.device === device && s.command.kind === 'schedule').at(-1)?.command,
        (key, value) => (key === 'id' || key === 'ts' ? undefined : value),
      );
    expect(schedule('a-1')).toBe(schedule('a-2'));
    const before = { a: schedule('a-1'), b: schedule('b-1') };
    sent.length = 0;
    grants.push({ room: rooms[0], period: 'p1', date: WED });
    await driver.tick();
    expect(schedule('a-1')).not.toBe(before.a);
    expect(schedule('a-2')).toBe(schedule('a-1'));
    expect(sent.filter((s) => s.device === 'b-1')).toEqual([]);
    await driver.stop();
  });
});
