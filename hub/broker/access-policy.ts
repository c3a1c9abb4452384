/**
 * Who may publish and subscribe where (S4, S5): pure functions of the principal and the topic, used by the broker's
 * hooks. A device publishes only under its own address, and subscribes only to its own inbox.
 */
import { type DeviceAddress, parseTopic, topics } from '../../schemas/topics.js';

export type Principal =
  | { kind: 'device'; id: string; address: DeviceAddress }
  /** A read-only monitor account of one site (monitor-accounts.ts). */
  | { kind: 'service'; id: string; role: 'monitor'; site: string }
  | { kind: 'pending'; id: string };

function sameAddress(a: DeviceAddress, b: DeviceAddress): boolean {
  return a.site === b.site && a.room === b.room && a.device === b.device;
}

export type Decision = { allow: true } | { allow: false; reason: string };
const allow: Decision = { allow: true };
const deny = (reason: string): Decision => ({ allow: false, reason });

export function mayPublish(principal: Principal, topic: string): Decision {
  if (principal.kind === 'pending') return deny('device is awaiting approval (S4)');
  if (principal.kind === 'service') return deny('service principals are read-only');
  const parsed = parseTopic(topic);
  if (!parsed) return deny('topic is not in the phones-away tree');
  if (!sameAddress(parsed.address, principal.address))
    return deny('devices publish only under their own address');
  if (parsed.kind === 'set' || parsed.kind === 'ack')
    return deny('only the hub publishes commands and acknowledgements');
  return allow;
}

export function maySubscribe(principal: Principal, filter: string): Decision {
  if (principal.kind === 'pending') return deny('device is awaiting approval (S4)');
  if (principal.kind === 'service') {
    return filter === topics.siteWildcard(principal.site)
      ? allow
      : deny(`monitor may subscribe to its site's whole tree only (${topics.siteWildcard(principal.site)})`);
  }
  return topics.deviceInbox(principal.address).includes(filter)
    ? allow
    : deny('devices subscribe only to their own inbox');
}

/**
 * Whether the broker hands a message on to a subscriber. A monitor (a building-management system) reads the site's
 * lockers, signage and device health, never that a pupil reported: a report and its acknowledgement name the room and
 * the minute, which only the safeguarding roles may read (R4, D1). Its `#` subscription matches them; they stop here.
 */
export function mayForward(principal: Principal, topic: string): Decision {
  if (principal.kind !== 'service') return allow;
  const parsed = parseTopic(topic);
  if (parsed?.kind === 'ack' || (parsed?.kind === 'event' && parsed.event === 'report'))
    return deny('monitors are not told of reports (R4)');
  return allow;
}
