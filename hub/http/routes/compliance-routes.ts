/**
 * Compliance API (D5, R5): per room per lesson, and the day / week / term roll-ups, read from InfluxDB. The
 * dashboard reads roll-ups for long ranges, never raw locker points.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ComplianceResult as ComplianceResultSchema,
  type ComplianceRow as ComplianceRowSchema,
} from '../../../schemas/api.js';
import { IsoDate, Slug, StringEnum } from '../../../schemas/common.js';
import type { SchoolModel } from '../../../schemas/config.js';
import { checkSchema } from '../../../schemas/validate.js';
import { toCsv } from '../../../shared/csv.js';
import { addDays, localClock, termOf, weekStart, zonedTime } from '../../policy/calendar.js';
import { msTime, quoteIdent, quoteString } from '../../store/influxql.js';
import type { MetricsStore } from '../../store/metrics-store.js';
import type { RouteKit, RouteModule } from '../http-server.js';

const LEVELS = {
  lesson: 'compliance_lesson',
  day: 'compliance_day',
  week: 'compliance_week',
  term: 'compliance_term',
};

const ComplianceQuery = Type.Object(
  {
    from: Type.Optional(IsoDate),
    to: Type.Optional(IsoDate),
    room: Type.Optional(Slug),
    level: Type.Optional(StringEnum(['lesson', 'day', 'week', 'term'] as const)),
  },
  { additionalProperties: false },
);

const MAX_DAYS = 400;

export type ComplianceLevel = keyof typeof LEVELS;

/**
 * The InfluxQL the compliance API runs for a level and an inclusive local date range (exported so the benchmark times
 * exactly this query), with the epoch range it covers.
 */
export function complianceQuery(
  school: SchoolModel,
  q: { level: ComplianceLevel; from: string; to: string; room?: string | undefined },
): { influxql: string; start: number; end: number } {
  const tz = school.timetable.timezone;
  // Roll-up points sit at the start of their week or term: include the one that covers `from`.
  const first =
    q.level === 'week'
      ? weekStart(q.from)
      : q.level === 'term'
        ? (termOf(school.timetable, q.from)?.start ?? q.from)
        : q.from;
  const start = zonedTime(first, 0, tz);
  const end = zonedTime(addDays(q.to, 1), 0, tz);
  const where = [
    `time >= ${msTime(start)}`,
    `time < ${msTime(end)}`,
    `${quoteIdent('site')} = ${quoteString(school.site)}`,
    ...(q.room ? [`${quoteIdent('room')} = ${quoteString(q.room)}`] : []),
  ];
  return {
    influxql: `SELECT * FROM ${quoteIdent(LEVELS[q.level])} WHERE ${where.join(' AND ')}`,
    start,
    end,
  };
}

/** GET /api/compliance: the answer's `data`, typed from its schema (schemas/api.ts), which the route publishes. */
export type ComplianceResult = Static<typeof ComplianceResultSchema>;
export type ComplianceRow = Static<typeof ComplianceRowSchema>;

export function complianceRoutes(deps: { store: MetricsStore; school: SchoolModel }): RouteModule {
  const { store, school } = deps;
  const tz = school.timetable.timezone;

  async function rows(request: FastifyRequest, reply: FastifyReply, kit: RouteKit) {
    const q = checkSchema('compliance query', ComplianceQuery, request.query ?? {});
    if (!q.ok) return { error: kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', q.error.problems) };
    const today = localClock(kit.now(), tz).date;
    const to = q.value.to ?? today;
    const from = q.value.from ?? addDays(to, -6);
    const level = q.value.level ?? 'lesson';
    const { influxql, start, end } = complianceQuery(school, { level, from, to, room: q.value.room });
    if (from > to)
      return { error: kit.fail(reply, 400, 'E_VALIDATION', 'from is after to', ['from: after to']) };
    if (end - start > MAX_DAYS * 86_400_000)
      return { error: kit.fail(reply, 400, 'E_RANGE', `at most ${MAX_DAYS} days`, ['from: range too long']) };
    const series = await store.query(influxql);
    const columns = series[0]?.columns ?? [];
    const out = series.flatMap((s) =>
      s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) as ComplianceRow),
    );
    const result: ComplianceResult = { level, from, to, columns, rows: out };
    return result;
  }

  return (app, kit) => {
    app.get(
      '/api/compliance',
      {
        preHandler: kit.guard('compliance:read'),
        config: { query: ComplianceQuery, response: ComplianceResultSchema },
      },
      async (request, reply) => {
        const result = await rows(request, reply, kit);
        if ('error' in result) return result.error;
        return { status: 'ok', data: result };
      },
    );

    app.get(
      '/api/compliance.csv',
      { preHandler: kit.guard('compliance:read'), config: { query: ComplianceQuery, produces: 'text/csv' } },
      async (request, reply) => {
        const result = await rows(request, reply, kit);
        if ('error' in result) return result.error;
        const columns = result.columns.length > 0 ? result.columns : ['time'];
        const lines = [
          columns,
          // A row holds whatever columns InfluxDB answered with (its schema allows more than it names).
          ...result.rows.map((row) => {
            const r = row as Record<string, unknown>;
            return columns.map((c) => (c === 'time' ? new Date(Number(r[c])).toISOString() : r[c]));
          }),
        ];
        reply.header('content-type', 'text/csv; charset=utf-8');
        reply.header(
          'content-disposition',
          `attachment; filename="compliance-${result.level}-${result.from}-${result.to}.csv"`,
        );
        return toCsv(lines);
      },
    );
  };
}
