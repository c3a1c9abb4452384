/**
 * Evidence pack figures (R5): incident figures for a date range, as JSON and CSV. Figures only: counts by kind and
 * category and times to acknowledge, never an incident's content (D1). Governors, who "regularly monitor e-safety
 * incident logs", count every incident; staff roles count the incidents they may see (R6: a concern about the head is
 * never counted in the head's figures).
 */
import { Type } from '@sinclair/typebox';
import { IncidentStatsView } from '../../../schemas/api.js';
import { IsoDate } from '../../../schemas/common.js';
import { checkSchema } from '../../../schemas/validate.js';
import { type IncidentStats, incidentStats } from '../../incidents/incident-stats.js';
import type { Incident, IncidentStore } from '../../incidents/incident-store.js';
import { canSeeIncident } from '../../incidents/visibility.js';
import { addDays, zonedTime } from '../../policy/calendar.js';
import type { StaffRole } from '../../users/roles.js';
import { ok } from '../answer.js';
import type { RouteModule } from '../http-server.js';

const Query = Type.Object({ from: IsoDate, to: IsoDate }, { additionalProperties: false });

export interface EvidenceRouteDeps {
  incidents: Pick<IncidentStore, 'all'>;
  timeZone: string;
}

/** Whose incidents a role's figures count (see the file comment). */
export function countsIncident(
  roles: readonly StaffRole[],
  incident: Pick<Incident, 'routeTo' | 'status' | 'kind'>,
): boolean {
  return roles.includes('governor') || canSeeIncident(roles, incident);
}

/** The figures as CSV rows: one per category, then the totals. Minutes, rounded to one decimal. */
export function incidentFiguresCsv(stats: IncidentStats & { from: string; to: string }): string {
  const minutes = (ms: number | null) => (ms === null ? '' : (ms / 60_000).toFixed(1));
  const rows = [
    [
      'from',
      'to',
      'category',
      'incidents',
      'acknowledged',
      'median_minutes_to_acknowledge',
      'longest_minutes',
    ],
    ...stats.byCategory.map((c) => [
      stats.from,
      stats.to,
      c.category,
      c.count,
      c.acknowledged,
      minutes(c.medianAckMs),
      minutes(c.longestAckMs),
    ]),
    [
      stats.from,
      stats.to,
      'all',
      stats.total,
      stats.acknowledge.count,
      minutes(stats.acknowledge.medianMs),
      minutes(stats.acknowledge.maxMs),
    ],
  ];
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

/** RFC 4180 quoting, and a leading = + - @ neutralised so a spreadsheet never runs a cell as a formula. */
function csvCell(value: unknown): string {
  let text = String(value ?? '');
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function evidenceRoutes(deps: EvidenceRouteDeps): RouteModule {
  return (app, kit) => {
    const figures = async (roles: readonly StaffRole[], from: string, to: string) => {
      const counted: Incident[] = [];
      for await (const incident of deps.incidents.all())
        if (countsIncident(roles, incident)) counted.push(incident);
      const start = zonedTime(from, 0, deps.timeZone);
      const end = zonedTime(addDays(to, 1), 0, deps.timeZone);
      return { from, to, ...incidentStats(counted, start, end) };
    };
    const query = (raw: unknown) => {
      const q = checkSchema('evidence query', Query, raw ?? {});
      if (!q.ok) return q.error.problems;
      if (q.value.from > q.value.to) return ['/to: must not be before from'];
      return q.value;
    };

    app.get(
      '/api/evidence/incidents',
      { preHandler: kit.guard('incidents:read'), config: { response: IncidentStatsView } },
      async (request, reply) => {
        const q = query(request.query);
        if (Array.isArray(q)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', q);
        return ok(IncidentStatsView, await figures(kit.session(request).roles, q.from, q.to));
      },
    );

    app.get(
      '/api/evidence/incidents.csv',
      { preHandler: kit.guard('incidents:read'), config: { produces: 'text/csv' } },
      async (request, reply) => {
        const q = query(request.query);
        if (Array.isArray(q)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', q);
        const csv = incidentFiguresCsv(await figures(kit.session(request).roles, q.from, q.to));
        reply.header('content-type', 'text/csv; charset=utf-8');
        reply.header('content-disposition', `attachment; filename="incident-figures-${q.from}-${q.to}.csv"`);
        return csv;
      },
    );
  };
}
