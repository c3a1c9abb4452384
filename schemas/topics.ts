/**
 * The one module that builds and parses MQTT topics. Nothing else concatenates topic strings.
 *
 *   phones-away/v1/<site>/<room>/<device>/availability        retained, last will
 *   phones-away/v1/<site>/<room>/<device>/state/<part>        retained: locker | signage
 *   phones-away/v1/<site>/<room>/<device>/event/<kind>        locker | report | heartbeat | update
 *   phones-away/v1/<site>/<room>/<device>/set/<command>       hub → device: lock | signage | schedule | update
 *   phones-away/v1/<site>/<room>/<device>/ack/report          hub → device: report stored
 */
import type { SchemaName } from './validate.js';

export const ROOT = 'phones-away/v1';
const SLUG = /^[a-z0-9][a-z0-9-]{0,47}$/;

export interface DeviceAddress {
  site: string;
  room: string;
  device: string;
}

export const STATE_PARTS = ['locker', 'signage'] as const;
export const EVENT_KINDS = ['locker', 'report', 'heartbeat', 'update'] as const;
export const SET_COMMANDS = ['lock', 'signage', 'schedule', 'update'] as const;
export type StatePart = (typeof STATE_PARTS)[number];
export type EventKind = (typeof EVENT_KINDS)[number];
export type SetCommand = (typeof SET_COMMANDS)[number];

export type ParsedTopic =
  | { kind: 'availability'; address: DeviceAddress }
  | { kind: 'state'; part: StatePart; address: DeviceAddress }
  | { kind: 'event'; event: EventKind; address: DeviceAddress }
  | { kind: 'set'; command: SetCommand; address: DeviceAddress }
  | { kind: 'ack'; address: DeviceAddress };

/** Which schema validates the payload on each kind of topic. */
export function schemaFor(topic: ParsedTopic): SchemaName {
  switch (topic.kind) {
    case 'availability':
      return 'availability';
    case 'state':
      return topic.part === 'locker' ? 'locker-state' : 'signage-state';
    case 'event':
      if (topic.event === 'locker') return 'locker-event';
      return topic.event === 'update' ? 'update-progress' : topic.event;
    case 'set':
      return 'command';
    case 'ack':
      return 'report-ack';
  }
}

export class TopicError extends Error {
  readonly code = 'E_TOPIC';
}

function assertAddress(a: DeviceAddress): void {
  for (const [key, value] of Object.entries(a)) {
    if (!SLUG.test(value)) throw new TopicError(`${key} '${value}' is not a valid topic segment`);
  }
}

function base(a: DeviceAddress): string {
  assertAddress(a);
  return `${ROOT}/${a.site}/${a.room}/${a.device}`;
}

export const topics = {
  availability: (a: DeviceAddress) => `${base(a)}/availability`,
  state: (a: DeviceAddress, part: StatePart) => `${base(a)}/state/${part}`,
  event: (a: DeviceAddress, kind: EventKind) => `${base(a)}/event/${kind}`,
  set: (a: DeviceAddress, command: SetCommand) => `${base(a)}/set/${command}`,
  reportAck: (a: DeviceAddress) => `${base(a)}/ack/report`,
  /** What a device subscribes to: its own commands and acknowledgements, nothing else. */
  deviceInbox: (a: DeviceAddress) => [`${base(a)}/set/+`, `${base(a)}/ack/report`],
  /** Every device's commands on one site: for reading what the broker retains. */
  siteCommands: (site: string) => {
    if (!SLUG.test(site)) throw new TopicError(`site '${site}' is not a valid topic segment`);
    return `${ROOT}/${site}/+/+/set/+`;
  },
  /** What the hub's ingest subscribes to for one site. */
  siteWildcard: (site: string) => {
    if (!SLUG.test(site)) throw new TopicError(`site '${site}' is not a valid topic segment`);
    return `${ROOT}/${site}/#`;
  },
};

/**
 * Parsed topics, frozen and shared: every message is parsed (at the broker's ACL and again at ingest) and a device
 * uses a handful of topics, so the regex checks run once per topic, not per message. Bounded; cleared when full.
 */
const parsedMemo = new Map<string, ParsedTopic>();
const PARSED_MEMO_MAX = 50_000;

/** Parses a topic into its address and kind, or returns null for anything not in our tree. */
export function parseTopic(topic: string): ParsedTopic | null {
  const memo = parsedMemo.get(topic);
  if (memo) return memo;
  const parsed = parseTopicUncached(topic);
  // Only topics in our tree are kept (their length is bounded by the slugs); garbage is not worth memory.
  if (!parsed) return null;
  Object.freeze(parsed.address);
  Object.freeze(parsed);
  if (parsedMemo.size >= PARSED_MEMO_MAX) parsedMemo.clear();
  parsedMemo.set(topic, parsed);
  return parsed;
}

function parseTopicUncached(topic: string): ParsedTopic | null {
  if (!topic.startsWith(`${ROOT}/`)) return null;
  const parts = topic.slice(ROOT.length + 1).split('/');
  const [site, room, device, kind, sub, ...rest] = parts;
  if (!site || !room || !device || !kind || rest.length > 0) return null;
  if (!SLUG.test(site) || !SLUG.test(room) || !SLUG.test(device)) return null;
  const address = { site, room, device };
  if (kind === 'availability') return sub === undefined ? { kind, address } : null;
  if (kind === 'state' && isOneOf(STATE_PARTS, sub)) return { kind, part: sub, address };
  if (kind === 'event' && isOneOf(EVENT_KINDS, sub)) return { kind, event: sub, address };
  if (kind === 'set' && isOneOf(SET_COMMANDS, sub)) return { kind, command: sub, address };
  if (kind === 'ack' && sub === 'report') return { kind, address };
  return null;
}

function isOneOf<T extends string>(values: readonly T[], v: string | undefined): v is T {
  return v !== undefined && (values as readonly string[]).includes(v);
}
