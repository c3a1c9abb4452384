/** Audit log API (S6): view (newest first, paged by sequence number), verify the hash chain, export as JSON lines. */
import type { AuditLog } from '../../audit/audit-log.js';
import type { RouteModule } from '../http-server.js';

export function auditRoutes(audit: AuditLog): RouteModule {
  return (app, kit) => {
    app.get('/api/audit', { preHandler: kit.guard('audit:read') }, async (request, reply) => {
      const query = request.query as { before?: string; limit?: string };
      const limit = query.limit === undefined ? 100 : Number(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        return kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', ['limit: an integer from 1 to 1000']);
      const before = query.before === undefined ? undefined : Number(query.before);
      if (before !== undefined && (!Number.isInteger(before) || before < 1))
        return kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', ['before: a sequence number']);
      return {
        status: 'ok',
        data: await audit.list({ limit, ...(before !== undefined ? { beforeSeq: before } : {}) }),
      };
    });

    app.get('/api/audit/verify', { preHandler: kit.guard('audit:read') }, async () => ({
      status: 'ok',
      data: await audit.verify(),
    }));

    app.get(
      '/api/audit/export',
      { preHandler: kit.guard('audit:read'), config: { produces: 'application/x-ndjson' } },
      async (_request, reply) => {
        const lines: string[] = [];
        for await (const entry of audit.stream()) lines.push(JSON.stringify(entry));
        reply.header('content-type', 'application/x-ndjson; charset=utf-8');
        reply.header('content-disposition', 'attachment; filename="audit.jsonl"');
        reply.header('cache-control', 'no-store');
        return reply.send(lines.length ? `${lines.join('\n')}\n` : '');
      },
    );
  };
}
