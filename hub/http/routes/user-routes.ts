/**
 * Account administration (S1, S5): admins list, add, re-role, disable and reset the second factor of staff accounts.
 * Admin is not an incident role: nothing here reveals incident content. Every change is audited by the store (S6) and
 * ends the account's live sessions.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { StringEnum } from '../../../schemas/common.js';
import type { EventBus } from '../../event-bus.js';
import { STAFF_ROLES } from '../../users/roles.js';
import { UserError, type UserStore } from '../../users/user-store.js';
import type { RouteKit, RouteModule } from '../http-server.js';

const Roles = Type.Array(StringEnum(STAFF_ROLES), {
  minItems: 1,
  maxItems: STAFF_ROLES.length,
  uniqueItems: true,
});
const AddBody = Type.Object(
  {
    username: Type.String({ minLength: 2, maxLength: 32 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
    roles: Roles,
  },
  { additionalProperties: false },
);
const RolesBody = Type.Object({ roles: Roles }, { additionalProperties: false });
const DisableBody = Type.Object({ disabled: Type.Boolean() }, { additionalProperties: false });
const PasswordBody = Type.Object(
  { password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

function failUser(kit: RouteKit, reply: FastifyReply, error: unknown) {
  if (!(error instanceof UserError)) throw error;
  const status =
    error.code === 'E_NOT_FOUND'
      ? 404
      : error.code === 'E_USER_EXISTS' || error.code === 'E_LAST_ADMIN'
        ? 409
        : 400;
  return kit.fail(
    reply,
    status,
    error.code,
    error.message,
    error.problems.length ? error.problems : undefined,
  );
}

export function userRoutes(deps: { users: UserStore; bus: EventBus }): RouteModule {
  const { users, bus } = deps;
  return (app, kit) => {
    const actor = (request: Parameters<RouteKit['session']>[0]) => `user:${kit.session(request).username}`;
    const name = (request: { params: unknown }) => (request.params as { name: string }).name;

    app.get('/api/users', { preHandler: kit.guard('users:read') }, async () => ({
      status: 'ok',
      data: await users.list(),
    }));

    app.post(
      '/api/users',
      { preHandler: kit.guard('users:write'), config: { body: AddBody } },
      async (request, reply) => {
        const input = kit.body('user', AddBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid user', input);
        try {
          const user = await users.add(
            input.username,
            input.password,
            input.roles,
            kit.now(),
            actor(request),
          );
          return reply.code(201).send({ status: 'ok', data: user });
        } catch (error) {
          return failUser(kit, reply, error);
        }
      },
    );

    const change = (
      path: string,
      run: (request: Parameters<RouteKit['session']>[0]) => Promise<unknown> | string[],
      body?: TSchema,
    ) =>
      app.post(
        `/api/users/:name/${path}`,
        { preHandler: kit.guard('users:write'), config: body ? { body } : {} },
        async (request, reply) => {
          try {
            const result = await run(request);
            if (Array.isArray(result)) return kit.fail(reply, 400, 'E_VALIDATION', `invalid ${path}`, result);
            bus.emit('account.changed', { username: name(request) });
            return { status: 'ok', data: result ?? null };
          } catch (error) {
            return failUser(kit, reply, error);
          }
        },
      );

    change(
      'role',
      (request) => {
        const input = kit.body('role', RolesBody, request);
        return Array.isArray(input) ? input : users.setRoles(name(request), input.roles, actor(request));
      },
      RolesBody,
    );
    change(
      'disable',
      (request) => {
        const input = kit.body('disable', DisableBody, request);
        return Array.isArray(input)
          ? input
          : users.setDisabled(name(request), input.disabled, actor(request));
      },
      DisableBody,
    );
    change('reset-totp', (request) => users.resetTotp(name(request), actor(request)));
    change(
      'password',
      (request) => {
        const input = kit.body('password', PasswordBody, request);
        return Array.isArray(input)
          ? input
          : users.setPassword(name(request), input.password, kit.now(), actor(request)).then(() => null);
      },
      PasswordBody,
    );
  };
}
