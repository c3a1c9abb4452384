/**
 * The event hash chain, shared by the device (which links each event to the previous one) and the hub (which checks
 * the links): one definition, so the two can never disagree.
 */
import { hash } from 'node:crypto';
import type { LockerEvent, Report } from './messages.js';

/**
 * JSON with object keys sorted at every level and no whitespace: the same bytes on every platform. Keys sort by
 * UTF-16 code units (Array.prototype.sort's default, the same order as comparing with `<`). Built by concatenation,
 * not entries/filter/map/join: the hub hashes every event it stores (bench/RESULTS.md f).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '';
    for (let i = 0; i < value.length; i++) out += `${i > 0 ? ',' : ''}${canonicalJson(value[i] ?? null)}`;
    return `[${out}]`;
  }
  return canonicalObject(value as Record<string, unknown>);
}

/** An object's canonical JSON, leaving out undefined values and the key `omit`. */
function canonicalObject(object: Record<string, unknown>, omit?: string): string {
  let out = '';
  for (const key of Object.keys(object).sort()) {
    const value = object[key];
    if (value === undefined || key === omit) continue;
    out += `${out === '' ? '' : ','}${JSON.stringify(key)}:${canonicalJson(value)}`;
  }
  return `{${out}}`;
}

/**
 * The chain hash of an event: SHA-256 hex of its canonical JSON without `queuedMs`. queuedMs is transport
 * metadata that changes on every resend, so it cannot be part of what the chain proves.
 */
export function eventHash(event: Report | LockerEvent): string {
  return hash('sha256', canonicalObject(event as unknown as Record<string, unknown>, 'queuedMs'), 'hex');
}
