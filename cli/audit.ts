/**
 * `phones-away audit verify --data-dir <dir> [--against <entries>:<hash>]` (S6): checks the audit chain of a stopped
 * hub, against a fingerprint saved from a daily anchor email or webhook (else the last one the hub sent). Exits
 * non-zero when the chain is broken, cut short or rewritten.
 */
import { parseArgs } from 'node:util';
import { AuditLog, type ChainHead } from '../hub/audit/audit-log.js';
import { silentLogger } from '../hub/log.js';
import { openStoppedHubDb, resolveDataDir } from './hub-data.js';

export function parseAnchor(text: string): ChainHead {
  const match = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text.trim());
  if (!match) throw new Error('--against takes <entries>:<hash>, as in the anchor email');
  return { seq: Number(match[1]), hash: match[2] as string };
}

export async function runAudit(args: string[], out: (line: string) => void = console.log): Promise<boolean> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, config: { type: 'string' }, against: { type: 'string' } },
  });
  if (positionals[0] !== 'verify')
    throw new Error('usage: phones-away audit verify --data-dir <dir> [--against <entries>:<hash>]');
  const against = values.against ? parseAnchor(values.against) : undefined;
  const db = await openStoppedHubDb(await resolveDataDir(values), 'phones-away audit verify');
  try {
    const result = await new AuditLog(db, Date.now, silentLogger).verify(against ? { against } : {});
    out(`audit: ${result.checked} entries checked; head: entry ${result.head.seq}, ${result.head.hash}`);
    if (result.against) out(`audit: against entry ${result.against.seq}: ${result.against.result}`);
    else out('audit: no saved fingerprint to check against (give --against from an anchor email)');
    if (!result.ok) out(`audit: BROKEN at entry ${result.broken?.seq}: ${result.broken?.reason}`);
    return result.ok;
  } finally {
    await db.close();
  }
}
