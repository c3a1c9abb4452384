/**
 * Fleet updates API. Admin ('updates:manage'): upload a signed release (the raw bundle as application/octet-stream),
 * begin a roll-out of a version, widen it (one room, a percentage, everyone), stop it. Staff with 'devices:read' see
 * the releases and each device's progress. Devices fetch a release with HTTP basic auth (their id and secret, S4):
 * the same credentials their MQTT connection uses, over the same hub TLS.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { ReleaseRecord, Rollout, UpdatesView } from '../../../schemas/api.js';
import type { DeviceRegistry } from '../../devices/device-registry.js';
import { HubError } from '../../errors.js';
import type { FleetUpdates } from '../../updates/fleet-updates.js';
import type { ReleaseStore } from '../../updates/release-store.js';
import type { RouteModule } from '../http-server.js';
import { answerOrRefuse } from '../route-action.js';

/** A release with its production dependencies is tens of MB; this bounds what one upload may hold in memory. */
export const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;

const Version = Type.String({ pattern: '^[0-9A-Za-z.+-]{1,32}$' });
const BeginBody = Type.Object(
  {
    version: Version,
    downgrade: Type.Boolean(),
    maxRollbacks: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  },
  { additionalProperties: false },
);
const WidenBody = Type.Union([
  Type.Object(
    { kind: Type.Literal('room'), room: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,47}$' }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('percent'), percent: Type.Integer({ minimum: 1, maximum: 100 }) },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('everyone') }, { additionalProperties: false }),
]);

export function updateRoutes(deps: {
  releases: ReleaseStore;
  updates: FleetUpdates;
  registry: DeviceRegistry;
  rejected: (reason: string) => void;
}): RouteModule {
  const { releases, updates, registry } = deps;
  return (app, kit) => {
    // The schema is the one the route's config publishes: tsc holds the action's result to it.
    const run = <S extends TSchema>(reply: FastifyReply, schema: S, action: () => Promise<Static<S>>) =>
      answerOrRefuse(kit, reply, schema, action);
    const manage = { preHandler: kit.guard('updates:manage') };
    const who = (request: Parameters<typeof kit.session>[0]) => kit.session(request).username;

    app.get(
      '/api/updates',
      { preHandler: kit.guard('devices:read'), config: { response: UpdatesView } },
      async (_request, reply) =>
        run(reply, UpdatesView, async () => ({
          releases: await releases.list(),
          rollout: (await updates.current()) ?? null,
        })),
    );

    // Its own scope, so the raw-bytes parser and the large body limit apply to this one route only.
    app.register(async (scope) => {
      scope.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) =>
        done(null, body),
      );
      scope.post(
        '/api/updates/releases',
        { ...manage, bodyLimit: MAX_BUNDLE_BYTES, config: { response: ReleaseRecord } },
        async (request, reply) => {
          if (!Buffer.isBuffer(request.body))
            return kit.fail(reply, 415, 'E_VALIDATION', 'send the bundle file as application/octet-stream');
          const body = request.body;
          return run(reply, ReleaseRecord, async () => {
            try {
              return await releases.add(body, who(request));
            } catch (error) {
              if (error instanceof HubError && error.code === 'E_RELEASE_REFUSED') {
                kit.log.warn({ reason: error.message }, 'release refused');
                deps.rejected('release: refused bundle');
              }
              throw error;
            }
          });
        },
      );
    });

    app.post(
      '/api/updates/rollout',
      { ...manage, config: { body: BeginBody, response: Rollout } },
      async (request, reply) => {
        const input = kit.body('update-begin', BeginBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid roll-out', input);
        return run(reply, Rollout, () => updates.begin(input, who(request)));
      },
    );

    app.post(
      '/api/updates/rollout/widen',
      { ...manage, config: { body: WidenBody, response: Rollout } },
      async (request, reply) => {
        const input = kit.body('update-widen', WidenBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid step', input);
        return run(reply, Rollout, () => updates.widen(input, who(request)));
      },
    );

    app.post(
      '/api/updates/rollout/stop',
      { ...manage, config: { response: Rollout } },
      async (request, reply) => run(reply, Rollout, () => updates.halt(who(request))),
    );

    // Devices only: basic auth with the device's id and secret; a pending or revoked device gets nothing.
    app.get<{ Params: { version: string } }>(
      '/api/device-updates/:version',
      { config: { produces: 'application/octet-stream' } },
      async (request, reply) => {
        const match = /^Basic ([A-Za-z0-9+/=]{1,512})$/.exec(request.headers.authorization ?? '');
        const [id, secret] = match?.[1] ? splitOnce(Buffer.from(match[1], 'base64').toString('utf8')) : [];
        const auth = id && secret ? await registry.authenticate(id, secret) : null;
        if (!auth?.ok || auth.principal.kind !== 'device') {
          deps.rejected('release download: not a device');
          return kit.fail(reply, 401, 'E_DEVICE_AUTH', 'device credentials required');
        }
        const bytes = await releases.read(request.params.version);
        if (!bytes) return kit.fail(reply, 404, 'E_UNKNOWN_RELEASE', 'no such release');
        return reply.header('content-type', 'application/octet-stream').send(bytes);
      },
    );
  };
}

function splitOnce(text: string): [string, string] | [] {
  const at = text.indexOf(':');
  return at > 0 ? [text.slice(0, at), text.slice(at + 1)] : [];
}
