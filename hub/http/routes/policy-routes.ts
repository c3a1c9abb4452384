/**
 * Policy API: the school's timetable, zones and matrix (P8: the dashboard shows it), exemptions (P6) and emergency
 * release. Who may do what is the PERMISSIONS table (S5): teachers request, the Headteacher grants and revokes, and
 * only the Headteacher releases every locker.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import {
  EmergencyEnded,
  EmergencyStarted,
  ExemptionView as ExemptionViewSchema,
  PolicyView as PolicyViewSchema,
  StorageReleaseResult,
} from '../../../schemas/api.js';
import { IsoDate, Slug } from '../../../schemas/common.js';
import type { SchoolModel } from '../../../schemas/config.js';
import { checkSchema } from '../../../schemas/validate.js';
import type { EventBus } from '../../event-bus.js';
import { dayStatus, PolicyError } from '../../policy/calendar.js';
import {
  type Exemption,
  type ExemptionStore,
  InvalidExemptionError,
  statusAt,
} from '../../policy/exemptions.js';
import type { PolicyDriver } from '../../policy/policy-driver.js';
import { SCHOOL_SECTIONS, sectionVersion } from '../../school/school-settings.js';
import { can } from '../../users/roles.js';
import { statusOf } from '../error-status.js';
import type { RouteKit, RouteModule } from '../http-server.js';

const ExemptionBody = Type.Object(
  {
    room: Slug,
    period: Slug,
    date: IsoDate,
    reason: Type.String({
      minLength: 3,
      maxLength: 200,
      description: 'Why the use is authorised. Never name a pupil (D1).',
    }),
  },
  { additionalProperties: false },
);
const RevokeBody = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);
const ConfirmBody = Type.Object({ confirm: Type.Literal(true) }, { additionalProperties: false });
const StorageReleaseBody = Type.Object(
  {
    room: Slug,
    reason: Type.String({ minLength: 3, maxLength: 200, description: 'Why. Never name a pupil (D1).' }),
    confirm: Type.Literal(true),
  },
  { additionalProperties: false },
);
const StorageRelockBody = Type.Object({ room: Slug }, { additionalProperties: false });
const EndBody = Type.Object({ confirm: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const ListQuery = Type.Object(
  { from: Type.Optional(IsoDate), to: Type.Optional(IsoDate), room: Type.Optional(Slug) },
  { additionalProperties: false },
);

/** GET /api/policy: the answer's `data`, declared here where it is built; the dashboard imports this type. */
export type PolicyView = Static<typeof PolicyViewSchema>;

/** GET /api/exemptions: the record plus its status now ('expired' derived). */
export type ExemptionView = Static<typeof ExemptionViewSchema>;

export interface PolicyRouteDeps {
  school: SchoolModel;
  exemptions: ExemptionStore;
  driver: PolicyDriver;
  bus?: EventBus;
}

