/** Helpers for tests that run the real device program against a real hub (startTestHub). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_UNO_PINS } from '../../firmware/board/pin-map.js';
import type { Hub } from '../../hub/main.js';
import type { DeviceConfig, SchoolModel } from '../../schemas/config.js';
import type { Command } from '../../schemas/messages.js';
import { type DeviceAddress, topics } from '../../schemas/topics.js';
import { parse } from '../../schemas/validate.js';
import { demoSchool, provision } from './hub-fixture.js';

export const ROOM1: DeviceAddress = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };

/**
 * The demo school with one lesson from 00:00 to 23:59 on every day of the year: whenever a test runs, the timetable
 * says "lesson" (P1 locked, phones away), so lesson-only behaviour such as R7 unplugged-in-lesson is deterministic.
 * A timetable cannot end at 24:00, so 23:59-00:00 local is home time (the hub unlocks every locker): the school's
 * timezone is a fixed offset that puts `now` near local noon, so no test run reaches that minute.
 */
export function allDayLessonSchool(now = Date.now()): SchoolModel {
  const school = demoSchool();
  const year = new Date(now).getUTCFullYear();
  const offset = 12 - new Date(now).getUTCHours(); // -11..12 hours east of UTC
  const timezone = offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`; // POSIX sign
  return {
    ...school,
    timetable: {
      ...school.timetable,
      timezone,
      weekdays: [1, 2, 3, 4, 5, 6, 7],
      arrival: '00:00',
      homeTime: '23:59',
      periods: [{ id: 'all-day', name: 'All day', kind: 'lesson', start: '00:00', end: '23:59' }],
      terms: [{ name: 'Test year', start: `${year - 1}-01-01`, end: `${year + 1}-12-31` }],
      insetDays: [],
    },
  };
}

/** Provisions the device at the hub and writes its config (emulated Uno) and password file under `dir`. */
export async function provisionDevice(
  hub: Hub,
  dir: string,
  overrides: Partial<DeviceConfig> = {},
  address: DeviceAddress = ROOM1,
): Promise<{ config: DeviceConfig; secret: string; configFile: string }> {
  const secret = `test-secret-${address.device}-0123456789`;
  await provision(hub, address, secret);
  const passwordFile = join(dir, 'device.secret');
  writeFileSync(passwordFile, secret, { mode: 0o600 });
  const config = deviceConfig(hub, dir, overrides, address);
  const configFile = join(dir, 'device.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return { config, secret, configFile };
}

export function deviceConfig(
  hub: Hub,
  dir: string,
  overrides: Partial<DeviceConfig> = {},
  address: DeviceAddress = ROOM1,
): DeviceConfig {
  return parse('device-config', {
    version: 1,
    site: address.site,
    room: address.room,
    deviceId: address.device,
    dataDir: join(dir, 'data'),
    hub: {
      url: `mqtt://127.0.0.1:${hub.mqttPort}`,
      username: address.device,
      passwordFile: join(dir, 'device.secret'),
    },
    board: { kind: 'emulated-uno' },
    pins: DEFAULT_UNO_PINS,
    timing: { longPressMs: 1000, heldTamperMs: 30_000, confirmShowMs: 4000, heartbeatMs: 2000 },
    lockerMode: 'lesson',
    ...overrides,
  });
}

let counter = 0;

/** A command as the hub's policy driver sends it: QoS 1, retained, stamped now (the device keeps the newest). */
export async function sendCommand(
  hub: Hub,
  address: DeviceAddress,
  body:
    | Pick<Extract<Command, { kind: 'lock' }>, 'kind' | 'locked' | 'reason'>
    | { kind: 'signage'; mode: string },
): Promise<void> {
  counter += 1;
  const command = parse('command', { v: 1, id: `test-${counter}`, ts: Date.now(), ...body });
  await hub.broker.publish(topics.set(address, command.kind), JSON.stringify(command), {
    qos: 1,
    retain: true,
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
