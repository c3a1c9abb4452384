/** S6: the audit chain's head is sent once a day, whatever the restarts, and verify() checks against what was sent. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditAnchor } from '../../../../hub/audit/audit-anchor.js';
import { AuditLog, type ChainHead } from '../../../../hub/audit/audit-log.js';
import { HubDb } from '../../../../hub/db/hub-db.js';
import { silentLogger } from '../../../../hub/log.js';

const HOUR = 3_600_000;

describe('audit anchor (S6)', () => {
  let dir: string;
  let db: HubDb;
  let audit: AuditLog;
  let clock = 0;
  const sent: ChainHead[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pa-anchor-unit-'));
    db = await HubDb.open(dir);
    clock = Date.UTC(2026, 0, 5, 7);
    sent.length = 0;
    audit = new AuditLog(db, () => clock, silentLogger);
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const anchorOn = () =>
    new AuditAnchor({
      audit,
      send: async (head) => {
        sent.push(head);
      },
      now: () => clock,
      log: silentLogger,
    });

  it('S6: sends the head at once, then not again within a day, then again after a day (a new instance: a restart)', async () => {
    for (let i = 0; i < 3; i += 1) await audit.record({ actor: 'u', action: 'x', target: `t${i}` });
    const head = await audit.currentHead();
    expect(await anchorOn().tick(clock)).toEqual(head);
    expect(sent).toEqual([head]);
    // The sending is itself audited, after the head it sent.
    expect((await audit.currentHead()).seq).toBe(head.seq + 1);

    clock += 23 * HOUR;
    expect(await anchorOn().tick(clock)).toBeNull();
    clock += HOUR;
    const next = await anchorOn().tick(clock);
    expect(next?.seq).toBe(head.seq + 1);
    expect(sent).toHaveLength(2);
    expect(await audit.verify()).toMatchObject({
      ok: true,
      lastSent: { seq: head.seq + 1, sentAt: clock },
      against: { result: 'matched' },
    });
  });

  it('S6: a saved head beyond the log is truncation; a different hash at its entry is rewriting', async () => {
    for (let i = 0; i < 5; i += 1) await audit.record({ actor: 'u', action: 'x', target: `t${i}` });
    const head = await audit.currentHead();
    expect(await audit.verify({ against: { seq: head.seq + 2, hash: head.hash } })).toMatchObject({
      ok: false,
      against: { result: 'truncated' },
    });
    expect(await audit.verify({ against: { seq: 3, hash: 'f'.repeat(64) } })).toMatchObject({
      ok: false,
      against: { result: 'rewritten' },
    });
    expect(await audit.verify({ against: head })).toMatchObject({ ok: true, against: { result: 'matched' } });
  });
});
