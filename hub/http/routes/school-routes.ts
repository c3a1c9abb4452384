/**
 * School model write API (S5: admin only, 'school:write'; S6: every change audited by SchoolSettings):
 *   PUT  /api/school/timetable     Timetable
 *   PUT  /api/school/zones-rooms   {zones, rooms}
 *   PUT  /api/school/policy        Policy (preset becomes 'custom' once the matrix differs from the named preset)
 *   POST /api/school/policy/preset {preset: 'seed' | 'dfe-2026'}: the preset's matrix, keeping warning and grace
 * Field errors are `path: message` relative to the body sent (`/periods/0/start`), as the dashboard shows them.
 * `If-Match: "<version>"` (GET /api/policy `versions`) makes a save conditional: 409 E_CONFLICT when someone else
 * saved that section since; without it the save is unconditional (scripts).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Policy, Room, Timetable, Zone } from '../../../schemas/config.js';
import { presetPolicy } from '../../policy/presets.js';
import { friendlyProblems, sameMatrix } from '../../school/school-checks.js';
import {
  SchoolConflictError,
  SchoolModelError,
  type SchoolSection,
  type SchoolSettings,
} from '../../school/school-settings.js';
import { statusOf } from '../error-status.js';
import type { RouteKit, RouteModule } from '../http-server.js';

const ZonesRooms = Type.Object(
  { zones: Type.Array(Zone, { maxItems: 100 }), rooms: Type.Array(Room, { maxItems: 500 }) },
  { additionalProperties: false },
);
const PresetBody = Type.Object(
  { preset: Type.Union([Type.Literal('seed'), Type.Literal('dfe-2026')]) },
  { additionalProperties: false },
);

/** Model paths → body paths: `/timetable/periods/0/end` → `/periods/0/end` for the timetable route. */
export function relativeProblems(problems: readonly string[], section: SchoolSection): string[] {
  const prefix = section === 'timetable' ? '/timetable' : section === 'policy' ? '/policy' : '';
  return friendlyProblems(
    problems.map((p) => (prefix && p.startsWith(`${prefix}/`) ? p.slice(prefix.length) : p)),
  );
}

/** The version an editor saw, from `If-Match: "v"` (or W/"v", or bare); undefined when absent. */
function ifMatch(request: FastifyRequest): string | undefined {
  const header = request.headers['if-match']?.trim();
  if (!header || header === '*') return undefined;
  return header.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

export function schoolRoutes(settings: SchoolSettings): RouteModule {
  return (app, kit) => {
    const refuse = (reply: FastifyReply, problems: string[], section: SchoolSection) =>
      kit.fail(
        reply,
        400,
        'E_VALIDATION',
        `the ${section} was not saved`,
        relativeProblems(problems, section),
      );

    const save = async (
      k: RouteKit,
      request: FastifyRequest,
      reply: FastifyReply,
      section: SchoolSection,
      patch: Parameters<SchoolSettings['update']>[2],
    ) => {
      try {
        const actor = k.session(request).username;
        const school = await settings.update(actor, section, patch, ifMatch(request));
        const data =
          section === 'timetable'
            ? school.timetable
            : section === 'policy'
              ? school.policy
              : { zones: school.zones, rooms: school.rooms };
        return { status: 'ok', data };
      } catch (error) {
        if (error instanceof SchoolConflictError)
          return k.fail(reply, statusOf(error.code), error.code, error.message);
        if (error instanceof SchoolModelError) return refuse(reply, error.problems, section);
        k.log.error({ err: error, section }, 'school model not saved');
        return k.fail(reply, 500, 'E_INTERNAL', 'could not save the change; nothing was changed');
      }
    };

    app.put(
      '/api/school/timetable',
      { preHandler: kit.guard('school:write'), config: { body: Timetable, response: Timetable } },
      async (request, reply) => {
        const input = kit.body('timetable', Timetable, request);
        if (Array.isArray(input)) return refuse(reply, input, 'timetable');
        return save(kit, request, reply, 'timetable', { timetable: input });
      },
    );

    app.put(
      '/api/school/zones-rooms',
      { preHandler: kit.guard('school:write'), config: { body: ZonesRooms, response: ZonesRooms } },
      async (request, reply) => {
        const input = kit.body('zones and rooms', ZonesRooms, request);
        if (Array.isArray(input)) return refuse(reply, input, 'zones-rooms');
        return save(kit, request, reply, 'zones-rooms', input);
      },
    );

    app.put(
      '/api/school/policy',
      { preHandler: kit.guard('school:write'), config: { body: Policy, response: Policy } },
      async (request, reply) => {
        const input = kit.body('policy', Policy, request);
        if (Array.isArray(input)) return refuse(reply, input, 'policy');
        // The label never claims a preset the matrix no longer is (P8: the dashboard shows what is enforced).
        const preset =
          input.preset !== 'custom' && !sameMatrix(input.matrix, presetPolicy(input.preset).matrix)
            ? 'custom'
            : input.preset;
        return save(kit, request, reply, 'policy', { policy: { ...input, preset } });
      },
    );

    app.post(
      '/api/school/policy/preset',
      { preHandler: kit.guard('school:write'), config: { body: PresetBody, response: Policy } },
      async (request, reply) => {
        const input = kit.body('policy preset', PresetBody, request);
        if (Array.isArray(input)) return refuse(reply, input, 'policy');
        const { warningMinutes, graceMinutes } = settings.school.policy;
        const { matrix } = presetPolicy(input.preset);
        return save(kit, request, reply, 'policy', {
          policy: { preset: input.preset, warningMinutes, graceMinutes, matrix },
        });
      },
    );
  };
}
