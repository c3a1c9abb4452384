/**
 * Audit log API (S6): view (newest first, paged by an opaque cursor), verify the hash chain, export as JSON lines.
 * Each reader gets only the rows they may read (hub/audit/audit-view.ts): a row about an incident only if they may
 * read that incident.
 */
import { Type } from '@sinclair/typebox';
import { AuditRow, VerifyResult } from '../../../schemas/api.js';
import type { AuditEntry, AuditLog } from '../../audit/audit-log.js';
import { CursorSeal, readerVerify, rowFilter, toRow } from '../../audit/audit-view.js';
import type { IncidentStore } from '../../incidents/incident-store.js';
import { incidentAccess } from '../../incidents/visibility.js';
import type { StaffRole } from '../../users/roles.js';
import { ok } from '../answer.js';
import type { RouteModule } from '../http-server.js';

export function auditRoutes(audit: AuditLog, incidents: IncidentStore): RouteModule {
  const seal = new CursorSeal();
  /** A retention-removed incident is nobody's to read: its rows stay hidden. */
  const filterFor = (roles: readonly StaffRole[]) =>
    rowFilter(async (ref) => {
      const incident = await incidents.getByRef(ref);
      return incident ? incidentAccess(roles, incident) : 'none';
    });

  return (app, kit) => {
    app.get(
      '/api/audit',
      { preHandler: kit.guard('audit:read'), config: { response: Type.Array(AuditRow) } },
      async (request, reply) => {
        const query = request.query as { before?: string; limit?: string };
        const limit = query.limit === undefined ? 100 : Number(query.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          return kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', ['limit: an integer from 1 to 1000']);
        let beforeSeq = query.before === undefined ? undefined : seal.open(query.before);
        if (query.before !== undefined && beforeSeq === undefined)
          return kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', [
            'before: a cursor from an earlier page (reload the page)',
          ]);
        const visible = filterFor(kit.session(request).roles);
        const rows: AuditEntry[] = [];
        // Pages of the whole log, newest first, until this reader's page is full or the log ends.
        for (;;) {
          const page = await audit.list({ limit: 500, ...(beforeSeq !== undefined ? { beforeSeq } : {}) });
          for (const entry of page) {
            if (rows.length === limit) break;
            if (await visible(entry)) rows.push(entry);
          }
          const last = page[page.length - 1];
          if (rows.length === limit || page.length < 500 || !last) break;
          beforeSeq = last.seq;
        }
        return ok(
          Type.Array(AuditRow),
          rows.map((e) => toRow(e, seal)),
        );
      },
    );

    app.get(
      '/api/audit/verify',
      { preHandler: kit.guard('audit:read'), config: { response: VerifyResult } },
      async (request) => {
        const result = await audit.verify();
        const visible = filterFor(kit.session(request).roles);
        let count = 0;
        let brokenRow: AuditEntry | undefined;
        for await (const entry of audit.stream()) {
          if (result.broken && entry.seq > result.broken.seq) break;
          if (result.broken?.seq === entry.seq) brokenRow = entry;
          else if (await visible(entry)) count += 1;
        }
        const brokenVisible = brokenRow ? await visible(brokenRow) : false;
        return ok(VerifyResult, readerVerify(result, count, brokenRow, brokenVisible));
      },
    );

    app.get(
      '/api/audit/export',
      { preHandler: kit.guard('audit:read'), config: { produces: 'application/x-ndjson' } },
      async (request, reply) => {
        const visible = filterFor(kit.session(request).roles);
        const lines: string[] = [];
        for await (const entry of audit.stream()) {
          if (!(await visible(entry))) continue;
          const { cursor: _cursor, ...row } = toRow(entry, seal);
          lines.push(JSON.stringify(row));
        }
        reply.header('content-type', 'application/x-ndjson; charset=utf-8');
        reply.header('content-disposition', 'attachment; filename="audit.jsonl"');
        reply.header('cache-control', 'no-store');
        return reply.send(lines.length ? `${lines.join('\n')}\n` : '');
      },
    );
  };
}
