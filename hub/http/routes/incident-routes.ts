/**
 * Incident API (R2, R3, R4, R6): the inbox with unacknowledged count and age, one incident with its chronology, the
 * workflow steps and the hand-off export. Per-incident visibility (a concern about the head is the governors') is
 * checked on every route; an incident the caller may not see answers 404, so its existence is not disclosed either.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  HandOffRecord,
  Inbox,
  IncidentDetail as IncidentDetailSchema,
  Incident as IncidentSchema,
  IncidentStatsView as IncidentStatsViewSchema,
} from '../../../schemas/api.js';
import { IsoDate, StringEnum } from '../../../schemas/common.js';
import { checkSchema } from '../../../schemas/validate.js';
import { HubError } from '../../errors.js';
import { handOffCsv, handOffRecord, handOffText } from '../../incidents/hand-off.js';
import type { IncidentService } from '../../incidents/incident-service.js';
import { incidentStats } from '../../incidents/incident-stats.js';
import { type Incident, summarise } from '../../incidents/incident-store.js';
import { type IncidentAccess, incidentAccess, restrictedView } from '../../incidents/visibility.js';
import {
  ABOUT_STAFF,
  CATEGORIES,
  CATEGORY_REASON_MAX,
  NOTE_MAX,
  OUTCOME_MAX,
  REFERRAL_AGENCIES,
  ROUTES,
  type WorkflowCommand,
} from '../../incidents/workflow.js';
import { addDays, zonedTime } from '../../policy/calendar.js';
import { statusOf } from '../error-status.js';
import type { RouteKit, RouteModule } from '../http-server.js';

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });
const NoteBody = Type.Object(
  {
    text: Text(NOTE_MAX),
    referral: Type.Optional(
      Type.Object(
        {
          agency: StringEnum(REFERRAL_AGENCIES),
          date: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }),
          reference: Type.Optional(Type.String({ maxLength: 64 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
const CloseBody = Type.Object(
  { outcome: Text(OUTCOME_MAX), category: Type.Optional(StringEnum(CATEGORIES)) },
  { additionalProperties: false },
);
const AcknowledgeBody = Type.Object(
  { category: Type.Optional(StringEnum(CATEGORIES)), aboutStaff: Type.Optional(StringEnum(ABOUT_STAFF)) },
  { additionalProperties: false },
);
const CategoryBody = Type.Object(
  { category: StringEnum(CATEGORIES), reason: Text(CATEGORY_REASON_MAX) },
  { additionalProperties: false },
);
const RouteBody = Type.Object(
  { to: StringEnum(ROUTES), text: Type.Optional(Text(NOTE_MAX)) },
  { additionalProperties: false },
);

const STATUS_FILTERS = ['open', 'closed', 'all'] as const;
const StatsQuery = Type.Object({ from: IsoDate, to: IsoDate }, { additionalProperties: false });
const REF = /^[A-Z2-9]{4,16}$/;

export interface IncidentRouteDeps {
  service: IncidentService;
  /** The school's time zone, for the hand-off record's local date and time. */
  timeZone: string;
}

/** GET /api/incidents: the answer's `data`, declared here where it is built; the dashboard imports this type. */
export type InboxView = Static<typeof Inbox>;
/** GET /api/incidents/stats?from=&to=: figures only. */
export type IncidentStatsView = Static<typeof IncidentStatsViewSchema>;
/** GET /api/incidents/:id: the incident with its chronology (`steps`, oldest first). */
export type IncidentDetail = Static<typeof IncidentDetailSchema>;