export function policyRoutes(deps: PolicyRouteDeps): RouteModule {
  const { school, exemptions, driver } = deps;
  const view = (e: Exemption, now: number): ExemptionView => ({ ...e, status: statusAt(e, now) });
  // S6: the store commits each exemption, emergency and storage-release step with its audit entry in one batch.

  function failPolicy(kit: RouteKit, reply: FastifyReply, error: unknown) {
    if (error instanceof InvalidExemptionError)
      return kit.fail(reply, statusOf(error.code), error.code, 'invalid exemption', error.problems);
    if (error instanceof PolicyError) return kit.fail(reply, statusOf(error.code), error.code, error.message);
    throw error;
  }

  return (app, kit) => {
    app.get(
      '/api/policy',
      { preHandler: kit.guard('policy:read'), config: { response: PolicyViewSchema } },
      async () => {
        const now = kit.now();
        const status = driver.status(now);
        const data: PolicyView = {
          site: school.site,
          name: school.name,
          timetable: school.timetable,
          zones: school.zones,
          rooms: school.rooms,
          policy: school.policy,
          // What an editor sends back as If-Match, so a save over someone else's change is refused (409).
          versions: Object.fromEntries(SCHOOL_SECTIONS.map((s) => [s, sectionVersion(school, s)])),
          today: { date: status.date, status: dayStatus(school.timetable, status.date) },
          now: status,
          devices: (await driver.directives(now)).map(({ id, room, lockerMode, directive }) => ({
            id,
            room,
            lockerMode,
            directive,
          })),
        };
        return { status: 'ok', data };
      },
    );

    app.get(
      '/api/exemptions',
      {
        preHandler: kit.guard('policy:read'),
        config: { query: ListQuery, response: Type.Array(ExemptionViewSchema) },
      },
      async (request, reply) => {
        const q = checkSchema('exemptions query', ListQuery, request.query ?? {});
        if (!q.ok) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid query', q.error.problems);
        const now = kit.now();
        return { status: 'ok', data: exemptions.list(q.value).map((e) => view(e, now)) };
      },
    );

    app.post(
      '/api/exemptions',
      {
        preHandler: kit.guard('exemptions:request'),
        config: { body: ExemptionBody, response: ExemptionViewSchema },
      },
      async (request, reply) => {
        const input = kit.body('exemption', ExemptionBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid exemption', input);
        const session = kit.session(request);
        const grant = can(session.roles, 'exemptions:grant');
        const now = kit.now();
        try {
          const e = await exemptions.create(input, session.username, now, grant);
          await driver.idle();
          return reply.code(201).send({ status: 'ok', data: view(e, now) });
        } catch (error) {
          return failPolicy(kit, reply, error);
        }
      },
    );

    app.post(
      '/api/exemptions/:id/grant',
      { preHandler: kit.guard('exemptions:grant'), config: { response: ExemptionViewSchema } },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const session = kit.session(request);
        const now = kit.now();
        try {
          const e = await exemptions.grant(id, session.username, now);
          await driver.idle();
          return { status: 'ok', data: view(e, now) };
        } catch (error) {
          return failPolicy(kit, reply, error);
        }
      },
    );

    app.post(
      '/api/exemptions/:id/revoke',
      {
        preHandler: kit.guard('exemptions:request'),
        config: { body: RevokeBody, response: ExemptionViewSchema },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        request.body ??= {};
        const input = kit.body('revoke', RevokeBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid revoke', input);
        const session = kit.session(request);
        const existing = exemptions.get(id);
        if (!existing) return kit.fail(reply, 404, 'E_NOT_FOUND', `no exemption '${id}'`);
        // A granted exemption is withdrawn by the Headteacher (P6); a request may also be withdrawn by its requester.
        const mayRevoke =
          can(session.roles, 'exemptions:grant') ||
          (existing.status === 'requested' && existing.requestedBy === session.username);
        if (!mayRevoke) return kit.fail(reply, 403, 'E_FORBIDDEN', 'your role may not revoke this exemption');
        const now = kit.now();
        try {
          const e = await exemptions.revoke(id, session.username, now, input.note);
          await driver.idle();
          return { status: 'ok', data: view(e, now) };
        } catch (error) {
          return failPolicy(kit, reply, error);
        }
      },
    );

    app.post(
      '/api/emergency-release',
      {
        preHandler: kit.guard('emergency:release'),
        config: { body: ConfirmBody, response: EmergencyStarted },
      },
      async (request, reply) => {
        const input = kit.body('emergency release', ConfirmBody, request);
        if (Array.isArray(input))
          return kit.fail(reply, 400, 'E_CONFIRM', 'send {"confirm": true} to release every locker', input);
        const session = kit.session(request);
        const now = kit.now();
        const emergency = await exemptions.releaseAll(session.username, now);
        kit.log.warn({ by: session.username, id: emergency.id }, 'emergency release: every locker unlocked');
        await driver.idle();
        return { status: 'ok', data: { emergency, devices: (await driver.directives(now)).length } };
      },
    );

    app.post(
      '/api/emergency-release/end',
      { preHandler: kit.guard('emergency:release'), config: { body: EndBody, response: EmergencyEnded } },
      async (request, reply) => {
        request.body ??= {};
        const input = kit.body('end emergency', EndBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid body', input);
        const session = kit.session(request);
        const now = kit.now();
        try {
          const emergency = await exemptions.endEmergency(session.username, now);
          kit.log.warn({ by: session.username, id: emergency.id }, 'emergency release ended');
          await driver.idle();
          return { status: 'ok', data: { emergency } };
        } catch (error) {
          return failPolicy(kit, reply, error);
        }
      },
    );

    // P2: the head alone releases pupils' phones stored in one room's day-storage locker before home time.
    app.post(
      '/api/stored-phones/release',
      {
        preHandler: kit.guard('emergency:release'),
        config: { body: StorageReleaseBody, response: StorageReleaseResult },
      },
      async (request, reply) => {
        const input = kit.body('stored phones release', StorageReleaseBody, request);
        if (Array.isArray(input))
          return kit.fail(reply, 400, 'E_VALIDATION', 'send the room, a reason and {"confirm": true}', input);
        const session = kit.session(request);
        const now = kit.now();
        try {
          const release = await exemptions.releaseStorage(input.room, input.reason, session.username, now);
          kit.log.warn({ by: session.username, room: input.room }, 'stored phones released');
          await driver.idle();
          return { status: 'ok', data: { release } };
        } catch (error) {
          return failPolicy(kit, reply, error);
        }
      },
    );

    app.post(
      '/api/stored-phones/relock',
      {
        preHandler: kit.guard('emergency:release'),
        config: { body: StorageRelockBody, response: StorageReleaseResult },
      },
      async (request, reply) => {
        const input = kit.body('stored phones relock', StorageRelockBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid body', input);
        const session = kit.session(request);
        const now = kit.now();
        try {
          const release = await exemptions.relockStorage(input.room, session.username, now);
          await driver.idle();
          return { status: 'ok', data: { release } };
        } catch (error) {
          return failPolicy(kit, reply, error);
        }
      },
    );
  };
}
