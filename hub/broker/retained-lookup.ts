/**
 * Retained-message lookup by topic prefix for aedes-persistence-level. Its own lookup decodes every retained message
 * in the store for each SUBSCRIBE, and every device leaves a retained availability and three retained commands, so a
 * reconnect storm cost O(devices²): 3,000 devices first connecting took 238 s (bench/RESULTS.md, fleet). Here only
 * the keys under the filter's literal prefix (its levels before the first wildcard) are read. Same storage format
 * (msgpack, the persistence's own keys) and the same matcher (qlobber with the persistence's options), so a lookup
 * finds exactly what the original finds.
 */
import { Readable } from 'node:stream';
import type { LevelPersistence } from 'aedes-persistence-level';
import type { Level } from 'level';
import msgpack from 'msgpack-lite';
import { QlobberTrue } from 'qlobber';

/** The persistence's key prefix for retained messages and its matcher options (aedes-persistence-level 9). */
const RETAINED = 'retained:';
const MATCHER_OPTIONS = { wildcard_one: '+', wildcard_some: '#', separator: '/', match_empty_levels: true };

interface RetainedPacket {
  topic: string;
  payload: Buffer | string;
}

/**
 * The key range that holds every retained topic a filter can match. 'a/b/+' → keys from 'retained:a/b' up to (not
 * including) 'retained:a/b0': '0' is the byte after '/', so the range holds 'a/b' itself (which 'a/b/#' matches) and
 * everything under 'a/b/', plus a few siblings such as 'a/b-c' that the matcher then drops.
 */
export function retainedRange(filter: string): { gte: string; lte?: string; lt?: string } {
  const levels = filter.split('/');
  const wildcard = levels.findIndex((level) => level === '+' || level === '#');
  if (wildcard === -1) return { gte: RETAINED + filter, lte: RETAINED + filter };
  if (wildcard === 0) return { gte: RETAINED, lt: RETAINED.slice(0, -1) + ';' }; // ';' follows ':'
  const prefix = levels.slice(0, wildcard).join('/');
  return { gte: RETAINED + prefix, lt: `${RETAINED}${prefix}0` };
}

async function* matching(db: Level<string, string>, filters: string[]): AsyncGenerator<RetainedPacket> {
  for (const filter of filters) {
    const matcher = new QlobberTrue(MATCHER_OPTIONS);
    matcher.add(filter);
    for await (const blob of db.values({ ...retainedRange(filter), valueEncoding: 'buffer' })) {
      const packet = msgpack.decode(blob as unknown as Buffer) as RetainedPacket;
      if (matcher.test(packet.topic)) yield packet;
    }
  }
}

/** Replaces the persistence's retained lookups with prefix-range reads over the same LevelDB. */
export function usePrefixRetainedLookup(persistence: LevelPersistence, db: Level<string, string>): void {
  persistence.createRetainedStream = (filter) => Readable.from(matching(db, [filter]));
  persistence.createRetainedStreamCombi = (filters) => Readable.from(matching(db, filters));
}
