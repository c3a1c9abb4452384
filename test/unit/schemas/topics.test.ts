import { describe, expect, it } from 'vitest';
import { parseTopic, schemaFor, TopicError, topics } from '../../../schemas/topics.js';

const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };

describe('topics', () => {
  it('builds and parses every kind of topic in the tree', () => {
    expect(parseTopic(topics.availability(address))).toEqual({ kind: 'availability', address });
    expect(parseTopic(topics.state(address, 'locker'))).toEqual({ kind: 'state', part: 'locker', address });
    expect(parseTopic(topics.event(address, 'report'))).toEqual({ kind: 'event', event: 'report', address });
    expect(parseTopic(topics.set(address, 'schedule'))).toEqual({
      kind: 'set',
      command: 'schedule',
      address,
    });
    expect(parseTopic(topics.reportAck(address))).toEqual({ kind: 'ack', address });
  });

  it('maps each topic to the schema that validates its payload', () => {
    expect(schemaFor(parseTopic(topics.event(address, 'report'))!)).toBe('report');
    expect(schemaFor(parseTopic(topics.event(address, 'locker'))!)).toBe('locker-event');
    expect(schemaFor(parseTopic(topics.state(address, 'signage'))!)).toBe('signage-state');
    expect(schemaFor(parseTopic(topics.set(address, 'lock'))!)).toBe('command');
  });

  it('refuses segments that could smuggle wildcards or separators', () => {
    expect(() => topics.event({ ...address, device: 'a/b' }, 'report')).toThrow(TopicError);
    expect(() => topics.event({ ...address, room: '#' }, 'report')).toThrow(TopicError);
    expect(() => topics.siteWildcard('+')).toThrow(TopicError);
  });

  it('returns null for anything outside the tree', () => {
    for (const t of [
      'phones-away/v1/demo/room-1/dev/event/unknown',
      'phones-away/v1/demo/room-1/dev/event/report/extra',
      'phones-away/v2/demo/room-1/dev/availability',
      'other/topic',
      'phones-away/v1/Demo/room-1/dev/availability',
      '',
    ]) {
      expect(parseTopic(t)).toBeNull();
    }
  });

  it('S5: a device inbox holds only its own set and ack topics', () => {
    expect(topics.deviceInbox(address)).toEqual([
      'phones-away/v1/demo-school/room-1/room-1-locker/set/+',
      'phones-away/v1/demo-school/room-1/room-1-locker/ack/report',
    ]);
  });
});
