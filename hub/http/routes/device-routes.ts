/**
 * Device administration API (S4, S5): approve a pending device into a room, revoke, re-key, register, and issue
 * enrolment tokens. Listing is GET /api/devices (http-server.ts, 'devices:read'). Writes need 'devices:approve'.
 * A secret or token is in the response once and never again.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  AddedDevice,
  IssuedToken,
  PublicDevice,
  PublicToken,
  RotatedDevice,
  SoftwareStatus,
} from '../../../schemas/api.js';
import { IsoDate } from '../../../schemas/common.js';
import { LockerMode } from '../../../schemas/messages.js';
import type { DeviceAdmin } from '../../devices/device-admin.js';
import { softwareStatus } from '../../devices/software-version.js';
import type { RouteModule } from '../http-server.js';
import { answerOrRefuse } from '../route-action.js';

const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,47}$' });
const ApproveBody = Type.Object(
  {
    room: Slug,
    lockerMode: Type.Optional(LockerMode),
    // D4: the hardware inventory's serial and installed date, entered by the approver.
    serial: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    installed: Type.Optional(IsoDate),
  },
  { additionalProperties: false },
);
const AddBody = Type.Object(
  { id: Slug, room: Slug, lockerMode: LockerMode, serial: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);
const TokenBody = Type.Object(
  {
    maxUses: Type.Integer({ minimum: 1, maximum: 1000 }),
    ttlMinutes: Type.Integer({ minimum: 1, maximum: 30 * 24 * 60 }),
  },
  { additionalProperties: false },
);

export function deviceRoutes(
  admin: DeviceAdmin,
  software: { hubVersion: string; expected?: string | undefined },
): RouteModule {
  return (app, kit) => {
    const who = (request: FastifyRequest) => kit.session(request).username;
    const guard = { preHandler: kit.guard('devices:approve') };
    // The schema is the one the route's config publishes: tsc holds the action's result to it.
    const run = <S extends TSchema>(reply: FastifyReply, schema: S, action: () => Promise<Static<S>>) =>
      answerOrRefuse(kit, reply, schema, action);

    // S8: which devices run software older than the hub expects.
    app.get(
      '/api/software',
      { preHandler: kit.guard('devices:read'), config: { response: SoftwareStatus } },
      async (_request, reply) =>
        run(reply, SoftwareStatus, async () =>
          softwareStatus(await admin.list(), software.hubVersion, software.expected),
        ),
    );

    app.post<{ Params: { id: string } }>(
      '/api/devices/:id/approve',
      { ...guard, config: { body: ApproveBody, response: PublicDevice } },
      async (request, reply) => {
        const input = kit.body('device-approve', ApproveBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid approval', input);
        return run(reply, PublicDevice, () => admin.approve(request.params.id, input, who(request)));
      },
    );

    app.post<{ Params: { id: string } }>(
      '/api/devices/:id/revoke',
      { ...guard, config: { response: PublicDevice } },
      async (request, reply) => run(reply, PublicDevice, () => admin.revoke(request.params.id, who(request))),
    );

    app.post<{ Params: { id: string } }>(
      '/api/devices/:id/rotate',
      { ...guard, config: { response: RotatedDevice } },
      async (request, reply) =>
        run(reply, RotatedDevice, () => admin.rotate(request.params.id, who(request))),
    );

    app.post(
      '/api/devices',
      { ...guard, config: { body: AddBody, response: AddedDevice } },
      async (request, reply) => {
        const input = kit.body('device-add', AddBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid device', input);
        return run(reply, AddedDevice, () => admin.add(input, who(request)));
      },
    );

    app.get(
      '/api/enrolment-tokens',
      { ...guard, config: { response: Type.Array(PublicToken) } },
      async (_request, reply) => run(reply, Type.Array(PublicToken), () => admin.tokens.list()),
    );

    app.post(
      '/api/enrolment-tokens',
      { ...guard, config: { body: TokenBody, response: IssuedToken } },
      async (request, reply) => {
        const input = kit.body('enrolment-token', TokenBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid token request', input);
        return run(reply, IssuedToken, () => admin.issueToken({ ...input, who: who(request) }));
      },
    );

    app.post<{ Params: { id: string } }>(
      '/api/enrolment-tokens/:id/revoke',
      { ...guard, config: { response: PublicToken } },
      async (request, reply) =>
        run(reply, PublicToken, () => admin.revokeToken(request.params.id, who(request))),
    );
  };
}
