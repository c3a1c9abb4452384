/**
 * The event hash chain, shared by the device (which links each event to the previous one) and the hub (which checks
 * the links): one definition, so the two can never disagree.
 */
import { createHash } from 'node:crypto';
import type { LockerEvent, Report } from './messages.js';

/** JSON with object keys sorted at every level and no whitespace: the same bytes on every platform. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The chain hash of an event: SHA-256 hex of its canonical JSON without `queuedMs`. queuedMs is transport
 * metadata that changes on every resend, so it cannot be part of what the chain proves.
 */
export function eventHash(event: Report | LockerEvent): string {
  const { queuedMs: _q, ...content } = event as Report;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
