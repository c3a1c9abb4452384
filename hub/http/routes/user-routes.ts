/**
 * Account administration (S1, S5): admins list, add, re-role, disable and reset staff accounts; the head or DSL
 * approves the changes that touch a report-reading role (hub/users/account-changes.ts). Admin is not an incident
 * role: nothing here reveals incident content. Every change is audited in the same batch as the change (S6) and ends
 * the account's live sessions.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  AccountChange,
  NoData,
  PendingView as PendingViewSchema,
  UserView as UserViewSchema,
} from '../../../schemas/api.js';
import { StringEnum } from '../../../schemas/common.js';
import type { EventBus } from '../../event-bus.js';
import type { AccountChanges, ChangeOutcome, ChangeRequest } from '../../users/account-changes.js';
import { can, STAFF_ROLES } from '../../users/roles.js';
import { UserError, type UserStore } from '../../users/user-store.js';
import { ok } from '../answer.js';
import { statusOf } from '../error-status.js';
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
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
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
  return kit.fail(
    reply,
    statusOf(error.code),
    error.code,
    error.message,
    error.problems.length ? error.problems : undefined,
  );
}

export function userRoutes(deps: { users: UserStore; changes: AccountChanges; bus: EventBus }): RouteModule {
  const { users, changes, bus } = deps;
  return (app, kit) => {
    const actorOf = (request: FastifyRequest) => {
      const { username, roles } = kit.session(request);
      return { username, roles };
    };
    const name = (request: { params: unknown }) => (request.params as { name: string }).name;
    /** Applied now (sessions of the account end), or 202 with the pending change a second person must approve. */
    const answer = (reply: FastifyReply, username: string, outcome: ChangeOutcome, created = false) => {
      if (!outcome.applied) return reply.code(202).send(ok(AccountChange, { pending: outcome.pending }));
      bus.emit('account.changed', { username });
      return reply.code(created ? 201 : 200).send(ok(AccountChange, outcome.user));
    };

    app.get(
      '/api/users',
      { preHandler: kit.guard('users:read'), config: { response: Type.Array(UserViewSchema) } },
      async () => ok(Type.Array(UserViewSchema), await users.list()),
    );

    app.post(
      '/api/users',
      { preHandler: kit.guard('users:write'), config: { body: AddBody, response: AccountChange } },
      async (request, reply) => {
        const input = kit.body('user', AddBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid user', input);
        try {
          // Checks name, password and roles before anything is kept, pending or not.
          const record = await users.newRecord(input.username, input.password, input.roles, kit.now());
          const outcome = await changes.request(actorOf(request), {
            kind: 'add',
            username: record.username,
            roles: record.roles,
            passwordHash: record.passwordHash,
            ...(input.email ? { email: input.email } : {}),
          });
          return answer(reply, record.username, outcome, true);
        } catch (error) {
          return failUser(kit, reply, error);
        }
      },
    );

    const change = (
      path: string,
      build: (request: FastifyRequest) => Promise<ChangeRequest | string[]>,
      body?: TSchema,
    ) =>
      app.post(
        `/api/users/:name/${path}`,
        {
          preHandler: kit.guard('users:write'),
          config: body ? { body, response: AccountChange } : { response: AccountChange },
        },
        async (request, reply) => {
          try {
            const built = await build(request);
            if (Array.isArray(built)) return kit.fail(reply, 400, 'E_VALIDATION', `invalid ${path}`, built);
            return answer(reply, built.username, await changes.request(actorOf(request), built));
          } catch (error) {
            return failUser(kit, reply, error);
          }
        },
      );

    change(
      'role',
      async (request) => {
        const input = kit.body('role', RolesBody, request);
        return Array.isArray(input) ? input : { kind: 'roles', username: name(request), roles: input.roles };
      },
      RolesBody,
    );
    change('reset-totp', async (request) => ({ kind: 'reset-totp', username: name(request) }));
    change(
      'password',
      async (request) => {
        const input = kit.body('password', PasswordBody, request);
        if (Array.isArray(input)) return input;
        const username = name(request);
        return {
          kind: 'password',
          username,
          passwordHash: await users.hashNewPassword(username, input.password),
        };
      },
      PasswordBody,
    );

    // Disabling takes access away and never grants it: at once, by an admin, never to the admin's own account.
    // Enabling gives it back: for an account that reads reports, only once the head or the DSL approves (S5).
    app.post(
      '/api/users/:name/disable',
      { preHandler: kit.guard('users:write'), config: { body: DisableBody, response: AccountChange } },
      async (request, reply) => {
        const input = kit.body('disable', DisableBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid disable', input);
        const username = name(request);
        if (username === kit.session(request).username)
          return kit.fail(reply, 403, 'E_SELF', 'no account may disable or enable itself');
        try {
          if (!input.disabled)
            return answer(
              reply,
              username,
              await changes.request(actorOf(request), { kind: 'enable', username }),
            );
          const user = await users.setDisabled(
            username,
            input.disabled,
            `user:${kit.session(request).username}`,
          );
          bus.emit('account.changed', { username });
          return ok(AccountChange, user);
        } catch (error) {
          return failUser(kit, reply, error);
        }
      },
    );

    // Pending changes: the approvers decide them; administrators see (and may withdraw) what they asked for.
    app.get(
      '/api/approvals',
      { preHandler: kit.guard(), config: { response: Type.Array(PendingViewSchema) } },
      async (request, reply) => {
        const { roles } = kit.session(request);
        if (!can(roles, 'accounts:approve') && !can(roles, 'users:read'))
          return kit.fail(reply, 403, 'E_FORBIDDEN', 'your role may not see account approvals');
        return ok(Type.Array(PendingViewSchema), await changes.pending());
      },
    );

    app.post(
      '/api/approvals/:id/approve',
      { preHandler: kit.guard('accounts:approve'), config: { response: UserViewSchema } },
      async (request, reply) => {
        try {
          const user = await changes.approve(actorOf(request), (request.params as { id: string }).id);
          bus.emit('account.changed', { username: user.username });
          return { status: 'ok', data: user };
        } catch (error) {
          return failUser(kit, reply, error);
        }
      },
    );

    app.post(
      '/api/approvals/:id/refuse',
      { preHandler: kit.guard(), config: { response: NoData } },
      async (request, reply) => {
        const { roles } = kit.session(request);
        if (!can(roles, 'accounts:approve') && !can(roles, 'users:write'))
          return kit.fail(reply, 403, 'E_FORBIDDEN', 'your role may not refuse account changes');
        try {
          await changes.reject(actorOf(request), (request.params as { id: string }).id);
          return { status: 'ok', data: null };
        } catch (error) {
          return failUser(kit, reply, error);
        }
      },
    );
  };
}
