/**
 * `phones-away audit verify --data-dir <dir> [--against <entries>:<hash>]` (S6): checks the audit chain of a stopped
 * hub, against a fingerprint saved from a daily anchor email or webhook (else the last one the hub sent). Exits
 * non-zero when the chain is broken, cut short or rewritten.
 */
import { AuditLog, type ChainHead } from '../hub/audit/audit-log.js';
import { silentLogger } from '../hub/log.js';
import { type ParsedValues, parseCommandLine } from './commands.js';
import { openStoppedHubDb, resolveDataDir } from './hub-data.js';

export function parseAnchor(text: string): ChainHead {
  const match = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text.trim());
  if (!match) throw new Error('--against takes <entries>:<hash>, as in the anchor email');
  return { seq: Number(match[1]), hash: match[2] as string };
}

/** `args` as typed on the command line (tests), parsed by the command table. */
export async function runAudit(args: string[], out: (line: string) => void = console.log): Promise<boolean> {
  const parsed = parseCommandLine(['audit', ...args]);
  if (parsed.kind !== 'run') throw new Error('audit: nothing to run');
  return runAuditParsed(parsed.values, out);
}

/** Options already checked by the command table (cli/commands.ts); the only action is `verify`. */
export async function runAuditParsed(
  values: ParsedValues,
  out: (line: string) => void = console.log,
): Promise<boolean> {
  const against = typeof values.against === 'string' ? parseAnchor(values.against) : undefined;
  const db = await openStoppedHubDb(
    await resolveDataDir(values as { 'data-dir'?: string; config?: string }),
    'phones-away audit verify',
  );
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
