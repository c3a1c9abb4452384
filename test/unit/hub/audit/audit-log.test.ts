import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditEntry, AuditLog, GENESIS } from '../../../../hub/audit/audit-log.js';
import { HubDb } from '../../../../hub/db/hub-db.js';
import { silentLogger } from '../../../../hub/log.js';

describe('audit log (S6)', () => {
  let dir: string;
  let db: HubDb;
  let clock = 1_000;
  let audit: AuditLog;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pa-audit-'));
    db = await HubDb.open(dir);
    clock = 1_000;
    audit = new AuditLog(db, () => clock, silentLogger);
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function seed(n: number) {
    for (let i = 0; i < n; i += 1) {
      clock += 1000;
      await audit.record({
        actor: 'user:admin',
        action: 'policy.change',
        target: `room-${i}`,
        before: { a: i },
        after: { a: i + 1 },
      });
    }
  }

  it('S6: chains entries: each holds the previous hash and its own', async () => {
    await seed(3);
    const entries = (await audit.list({ reverse: false })) as AuditEntry[];
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[0]?.prev).toBe(GENESIS);
    expect(entries[1]?.prev).toBe(entries[0]?.hash);
    expect(entries[2]?.prev).toBe(entries[1]?.hash);
    expect(await audit.verify()).toEqual({ ok: true, checked: 3, head: await audit.currentHead() });
  });

  it('S6: detects an altered row', async () => {
    await seed(3);
    const row = (await db.get<AuditEntry>('audit', '000000000002')) as AuditEntry;
    await db.put('audit', '000000000002', { ...row, after: { a: 99 } });
    expect(await audit.verify()).toMatchObject({ ok: false, broken: { seq: 2, reason: /hash/ } });
  });

  it('S6: detects a removed row and a re-hashed forgery', async () => {
    await seed(3);
    await db.del('audit', '000000000002');
    expect(await audit.verify()).toMatchObject({ ok: false, broken: { seq: 3 } });
  });

  it('S6: detects a forged row whose own hash was recomputed (the next link breaks)', async () => {
    await seed(3);
    const { entryHash } = await import('../../../../hub/audit/audit-log.js');
    const row = (await db.get<AuditEntry>('audit', '000000000002')) as AuditEntry;
    const { hash: _h, ...rest } = { ...row, actor: 'user:someone-else' };
    await db.put('audit', '000000000002', { ...rest, hash: entryHash(rest) });
    expect(await audit.verify()).toMatchObject({ ok: false, broken: { seq: 3, reason: /previous-hash/ } });
  });

  it('S6: concurrent records never fork the chain, and a reopened log continues it', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => audit.record({ actor: 'a', action: 'x', target: `t${i}` })),
    );
    const reopened = new AuditLog(db, () => clock, silentLogger);
    await reopened.record({ actor: 'a', action: 'x', target: 'after-restart' });
    expect(await reopened.verify()).toEqual({ ok: true, checked: 21, head: await reopened.currentHead() });
  });

  it('S6: a change is committed with its entry: the ops and the entry land together, the chain continues', async () => {
    await seed(1);
    const [entry] = await audit.commit(
      [{ actor: 'user:head', action: 'exemption.grant', target: 'room-2', after: { until: 5 } }],
      [{ type: 'put', sublevel: 'meta', key: 'the-change', value: { until: 5 } }],
    );
    expect(entry).toMatchObject({ seq: 2, action: 'exemption.grant', target: 'room-2', after: { until: 5 } });
    expect(await db.get('meta', 'the-change')).toEqual({ until: 5 });
    expect(await audit.list()).toMatchObject([{ seq: 2, action: 'exemption.grant' }, { seq: 1 }]);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('D2: pruning old entries keeps the rest verifiable from an anchor', async () => {
    await seed(5); // at 2000..6000
    expect(await audit.prune(4000)).toBe(2);
    clock += 1000;
    await audit.record({ actor: 'system:retention', action: 'retention.run', target: 'data' });
    const result = await audit.verify();
    expect(result).toMatchObject({ ok: true, checked: 4, anchor: { seq: 2 } });
  });
});
