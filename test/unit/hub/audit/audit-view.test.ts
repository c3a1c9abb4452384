import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../../hub/audit/audit-log.js';
import { CursorSeal, readerVerify, rowFilter, toRow } from '../../../../hub/audit/audit-view.js';

const entry = (seq: number, target: string): AuditEntry => ({
  seq,
  at: 1000 + seq,
  actor: 'user:x',
  action: 'a',
  target,
  prev: 'p'.repeat(64),
  hash: 'h'.repeat(64),
});

describe('audit view for one reader (S6, R6)', () => {
  it('S6: a row about an incident is shown only when its incident is readable in full; access asked once per ref', async () => {
    const asked: string[] = [];
    const visible = rowFilter(async (ref) => {
      asked.push(ref);
      return ref === 'GOOD' ? 'full' : ref === 'WAIT' ? 'exists' : 'none';
    });
    expect(await visible(entry(1, 'policy:matrix'))).toBe(true);
    expect(await visible(entry(2, 'incident:GOOD'))).toBe(true);
    expect(await visible(entry(3, 'incident:WAIT'))).toBe(false);
    expect(await visible(entry(4, 'incident:HIDE'))).toBe(false);
    expect(await visible(entry(5, 'incident:HIDE'))).toBe(false);
    expect(asked).toEqual(['GOOD', 'WAIT', 'HIDE']);
  });

  it('S6: rows carry no sequence number or hashes; cursors open only in the process that sealed them', () => {
    const seal = new CursorSeal();
    const row = toRow(entry(42, 'user:alice'), seal);
    expect(row).not.toHaveProperty('seq');
    expect(row).not.toHaveProperty('hash');
    expect(row).not.toHaveProperty('prev');
    expect(seal.open(row.cursor)).toBe(42);
    // Two cursors for the same row differ, so cursors cannot be compared to count hidden rows.
    expect(toRow(entry(42, 'user:alice'), seal).cursor).not.toBe(row.cursor);
    expect(new CursorSeal().open(row.cursor)).toBeUndefined();
    expect(seal.open('42')).toBeUndefined();
    expect(seal.open(`${row.cursor.slice(0, -2)}AA`)).toBeUndefined();
  });

  it('S6: verification places a break only in a row the reader may read', () => {
    const head = { seq: 9, hash: 'f'.repeat(64) };
    const broken = {
      ok: false,
      checked: 9,
      head,
      broken: { seq: 5, reason: 'content does not match its hash' },
    };
    expect(readerVerify({ ok: true, checked: 9, head }, 4, undefined, false)).toEqual({
      ok: true,
      checked: 4,
    });
    const hidden = readerVerify(broken, 2, entry(5, 'incident:HIDE'), false);
    expect(hidden.broken).toEqual({
      reason: 'content does not match its hash (in a row your role may not read)',
    });
    const shown = readerVerify(broken, 2, entry(5, 'user:x'), true);
    expect(shown.broken).toEqual({ reason: 'content does not match its hash', at: 1005 });
    // Neither the live head nor a sent anchor's entry number reaches the reader: both count every row.
    const sent = readerVerify(
      {
        ok: true,
        checked: 9,
        head,
        lastSent: { ...head, sentAt: 5 },
        against: { ...head, result: 'matched' },
      },
      4,
      undefined,
      false,
    );
    expect(sent).toEqual({ ok: true, checked: 4, lastSent: { hash: head.hash, sentAt: 5, matches: true } });
    expect(JSON.stringify(sent)).not.toContain('"seq"');
  });
});
