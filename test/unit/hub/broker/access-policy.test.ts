import { describe, expect, it } from 'vitest';
import {
  mayForward,
  mayPublish,
  maySubscribe,
  type Principal,
} from '../../../../hub/broker/access-policy.js';
import { topics } from '../../../../schemas/topics.js';

const own = { site: 'demo', room: 'room-1', device: 'dev-1' };
const other = { site: 'demo', room: 'room-2', device: 'dev-2' };
const device: Principal = { kind: 'device', id: 'dev-1', address: own };

describe('broker access policy', () => {
  it('S5: a device publishes its own events, state and availability', () => {
    expect(mayPublish(device, topics.event(own, 'report')).allow).toBe(true);
    expect(mayPublish(device, topics.state(own, 'locker')).allow).toBe(true);
    expect(mayPublish(device, topics.availability(own)).allow).toBe(true);
  });

  it('S5: a device may not publish as another device, or in another room', () => {
    expect(mayPublish(device, topics.event(other, 'report')).allow).toBe(false);
    expect(mayPublish(device, topics.event({ ...own, room: 'room-9' }, 'report')).allow).toBe(false);
  });

  it('S5: only the hub publishes commands and acknowledgements', () => {
    expect(mayPublish(device, topics.set(own, 'lock')).allow).toBe(false);
    expect(mayPublish(device, topics.reportAck(own)).allow).toBe(false);
  });

  it('S5: a device subscribes only to its own inbox, never wildcards', () => {
    for (const filter of topics.deviceInbox(own)) expect(maySubscribe(device, filter).allow).toBe(true);
    expect(maySubscribe(device, topics.set(other, 'lock')).allow).toBe(false);
    expect(maySubscribe(device, '#').allow).toBe(false);
    expect(maySubscribe(device, 'phones-away/v1/demo/#').allow).toBe(false);
  });

  it('S4: a device awaiting approval may do nothing', () => {
    const pending: Principal = { kind: 'pending', id: 'dev-1' };
    expect(mayPublish(pending, topics.event(own, 'report')).allow).toBe(false);
    expect(maySubscribe(pending, topics.deviceInbox(own)[0]!).allow).toBe(false);
  });

  it('S5: a monitor service reads its own site whole and publishes nothing', () => {
    const monitor: Principal = { kind: 'service', id: 'mon', role: 'monitor', site: 'demo' };
    expect(maySubscribe(monitor, topics.siteWildcard('demo')).allow).toBe(true);
    expect(maySubscribe(monitor, topics.siteWildcard('other-school')).allow).toBe(false);
    expect(maySubscribe(monitor, '#').allow).toBe(false);
    expect(maySubscribe(monitor, 'phones-away/v1/+/#').allow).toBe(false);
    expect(mayPublish(monitor, topics.event(own, 'report')).allow).toBe(false);
  });

  it('R4, D1: a monitor is handed lockers, signage and device health, never a report or its acknowledgement', () => {
    const monitor: Principal = { kind: 'service', id: 'mon', role: 'monitor', site: 'demo' };
    expect(mayForward(monitor, topics.event(own, 'report')).allow).toBe(false);
    expect(mayForward(monitor, topics.reportAck(own)).allow).toBe(false);
    expect(mayForward(monitor, topics.event(own, 'locker')).allow).toBe(true);
    expect(mayForward(monitor, topics.state(own, 'locker')).allow).toBe(true);
    expect(mayForward(monitor, topics.availability(own)).allow).toBe(true);
    expect(mayForward(monitor, topics.set(own, 'lock')).allow).toBe(true);
    // A device is handed what it subscribed to: its own inbox, its own acknowledgements.
    expect(mayForward(device, topics.reportAck(own)).allow).toBe(true);
  });
});
