/**
 * What one reader is shown of the audit log (S6, R4, R6). A row about an incident (`incident:<ref>`) is shown only to
 * those who may read that incident in full, so the head never learns from the log that a concern about them exists or
 * that a governor is working on it. Hidden rows leave no trace: rows carry no sequence number, previous hash or hash
 * (a gap in the numbers would give a hidden row away), paging uses an opaque cursor, and verification, which checks
 * the whole chain from its hashes inside the hub, reports only whether it holds and how many of the reader's rows
 * it covered. The full chain with every hash stays on the hub, for `phones-away audit verify` and backups.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { IncidentAccess } from '../incidents/visibility.js';
import type { AuditEntry, VerifyResult } from './audit-log.js';

export type AuditRow = Omit<AuditEntry, 'seq' | 'prev' | 'hash'> & { cursor: string };

export interface ReaderVerifyResult {
  ok: boolean;
  /** Rows this reader may read that were checked. */
  checked: number;
  /** Why the chain does not hold; which row, only when the reader may read it. */
  broken?: { reason: string; at?: number };
  /**
   * The last fingerprint sent off the hub (daily, by email and webhook) and whether the log still matches it: its hash
   * and date only. Its entry number, like the live head, would count rows this reader may not read.
   */
  lastSent?: { hash: string; sentAt: number; matches: boolean };
}

/** The incident reference an audit row is about, if any. */
export const incidentRefOf = (target: string): string | undefined =>
  target.startsWith('incident:') ? target.slice('incident:'.length) : undefined;

/** Decides, per row, whether this reader may see it; memoises each incident's access for one request. */
export function rowFilter(access: (ref: string) => Promise<IncidentAccess>) {
  const seen = new Map<string, Promise<IncidentAccess>>();
  return async (entry: Pick<AuditEntry, 'target'>): Promise<boolean> => {
    const ref = incidentRefOf(entry.target);
    if (ref === undefined) return true;
    let decided = seen.get(ref);
    if (!decided) {
      decided = access(ref);
      seen.set(ref, decided);
    }
    return (await decided) === 'full';
  };
}

/** Sequence numbers sealed into cursors with a key that lives only as long as the process. */
export class CursorSeal {
  private readonly key = randomBytes(32);

  seal(seq: number): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(String(seq), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The sequence number, or undefined for anything not sealed by this process. */
  open(cursor: string): number | undefined {
    try {
      const raw = Buffer.from(cursor, 'base64url');
      if (raw.length < 29 || raw.length > 64) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      const seq = Number(text);
      return Number.isInteger(seq) && seq > 0 ? seq : undefined;
    } catch {
      return undefined;
    }
  }
}

export function toRow(entry: AuditEntry, seal: CursorSeal): AuditRow {
  const { seq, prev: _prev, hash: _hash, ...rest } = entry;
  return { ...withoutAnchorCount(rest), cursor: seal.seal(seq) };
}

/**
 * Anchor rows written before they left the count out carry the chain's entry count in `after.seq`: a reader who may
 * not see every row would learn from it how many are hidden from them. Left out of every view.
 */
function withoutAnchorCount<T extends Pick<AuditEntry, 'action' | 'after'>>(row: T): T {
  if (row.action !== 'audit.anchor-sent' || !isRecord(row.after) || !('seq' in row.after)) return row;
  const { seq: _seq, ...after } = row.after;
  return { ...row, after };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The reader's view of a whole-chain verification: `visible(seq)` says whether they may read row `seq`; the count is
 * of their rows only, and a break is placed only if it is in a row they may read.
 */
export function readerVerify(
  result: VerifyResult,
  visibleCount: number,
  brokenRow: AuditEntry | undefined,
  brokenVisible: boolean,
): ReaderVerifyResult {
  const lastSent = result.lastSent
    ? {
        lastSent: {
          hash: result.lastSent.hash,
          sentAt: result.lastSent.sentAt,
          matches: result.against?.result === 'matched',
        },
      }
    : {};
  if (result.ok) return { ok: true, checked: visibleCount, ...lastSent };
  const reason = result.broken?.reason ?? 'the chain does not hold';
  return {
    ok: false,
    checked: visibleCount,
    ...lastSent,
    broken:
      brokenVisible && brokenRow
        ? { reason, at: brokenRow.at }
        : { reason: `${reason} (in a row your role may not read)` },
  };
}
