/**
 * R7: the chain hash is a protocol. Devices in schools run firmware of every age, so a faster canonicalJson must give
 * byte for byte what the first definition gave; that definition is kept here as the reference.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, eventHash } from '../../../schemas/event-hash.js';
import type { LockerEvent, Report } from '../../../schemas/messages.js';

/** The definition as first shipped (schemas/event-hash.ts before 2026-12-06). */
function referenceJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => referenceJson(v ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${referenceJson(v)}`).join(',')}}`;
}

function referenceHash(event: Record<string, unknown>): string {
  const { queuedMs: _q, ...content } = event;
  return createHash('sha256').update(referenceJson(content)).digest('hex');
}

/** Deterministic values of every JSON shape: nested objects and arrays, unicode and escaped keys, undefined. */
function sample(seed: number, depth = 0): unknown {
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x;
  };
  const pick = next() % (depth > 2 ? 5 : 7);
  if (pick === 0) return null;
  if (pick === 1) return next() % 2 === 0;
  if (pick === 2) return (next() % 100000) / (next() % 7 === 0 ? 3 : 1) - 50000;
  if (pick === 3) return ['', 'plain', 'quote " and \\ back', 'é ü ☃ 😀', '\n\t\u0001'][next() % 5];
  if (pick === 4) return undefined;
  if (pick === 5) return Array.from({ length: next() % 4 }, (_, i) => sample(next() + i, depth + 1));
  const keys = ['b', 'a', 'Z', 'aa', 'é', '😀', 'ab', '"k"', 'queuedMs', '10', '9', ''];
  return Object.fromEntries(
    Array.from({ length: next() % 6 }, (_, i) => [
      keys[(next() + i) % keys.length] as string,
      sample(next(), depth + 1),
    ]),
  );
}

describe('canonical JSON and the event hash (R7)', () => {
  it('gives the same bytes as the first definition for 2,000 values of every shape', () => {
    for (let seed = 1; seed <= 2_000; seed++) {
      const value = sample(seed);
      expect(canonicalJson(value)).toBe(referenceJson(value));
    }
  });

  it('hashes events as the first definition did, queuedMs left out', () => {
    const locker: LockerEvent = {
      v: 1,
      id: 'room-1-locker:7',
      seq: 7,
      ts: 1_764_000_000_000,
      kind: 'locked',
      phones: 12,
      prev: 'a'.repeat(64),
    };
    const report = {
      v: 1,
      id: 'room-1-report:3',
      seq: 3,
      ts: 1_764_000_000_000,
      urgency: 'urgent',
      queuedMs: 1234,
    } as unknown as Report;
    for (const event of [locker, report]) {
      expect(eventHash(event)).toBe(referenceHash(event as unknown as Record<string, unknown>));
    }
    expect(eventHash({ ...report, queuedMs: 99 } as Report)).toBe(eventHash(report));
    for (let seed = 1; seed <= 500; seed++) {
      const value = sample(seed * 7919);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
      const event = value as Record<string, unknown>;
      expect(eventHash(event as unknown as Report)).toBe(referenceHash(event));
    }
  });
});
