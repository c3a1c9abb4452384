/**
 * The hub's HTTP API and dashboard host: the only file that touches fastify. Guards (session, CSRF, permission) are
 * decided here, in one place; every request body is validated against its schema and errors name the field.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  DeviceView,
  Health,
  LoginStep,
  NoData,
  OpenApiDocument,
  PublicDevice,
  SessionInfo,
  SignedOut,
} from '../../schemas/api.js';
import { checkSchema } from '../../schemas/validate.js';
import { isStorageFault } from '../db/log-fault.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { EventBus, IncidentSummary } from '../event-bus.js';
import type { IncidentStore } from '../incidents/incident-store.js';
import { incidentAccess, restrictedView } from '../incidents/visibility.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import type { LiveGrid } from '../live/live-grid.js';
import type { Logger } from '../log.js';
import type { RejectCounter } from '../metrics/reject-counter.js';
import { boundedHttpServer } from '../net/bounded-http-server.js';
import type { LoginClient, LoginFlow } from '../users/login-flow.js';
import { can, type Permission } from '../users/roles.js';
import { UserError, type UserStore } from '../users/user-store.js';
import { ok } from './answer.js';
import { openApiDocument, type RouteDoc } from './openapi.js';
import { IDLE_LIMIT_MS, type Session, SessionStore } from './sessions.js';
import { loadStaticFiles } from './static-files.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    // TypeBox schemas, typed loosely here: their deep types inside fastify's route generics overwhelm tsc.
    /** The request body's schema: what kit.body validates, and what /api/openapi.json publishes. */
    body?: object;
    /** The query string's schema, likewise. */
    query?: object;
    /** The answer's `data` schema (schemas/api.ts), published in /api/openapi.json. */
    response?: object;
    /** The answer's content type when it is not the JSON envelope. */
    produces?: string;
    /** A route that checks the session itself rather than through a guard. */
    signedIn?: boolean;
  }
}

const COOKIE = 'pa_session';
/** The remembered-browser token (device cookie): only sign-in and password confirmation read it. */
const DEVICE_COOKIE = 'pa_device';

export interface HttpDeps {
  host: string;
  port: number;
  dashboardDir: string;
  /** The hub's version, published in /api/openapi.json. */
  version?: string;
  users: UserStore;
  /** S1, S3: the sign-in steps and their limits. */
  login: LoginFlow;
  incidents: IncidentStore;
  registry: DeviceRegistry;
  grid: LiveGrid;
  bus: EventBus;
  rejects: RejectCounter;
  /** Details for an operator; `healthy` alone is what an unauthenticated caller of /api/health gets. */
  health: () => Promise<{ healthy: boolean } & Record<string, unknown>>;
  /**
   * S7: the bearer token (from the hub config's metrics.credentialsFile) that opens /metrics and the health details.
   * Without one, /metrics is off and health answers only healthy or not.
   */
  opsToken?: string;
  log: Logger;
  now: () => number;
  /** Secure cookies when served over HTTPS (S7); defaults to on when `tls` is set. */
  secureCookies?: boolean;
  /** Certificate and key files: serve over HTTPS (S7). */
  tls?: { cert: string; key: string };
  /** Feature route modules (incidents workflow, devices, settings …), each registered with the same guards. */
  routes?: RouteModule[];
  /** S2: idle limit of a session; 10 minutes unless a test shortens it. The dashboard warns and locks by it. */
  idleLimitMs?: number;
  /** Connection caps and timeouts that hold before anyone signs in (hub/limits.ts has the defaults). */
  limits?: Limits['http'];
}

/** What a feature's routes get: the guards and helpers, so who-may-do-what stays decided in this one file. */
export interface RouteKit {
  guard(permission?: Permission): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  fail(reply: FastifyReply, status: number, code: string, message: string, fields?: string[]): FastifyReply;
  /** Validates request.body against a schema; returns the value, or the list of `path: message` problems. */
  body<T extends TSchema>(name: string, schema: T, request: FastifyRequest): Static<T> | string[];
  /** The signed-in session of a guarded request. */
  session(request: FastifyRequest): Session;
  /**
   * Operations access (monitoring): 'ok' for the right bearer token; 'off' when no token is configured; 'refused'
   * when it is absent or wrong.
   */
  operator(request: FastifyRequest): 'ok' | 'off' | 'refused';
  now(): number;
  log: Logger;
}

