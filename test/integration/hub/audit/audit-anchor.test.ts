/**
 * S6: anchoring the audit chain. A real hub sends its chain head (entries and hash) by email (a real SMTP server) and
 * webhook (a real HTTP server) on loopback. Then the attacks, each on its own copy of the stopped hub's database: the
 * newest rows cut off, and the chain rewritten from an early entry with every hash recomputed. Both still link up
 * within themselves (the old check passes); both fail against the fingerprint from the email, through the CLI a
 * school would use.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAnchor, runAudit } from '../../../../cli/audit.js';
import { type AuditEntry, AuditLog, entryHash } from '../../../../hub/audit/audit-log.js';
import { HubDb } from '../../../../hub/db/hub-db.js';
import { silentLogger } from '../../../../hub/log.js';
import { type HubFixture, startTestHub, waitFor } from '../../../support/hub-fixture.js';
import { type SmtpCapture, startSmtpCapture } from '../../../support/smtp-capture.js';

const PASSWORD = 'tulip lantern orbit 42';
const key = (seq: number) => seq.toString().padStart(12, '0');

describe('audit chain anchoring (S6)', () => {
  const work = mkdtempSync(join(tmpdir(), 'pa-anchor-'));
  let smtp: SmtpCapture;
  let web: Server;
  let fixture: HubFixture;
  const hooks: Record<string, unknown>[] = [];
  /** The fingerprint as the governors' email carries it. */
  let emailed = '';

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    web = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        hooks.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
    fixture = await startTestHub({
      dataDir: join(work, 'hub'),
      config: {
        notifications: {
          dashboardUrl: 'https://hub.school.example/',
          email: {
            host: '127.0.0.1',
            port: smtp.port,
            from: 'hub@school.example',
            to: { governor: ['chair@school.example'], dsl: ['dsl@school.example'] },
          },
          webhook: { url: `http://127.0.0.1:${(web.address() as AddressInfo).port}/hook` },
          retryDelaySeconds: 1,
        },
      },
    });
  });

  afterAll(async () => {
    await fixture?.dispose();
    await smtp?.close();
    await new Promise<void>((ok) => web?.close(() => ok()));
    rmSync(work, { recursive: true, force: true });
  });

  it('S6: the chain head leaves the hub by email to the governors and by webhook, and is audited', async () => {
    const { hub } = fixture;
    // Some history: accounts added, a role changed.
    for (const name of ['coord', 'dsl', 'head'])
      await hub.users.add(name, PASSWORD, ['coordinator'], Date.now());
    await hub.users.setRoles('dsl', ['dsl'], 'user:admin');
    const head = await hub.audit.currentHead();
    expect(head.seq).toBeGreaterThan(4);
    await hub.safeguarding.anchor?.anchor(Date.now());

    const mail = await waitFor(
      () => smtp.mails.find((m) => m.raw.includes(`--against ${head.seq}:${head.hash}`)),
      'anchor email',
    );
    expect(mail.to).toEqual(['chair@school.example']);
    emailed = /--against (\d+:[0-9a-f]{64})/.exec(mail.raw)?.[1] ?? '';
    const hook = await waitFor(() => hooks.find((h) => h.seq === head.seq), 'anchor webhook');
    expect(hook).toMatchObject({ type: 'audit.anchor', hash: head.hash, site: 'demo-school' });
    expect((await hub.audit.list({ limit: 5 })).map((e) => e.action)).toContain('audit.anchor-sent');
    // The page's answer names the head and the last one sent.
    const result = await hub.audit.verify();
    expect(result).toMatchObject({ ok: true, lastSent: { seq: head.seq, hash: head.hash } });
    expect(result.against?.result).toBe('matched');

    // More history after the anchor, then stop: the attacks work on copies of the database.
    await hub.users.setDisabled('head', true, 'user:admin');
    await fixture.stop();
  });

  /** A copy of the stopped hub's database for one attack. */
  function copy(name: string): string {
    const dir = join(work, name);
    cpSync(join(work, 'hub', 'hub-db'), join(dir, 'hub-db'), { recursive: true });
    return dir;
  }

  async function verifyBoth(dataDir: string) {
    const db = await HubDb.open(join(dataDir, 'hub-db'));
    // Someone with the database removes the hub's own record of what it sent, too.
    await db.del('meta', 'audit/anchor-sent');
    const alone = await new AuditLog(db, Date.now, silentLogger).verify();
    await db.close();
    const lines: string[] = [];
    const ok = await runAudit(['verify', '--data-dir', dataDir, '--against', emailed], (l) => lines.push(l));
    return { alone, ok, text: lines.join('\n') };
  }

  it('S6: the newest rows cut off pass the chain check alone, and fail against the emailed fingerprint', async () => {
    const dir = copy('truncated');
    const anchored = parseAnchor(emailed);
    const db = await HubDb.open(join(dir, 'hub-db'));
    const last = (await db.values<AuditEntry>('audit', { reverse: true, limit: 1 }))[0] as AuditEntry;
    // Cut back to before the anchored entry: everything from it on is gone.
    for (let seq = anchored.seq - 1; seq <= last.seq; seq += 1) await db.del('audit', key(seq));
    await db.close();

    const { alone, ok, text } = await verifyBoth(dir);
    expect(alone).toMatchObject({ ok: true }); // what verify said before anchoring
    expect(ok).toBe(false);
    expect(text).toMatch(/against entry \d+: truncated/);
    expect(text).toMatch(/BROKEN .*entries were removed/);
  });

  it('S6: the chain rewritten from an early entry, every hash recomputed, fails against the emailed fingerprint', async () => {
    const dir = copy('rewritten');
    const db = await HubDb.open(join(dir, 'hub-db'));
    const entries = await db.values<AuditEntry>('audit');
    // Make an account change disappear from history: entry 2 now says something else, and the chain is re-linked.
    let prev = (entries[0] as AuditEntry).hash;
    for (const entry of entries.slice(1)) {
      const { hash: _old, ...rest } = entry;
      const changed = entry.seq === 2 ? { ...rest, after: { note: 'nothing happened' } } : rest;
      const relinked = { ...changed, prev };
      prev = entryHash(relinked);
      await db.put('audit', key(entry.seq), { ...relinked, hash: prev });
    }
    await db.close();

    const { alone, ok, text } = await verifyBoth(dir);
    expect(alone).toMatchObject({ ok: true });
    expect(ok).toBe(false);
    expect(text).toMatch(/against entry \d+: rewritten/);
  });

  it('S6: the untouched database matches the emailed fingerprint (control)', async () => {
    const { alone, ok, text } = await verifyBoth(copy('untouched'));
    expect(alone).toMatchObject({ ok: true });
    expect(ok).toBe(true);
    expect(text).toMatch(/against entry \d+: matched/);
  });
});