export function incidentRoutes(deps: IncidentRouteDeps): RouteModule {
  const { service } = deps;
  const store = service.store;

  return (app, kit) => {
    /** The incident and what the caller may do with it; 'none' is answered as 404, so existence is not disclosed. */
    const lookup = async (
      request: FastifyRequest,
    ): Promise<{ incident: Incident; access: Exclude<IncidentAccess, 'none'> } | undefined> => {
      const id = (request.params as { id: string }).id;
      const incident = REF.test(id) ? await store.getByRef(id) : await store.get(id);
      if (!incident) return undefined;
      const access = incidentAccess(kit.session(request).roles, incident);
      return access === 'none' ? undefined : { incident, access };
    };
    const notYet = (reply: FastifyReply) =>
      kit.fail(reply, 403, 'E_NOT_YET', 'the coordinator or DSL reads this report first');

    app.get(
      '/api/incidents',
      { preHandler: kit.guard('incidents:read'), config: { response: Inbox } },
      async (request, reply) => {
        const query = request.query as { status?: string; limit?: string };
        const status = query.status ?? 'all';
        if (!(STATUS_FILTERS as readonly string[]).includes(status))
          return kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', [
            `status: one of ${STATUS_FILTERS.join(', ')}`,
          ]);
        const limit = query.limit === undefined ? 200 : Number(query.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          return kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', ['limit: an integer from 1 to 1000']);
        const { roles } = kit.session(request);
        const now = kit.now();
        const items: InboxView['items'] = [];
        let unacknowledged = 0;
        let oldestUnacknowledgedAt: number | null = null;
        // Newest first; the count covers every visible incident, not just the page.
        for (const incident of await store.list({ limit: 100_000 })) {
          const access = incidentAccess(roles, incident);
          if (access === 'none') continue;
          if (incident.status === 'reported') {
            unacknowledged += 1;
            oldestUnacknowledgedAt = Math.min(
              oldestUnacknowledgedAt ?? incident.receivedAt,
              incident.receivedAt,
            );
          }
          const open = incident.status !== 'closed';
          if (items.length < limit && (status === 'all' || (status === 'open') === open))
            items.push({
              ...(access === 'full' ? summarise(incident) : restrictedView(incident)),
              ageMs: now - incident.receivedAt,
            });
        }
        const data: InboxView = {
          items,
          unacknowledged,
          oldestUnacknowledgedAgeMs: oldestUnacknowledgedAt === null ? null : now - oldestUnacknowledgedAt,
        };
        return { status: 'ok', data };
      },
    );

    // R5: figures for the evidence pack, local dates inclusive; only incidents the caller may see (R6), no free text.
    app.get(
      '/api/incidents/stats',
      {
        preHandler: kit.guard('incidents:read'),
        config: { query: StatsQuery, response: IncidentStatsViewSchema },
      },
      async (request, reply) => {
        const q = checkSchema('incident stats query', StatsQuery, request.query ?? {});
        if (!q.ok) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', q.error.problems);
        if (q.value.from > q.value.to)
          return kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', ['/to: must not be before from']);
        const { roles } = kit.session(request);
        const visible: Incident[] = [];
        for await (const incident of store.all())
          if (incidentAccess(roles, incident) === 'full') visible.push(incident);
        const from = zonedTime(q.value.from, 0, deps.timeZone);
        const to = zonedTime(addDays(q.value.to, 1), 0, deps.timeZone);
        const data: IncidentStatsView = {
          from: q.value.from,
          to: q.value.to,
          ...incidentStats(visible, from, to),
        };
        return { status: 'ok', data };
      },
    );

    app.get(
      '/api/incidents/:id',
      { preHandler: kit.guard('incidents:read'), config: { response: IncidentDetailSchema } },
      async (request, reply) => {
        const found = await lookup(request);
        if (!found) return kit.fail(reply, 404, 'E_NOT_FOUND', 'no such incident');
        if (found.access !== 'full') return notYet(reply);
        const { incident } = found;
        // `steps` is the chronology, oldest first.
        const data: IncidentDetail = { ...incident, ageMs: kit.now() - incident.receivedAt };
        return { status: 'ok', data };
      },
    );

    const step = (
      path: string,
      permission: 'incidents:write' | 'incidents:route',
      command: (request: FastifyRequest) => WorkflowCommand | string[],
      body?: TSchema,
    ) =>
      app.post(
        `/api/incidents/:id/${path}`,
        {
          preHandler: kit.guard(permission),
          config: body ? { body, response: IncidentSchema } : { response: IncidentSchema },
        },
        async (request, reply) => {
          const found = await lookup(request);
          if (!found) return kit.fail(reply, 404, 'E_NOT_FOUND', 'no such incident');
          if (found.access !== 'full') return notYet(reply);
          const cmd = command(request);
          if (Array.isArray(cmd)) return kit.fail(reply, 400, 'E_VALIDATION', `invalid ${path} body`, cmd);
          const { username, roles } = kit.session(request);
          return apply(kit, reply, () => service.apply(found.incident.id, cmd, `user:${username}`, roles));
        },
      );

    // R4, R6: a category, and whether the report is about a member of staff, may be given at acknowledgement.
    step(
      'acknowledge',
      'incidents:write',
      (request) => {
        const input = checkSchema('acknowledge', AcknowledgeBody, request.body ?? {});
        if (!input.ok) return input.error.problems;
        return { type: 'acknowledge', ...input.value };
      },
      AcknowledgeBody,
    );
    step(
      'category',
      'incidents:write',
      (request) => {
        const input = kit.body('category', CategoryBody, request);
        if (Array.isArray(input)) return input;
        return { type: 'categorise', category: input.category, reason: input.reason };
      },
      CategoryBody,
    );
    step(
      'note',
      'incidents:write',
      (request) => {
        const input = kit.body('note', NoteBody, request);
        if (Array.isArray(input)) return input;
        return { type: 'note', text: input.text, ...(input.referral ? { referral: input.referral } : {}) };
      },
      NoteBody,
    );
    step(
      'close',
      'incidents:write',
      (request) => {
        const input = kit.body('close', CloseBody, request);
        if (Array.isArray(input)) return input;
        return {
          type: 'close',
          outcome: input.outcome,
          ...(input.category ? { category: input.category } : {}),
        };
      },
      CloseBody,
    );
    // R6: a concern about staff goes to the head, about the head to the chair of governors.
    step(
      'route',
      'incidents:route',
      (request) => {
        const input = kit.body('route', RouteBody, request);
        if (Array.isArray(input)) return input;
        return { type: 'route', to: input.to, ...(input.text !== undefined ? { text: input.text } : {}) };
      },
      RouteBody,
    );

    app.get(
      '/api/incidents/:id/export',
      { preHandler: kit.guard('incidents:read'), config: { response: HandOffRecord } },
      async (request, reply) => {
        const found = await lookup(request);
        if (!found) return kit.fail(reply, 404, 'E_NOT_FOUND', 'no such incident');
        if (found.access !== 'full') return notYet(reply);
        const { incident } = found;
        const format = (request.query as { format?: string }).format ?? 'json';
        const record = handOffRecord(incident, deps.timeZone);
        const filename = `incident-${incident.ref}`;
        if (format === 'json') return { status: 'ok', data: record };
        if (format === 'text' || format === 'csv') {
          reply.header(
            'content-type',
            format === 'csv' ? 'text/csv; charset=utf-8' : 'text/plain; charset=utf-8',
          );
          reply.header(
            'content-disposition',
            `attachment; filename="${filename}.${format === 'csv' ? 'csv' : 'txt'}"`,
          );
          reply.header('cache-control', 'no-store');
          return reply.send(format === 'csv' ? handOffCsv(record) : handOffText(record));
        }
        return kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', ['format: one of json, text, csv']);
      },
    );
  };
}

async function apply(kit: RouteKit, reply: FastifyReply, run: () => Promise<Incident>) {
  try {
    const incident = await run();
    return { status: 'ok', data: incident };
  } catch (error) {
    if (error instanceof HubError) return kit.fail(reply, statusOf(error.code), error.code, error.message);
    throw error;
  }
}