export type RouteModule = (app: FastifyInstance, kit: RouteKit) => void;

export interface RunningHttp {
  url: string;
  port: number;
  close(): Promise<void>;
}

const TotpBody = Type.Object(
  {
    loginToken: Type.String({ minLength: 1, maxLength: 64 }),
    code: Type.String({ pattern: '^[0-9]{6}$' }),
  },
  { additionalProperties: false },
);

const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);

const NewPasswordBody = Type.Object(
  {
    loginToken: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);

const PasswordChangeBody = Type.Object(
  {
    current: Type.String({ minLength: 1, maxLength: 256 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);

function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

export async function startHttp(deps: HttpDeps): Promise<RunningHttp> {
  const { log, now } = deps;
  const idleLimitMs = deps.idleLimitMs ?? IDLE_LIMIT_MS;
  const sessions = new SessionStore(idleLimitMs);
  const { login } = deps;
  // An account disabled, re-roled or reset loses its sessions at once.
  deps.bus.on('account.changed', ({ username }) => sessions.destroyUser(username));
  const files = loadStaticFiles(deps.dashboardDir);
  const limits = deps.limits ?? DEFAULT_LIMITS.http;
  // Our own server: timeouts, TLS handshake and connection caps bounded before any request (bounded-http-server.ts).
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    trustProxy: false,
    serverFactory: (handler) =>
      boundedHttpServer(handler, {
        tls: deps.tls ? { cert: readFileSync(deps.tls.cert), key: readFileSync(deps.tls.key) } : undefined,
        limits,
        onRefused: (reason) => deps.rejects.add(reason),
      }),
  });
  const secureCookies = deps.secureCookies ?? deps.tls !== undefined;

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header(
      'content-security-policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
    );
    return payload;
  });

  function fail(reply: FastifyReply, status: number, code: string, message: string, fields?: string[]) {
    return reply
      .code(status)
      .send({ status: 'error', error: { code, message, ...(fields ? { fields } : {}) } });
  }

  function body<T extends TSchema>(name: string, schema: T, request: FastifyRequest): Static<T> | string[] {
    // The route's declared schema is the one published in the API document; validating against another is a bug.
    if (request.routeOptions.config.body !== schema)
      throw new Error(
        `${request.method} ${request.routeOptions.url}: body schema '${name}' is not the route's config.body`,
      );
    const result = checkSchema(name, schema, request.body);
    return result.ok ? result.value : result.error.problems;
  }

  /** Session guard: GETs need a live session; writes also need the session's CSRF token in a header. */
  function guard(permission?: Permission) {
    const check = async (request: FastifyRequest, reply: FastifyReply) => {
      const session = sessions.touch(readCookie(request, COOKIE), now());
      if (!session) return fail(reply, 401, 'E_SESSION', 'not signed in, or locked after 10 minutes idle');
      if (request.method !== 'GET' && request.headers['x-csrf-token'] !== session.csrf) {
        return fail(reply, 403, 'E_CSRF', 'missing or wrong CSRF token');
      }
      if (permission && !can(session.roles, permission)) {
        return fail(reply, 403, 'E_FORBIDDEN', `your role may not ${permission.replace(':', ' ')}`);
      }
      (request as FastifyRequest & { session: Session }).session = session;
    };
    // Read back by the API document: who may call each route.
    return Object.assign(check, { permission: permission ?? null });
  }

  // Every route as it is registered, for /api/openapi.json: nothing can be served and left undocumented.
  const documented: RouteDoc[] = [];
  app.addHook('onRoute', (route) => {
    const handlers = [route.preHandler ?? []].flat() as { permission?: Permission | null }[];
    const guarded = handlers.find((h) => h.permission !== undefined);
    // A route's session guard runs as soon as the request's headers are in, before its body is read: a caller who is
    // not signed in (or may not use the route) is refused without the hub buffering what it sends. As a pre-handler
    // it ran only after the whole body was parsed: up to 256 MB per request on the release upload, from anyone.
    if (guarded) {
      route.preHandler = handlers.filter((h) => h !== guarded) as typeof route.preHandler;
      route.onRequest = [...[route.onRequest ?? []].flat(), guarded] as typeof route.onRequest;
    }
    const config = (route.config ?? {}) as NonNullable<(typeof route)['config']>;
    for (const method of [route.method].flat()) {
      documented.push({
        method,
        url: route.url,
        signedIn: guarded !== undefined || config.signedIn === true,
        ...(guarded ? { permission: guarded.permission } : {}),
        ...(config.body ? { body: config.body as TSchema } : {}),
        ...(config.query ? { query: config.query as TSchema } : {}),
        ...(config.response ? { response: config.response as TSchema } : {}),
        ...(config.produces ? { produces: config.produces } : {}),
      });
    }
  });
  let apiDocument: ReturnType<typeof openApiDocument> | undefined;
  app.get(
    '/api/openapi.json',
    { config: { produces: 'application/json', response: OpenApiDocument } },
    async () => {
      apiDocument ??= openApiDocument(documented, { version: deps.version ?? '0.0.0' });
      return apiDocument;
    },
  );

  /** The browser forgets the session cookie (sign-out, own password changed). */
  const clearSessionCookie = (reply: FastifyReply) =>
    reply.header('set-cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
  const sessionOf = (request: FastifyRequest) => (request as FastifyRequest & { session: Session }).session;
  // Compared as digests: equal length whatever the caller sends, and timingSafeEqual leaks nothing of the token.
  const opsDigest = deps.opsToken ? createHash('sha256').update(deps.opsToken).digest() : null;
  function operator(request: FastifyRequest): 'ok' | 'off' | 'refused' {
    if (!opsDigest) return 'off';
    const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    if (!match?.[1]) return 'refused';
    const given = createHash('sha256').update(match[1]).digest();
    return timingSafeEqual(given, opsDigest) ? 'ok' : 'refused';
  }
  const kit: RouteKit = { guard, fail, body, session: sessionOf, now, log, operator };
  for (const register of deps.routes ?? []) register(app, kit);

  const clientOf = (request: FastifyRequest): LoginClient => ({
    address: request.ip,
    deviceToken: readCookie(request, DEVICE_COOKIE),
  });

  /** Ends the step of a sign-in: a fresh session (rotation, S2) or the next step the client must take. */
  function answerLogin(
    request: FastifyRequest,
    reply: FastifyReply,
    outcome: Awaited<ReturnType<LoginFlow['password']>>,
    username: string,
  ) {
    switch (outcome.kind) {
      case 'refused':
        log.warn({ username, address: request.ip, code: outcome.code }, 'failed login');
        if (outcome.retryAfterS) reply.header('retry-after', String(outcome.retryAfterS));
        return fail(reply, outcome.status, outcome.code, outcome.message, outcome.fields);
      case 'totp':
        return { status: 'ok', data: { needsTotp: true, loginToken: outcome.loginToken } };
      case 'new-password':
        return { status: 'ok', data: { needsNewPassword: true, loginToken: outcome.loginToken } };
      case 'enrol':
        return {
          status: 'ok',
          data: {
            needsTotpEnrolment: true,
            loginToken: outcome.loginToken,
            secret: outcome.secret,
            otpauthUri: outcome.otpauthUri,
          },
        };
      case 'session': {
        const { user } = outcome;
        sessions.destroy(readCookie(request, COOKIE));
        const session = sessions.create(user.username, user.roles, now());
        const secure = secureCookies ? '; Secure' : '';
        reply.header('set-cookie', [
          `${COOKIE}=${session.token}; Path=/; HttpOnly; SameSite=Strict${secure}`,
          `${DEVICE_COOKIE}=${outcome.deviceToken}; Path=/api; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(login.limits.deviceMaxAgeMs / 1000)}${secure}`,
        ]);
        return {
          status: 'ok',
          data: { username: user.username, roles: user.roles, csrf: session.csrf, idleLimitMs },
        };
      }
    }
  }

  app.post('/api/login', { config: { body: LoginBody, response: LoginStep } }, async (request, reply) => {
    const input = body('login', LoginBody, request);
    if (Array.isArray(input)) return fail(reply, 400, 'E_VALIDATION', 'invalid login', input);
    const outcome = await login.password(input.username, input.password, clientOf(request));
    return answerLogin(request, reply, outcome, input.username);
  });

  app.post('/api/login/totp', { config: { body: TotpBody, response: LoginStep } }, async (request, reply) => {
    const input = body('login-totp', TotpBody, request);
    if (Array.isArray(input)) return fail(reply, 400, 'E_VALIDATION', 'invalid code', input);
    const outcome = await login.totp(input.loginToken, input.code, clientOf(request));
    return answerLogin(request, reply, outcome, '(second step)');
  });

  /** The new password a reset asked for, before the session opens. */
  app.post(
    '/api/login/password',
    { config: { body: NewPasswordBody, response: LoginStep } },
    async (request, reply) => {
      const input = body('login-password', NewPasswordBody, request);
      if (Array.isArray(input)) return fail(reply, 400, 'E_VALIDATION', 'invalid new password', input);
      const outcome = await login.newPassword(input.loginToken, input.password, clientOf(request));
      return answerLogin(request, reply, outcome, '(new password step)');
    },
  );

  app.post('/api/logout', { preHandler: guard(), config: { response: NoData } }, async (request, reply) => {
    sessions.destroy(readCookie(request, COOKIE));
    clearSessionCookie(reply);
    return { status: 'ok' };
  });

  /**
   * Any signed-in user changes their own password (S1): the current one first, under sign-in's lockout; the new one
   * must pass the password policy. Audited by the store; every session of the account ends, this one too, so the
   * new password is used at once wherever the account was open.
   */
  app.post(
    '/api/session/password',
    { preHandler: guard(), config: { body: PasswordChangeBody, response: SignedOut } },
    async (request, reply) => {
      const input = body('password-change', PasswordChangeBody, request);
      if (Array.isArray(input)) return fail(reply, 400, 'E_VALIDATION', 'invalid password change', input);
      const { username } = sessionOf(request);
      const confirmed = await login.confirm(username, input.current, clientOf(request));
      if (confirmed.kind === 'refused') {
        log.warn({ username, code: confirmed.code }, 'password change refused');
        if (confirmed.retryAfterS) reply.header('retry-after', String(confirmed.retryAfterS));
        return fail(
          reply,
          confirmed.status === 401 ? 403 : confirmed.status,
          confirmed.code,
          confirmed.message,
        );
      }
      try {
        await deps.users.setPassword(username, input.password, now(), `user:${username}`);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        return fail(
          reply,
          400,
          error.code,
          error.message,
          error.problems.length ? error.problems : undefined,
        );
      }
      deps.bus.emit('account.changed', { username });
      clearSessionCookie(reply);
      return { status: 'ok', data: { signedOut: true } };
    },
  );

  app.get('/api/session', { preHandler: guard(), config: { response: SessionInfo } }, async (request) => {
    const { username, roles, csrf } = (request as FastifyRequest & { session: Session }).session;
    return ok(SessionInfo, { username, roles, csrf, idleLimitMs });
  });

  app.get(
    '/api/rooms',
    { preHandler: guard('rooms:read'), config: { response: Type.Array(DeviceView) } },
    async () => ok(Type.Array(DeviceView), deps.grid.all()),
  );

  app.get(
    '/api/devices',
    { preHandler: guard('devices:read'), config: { response: Type.Array(PublicDevice) } },
    async () => ok(Type.Array(PublicDevice), await deps.registry.list()),
  );

  // S7: anyone may ask whether the hub is healthy; the figures behind it (counts that move when a pupil reports) need
  // the operations token.
  app.get('/api/health', { config: { response: Health } }, async (request) => {
    const health = await deps.health();
    return { status: 'ok', data: operator(request) === 'ok' ? health : { healthy: health.healthy } };
  });

  /**
   * Server-sent events: the Today grid and the reports inbox update within a second of a change, no reload. Each
   * session receives exactly what its GET routes would give it (the grid only with `rooms:read`, each incident as
   * `GET /api/incidents` would list it), and the stream ends the moment the session does: sign-out, an account change
   * (which ends the account's sessions) or the idle limit.
   */
  app.get(
    '/api/stream',
    { config: { signedIn: true, produces: 'text/event-stream' } },
    async (request, reply) => {
      const token = readCookie(request, COOKIE);
      const session = sessions.peek(token, now());
      if (!token || !session) return fail(reply, 401, 'E_SESSION', 'not signed in');
      const { roles } = session;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const send = (event: string, data: unknown): void => {
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const incidentEvent = ({
        incident,
        step,
      }: {
        incident: IncidentSummary;
        step?: { routeTo?: string };
      }) => {
        const access = incidentAccess(roles, incident);
        if (access === 'full') send('incident', incident);
        else if (access === 'exists') send('incident', restrictedView(incident));
        // Routed away to the governors: this reader saw it a moment ago (as waiting, or in full) and GET no longer lists it.
        else if (
          step?.routeTo === 'governor' &&
          incidentAccess(roles, { ...incident, routeTo: 'coordinator' }) !== 'none'
        )
          send('incident-removed', { id: incident.id });
      };
      send('hello', { at: now() });
      const unsubscribers = [
        ...(can(roles, 'rooms:read') ? [deps.grid.onChange((view) => send('device', view))] : []),
        ...(can(roles, 'incidents:read')
          ? [deps.bus.on('incident.created', incidentEvent), deps.bus.on('incident.updated', incidentEvent)]
          : []),
      ];
      let idleTimer: NodeJS.Timeout | undefined;
      let ended = false;
      const close = (locked: boolean) => {
        if (ended) return;
        ended = true;
        clearTimeout(idleTimer);
        clearInterval(keepalive);
        offEnd();
        for (const off of unsubscribers) off();
        if (locked && !res.writableEnded) {
          send('locked', {});
          res.end();
        }
      };
      const offEnd = sessions.onEnd(token, () => close(true));
      // The idle limit falls due at a known moment: check then, not on the next keepalive (S2).
      const armIdle = () => {
        const live = sessions.peek(token, now());
        if (!live) return close(true);
        idleTimer = setTimeout(armIdle, Math.max(50, live.lastActive + idleLimitMs - now() + 1));
      };
      const keepalive = setInterval(() => {
        if (!sessions.peek(token, now())) close(true);
        else res.write(': keepalive\n\n');
      }, 15_000);
      armIdle();
      request.raw.on('close', () => close(false));
    },
  );

  app.setNotFoundHandler(async (request, reply) => {
    if (request.url.startsWith('/api/')) return fail(reply, 404, 'E_NOT_FOUND', 'no such endpoint');
    const path = request.url.split('?')[0] ?? '/';
    // Client-side routes all load the app shell.
    const file = files.get(path) ?? (extnameless(path) ? files.get('/index.html') : undefined);
    if (!file) return fail(reply, 404, 'E_NOT_FOUND', 'not found');
    reply.header('content-type', file.type);
    reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
      reply.header('content-encoding', 'gzip');
      return reply.send(file.gzip);
    }
    return reply.send(file.body);
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number }, _request, reply) => {
    if (isStorageFault(error)) {
      // A full disk: the change was not made, and the hub recovers by itself once there is room (hub/db/log-fault.ts).
      log.error({ err: error }, 'request refused: the database cannot write');
      deps.rejects.add('http: 503');
      return fail(
        reply,
        503,
        'E_STORAGE',
        'The hub cannot save anything just now (its disk may be full). Nothing was changed. Try again in a few minutes.',
      );
    }
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) log.error({ err: error }, 'request failed');
    deps.rejects.add(`http: ${status}`);
    return fail(
      reply,
      status,
      status >= 500 ? 'E_INTERNAL' : 'E_BAD_REQUEST',
      status >= 500 ? 'internal error' : error.message,
    );
  });

  await app.listen({ host: deps.host, port: deps.port });
  const port = (app.server.address() as AddressInfo).port;
  const url = `${deps.tls ? 'https' : 'http'}://${deps.host === '0.0.0.0' ? '127.0.0.1' : deps.host}:${port}`;
  log.info({ url }, 'dashboard listening');
  return {
    url,
    port,
    async close() {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

function extnameless(path: string): boolean {
  return !/\.[a-z0-9]+$/i.test(path);
}
