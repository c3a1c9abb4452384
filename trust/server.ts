/**
 * The trust dashboard's HTTP server: the only file here that touches fastify. Server-rendered pages behind a session
 * cookie (HttpOnly, SameSite=Strict, Secure over TLS); each page is guarded by one permission from roles.ts; the two
 * forms that change anything (sign out, add an account) carry the session's CSRF token. No route reaches a school's
 * hub: every figure comes from the shared store through TrustReader.
 */

import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { generateSecret } from '../hub/devices/password-hash.js';
import { DEFAULT_LIMITS, type Limits } from '../hub/limits.js';
import type { Logger } from '../hub/log.js';
import { boundedHttpServer } from '../hub/net/bounded-http-server.js';
import { StoreUnavailableError } from '../hub/store/metrics-store.js';
import type { TrustAccounts } from './accounts.js';
import { TrustAccountError } from './accounts.js';
import { latestTerms, rankSchools } from './figures.js';
import {
  accountsPage,
  baselinePage,
  codePage,
  compliancePage,
  devicesPage,
  forbiddenPage,
  homeFor,
  incidentsPage,
  layout,
  newPasswordPage,
  type PageUser,
  rankingsPage,
  type SchoolName,
  schoolPage,
  signedInPage,
  signInPage,
  TRUST_CSS,
} from './pages.js';
import { isTrustRole, type TrustPermission, trustCan } from './roles.js';
import type { CodeOutcome, PasswordOutcome, TrustSession, TrustSignIn } from './sign-in.js';
import { type TrustReader, WEEKS_SHOWN } from './trust-reader.js';

const COOKIE = 'pa_trust';
const DAY = 86_400_000;
/** Weeks the all-schools compliance page shows (the current one included). */
const OVERVIEW_WEEKS = 6;

export interface TrustHttpDeps {
  trustName: string;
  host: string;
  port: number;
  tls?: { cert: string; key: string } | undefined;
  schools: readonly SchoolName[];
  reader: TrustReader;
  accounts: TrustAccounts;
  signIn: TrustSignIn;
  baselineName?: string | undefined;
  log: Logger;
  now?: () => number;
  /** Connection caps and timeouts (the hub's defaults when absent). */
  limits?: Limits['http'];
}

export interface RunningTrustHttp {
  url: string;
  /** Connections refused or dropped before a request, by reason (tests and diagnostics). */
  refused(): Record<string, number>;
  close(): Promise<void>;
}

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

type Form = Record<string, string>;
const field = (request: FastifyRequest, name: string): string => {
  const value = (request.body as Form | undefined)?.[name];
  return typeof value === 'string' ? value : '';
};

export async function startTrustHttp(deps: TrustHttpDeps): Promise<RunningTrustHttp> {
  const { log, signIn, reader, trustName: trust } = deps;
  const now = deps.now ?? Date.now;
  /** Connections refused or dropped before a request, by reason. */
  const refused = new Map<string, number>();
  const app = Fastify({
    logger: false,
    bodyLimit: 16 * 1024,
    trustProxy: false,
    // Bounded as the hub's dashboard is: timeouts, TLS handshake and connection caps before any request.
    serverFactory: (handler) =>
      boundedHttpServer(handler, {
        tls: deps.tls ? { cert: readFileSync(deps.tls.cert), key: readFileSync(deps.tls.key) } : undefined,
        limits: deps.limits ?? DEFAULT_LIMITS.http,
        onRefused: (reason) => {
          refused.set(reason, (refused.get(reason) ?? 0) + 1);
          log.debug({ reason }, 'connection refused');
        },
      }),
  });
  const secure = deps.tls ? '; Secure' : '';

  // Forms arrive url-encoded; anything else is refused by fastify's own 415.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
    reply.header(
      'content-security-policy',
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    return payload;
  });

  const html = (reply: FastifyReply, body: string, status = 200) =>
    reply.code(status).header('content-type', 'text/html; charset=utf-8').send(body);
  const sessionOf = (request: FastifyRequest) => signIn.session(readCookie(request, COOKIE), now());
  const pageUser = (s: TrustSession): PageUser => ({ username: s.username, roles: s.roles, csrf: s.csrf });

  /** A page behind one permission: signed-out visitors go to sign-in, other roles get a plain 403 page. */
  function guarded(
    permission: TrustPermission,
    render: (user: PageUser, request: FastifyRequest) => Promise<string | { status: number; body: string }>,
  ) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const session = sessionOf(request);
      if (!session) return reply.redirect('/login', 303);
      const user = pageUser(session);
      if (!trustCan(session.roles, permission)) {
        log.info({ username: session.username, permission, url: request.url }, 'trust page refused');
        return html(reply, forbiddenPage(trust, user), 403);
      }
      try {
        const out = await render(user, request);
        return typeof out === 'string' ? html(reply, out) : html(reply, out.body, out.status);
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        log.warn({ err: error.message }, 'shared store unavailable');
        return html(
          reply,
          layout(
            trust,
            'Figures unavailable',
            '<p>The shared store is not answering. Try again in a few minutes.</p>',
            user,
          ),
          503,
        );
      }
    };
  }

  app.get('/trust.css', async (_request, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').send(TRUST_CSS),
  );
  app.get('/', async (request, reply) => {
    const session = sessionOf(request);
    return reply.redirect(session ? homeFor(session.roles) : '/login', 303);
  });
  app.get('/login', async (_request, reply) => html(reply, signInPage(trust)));

  const afterPassword = (reply: FastifyReply, outcome: PasswordOutcome, error?: string) => {
    if (outcome.kind === 'refused') {
      if (outcome.retryAfterS) reply.header('retry-after', String(outcome.retryAfterS));
      return html(reply, signInPage(trust, outcome.message), outcome.retryAfterS ? 429 : 401);
    }
    const enrol =
      outcome.kind === 'enrol' ? { secret: outcome.secret, otpauthUri: outcome.otpauthUri } : undefined;
    return html(
      reply,
      codePage(trust, { loginToken: outcome.loginToken, ...(enrol ? { enrol } : {}) }, error),
      error ? 401 : 200,
    );
  };

  app.post('/login', async (request, reply) => {
    const username = field(request, 'username').trim().toLowerCase();
    const outcome = await signIn.password(username, field(request, 'password'), request.ip, now());
    if (outcome.kind === 'refused') log.info({ username, reason: outcome.message }, 'trust sign-in refused');
    return afterPassword(reply, outcome);
  });

  /** After the code or the new password: a session, the new-password step, or the step again with the reason. */
  const afterStep = (reply: FastifyReply, outcome: CodeOutcome) => {
    if (outcome.kind === 'refused') {
      log.info({ reason: outcome.message }, 'trust sign-in step refused');
      if (outcome.again?.kind === 'new-password')
        return html(reply, newPasswordPage(trust, outcome.again.loginToken, outcome.message), 400);
      if (outcome.again) return afterPassword(reply, outcome.again, outcome.message);
      return afterPassword(reply, outcome);
    }
    if (outcome.kind === 'new-password') return html(reply, newPasswordPage(trust, outcome.loginToken));
    log.info({ username: outcome.session.username }, 'trust sign-in');
    reply.header('set-cookie', `${COOKIE}=${outcome.token}; Path=/; HttpOnly; SameSite=Strict${secure}`);
    return reply.redirect(homeFor(outcome.session.roles), 303);
  };

  app.post('/login/code', async (request, reply) =>
    afterStep(reply, await signIn.code(field(request, 'loginToken'), field(request, 'code'), now())),
  );

  app.post('/login/password', async (request, reply) =>
    afterStep(
      reply,
      await signIn.newPassword(field(request, 'loginToken'), field(request, 'password'), now()),
    ),
  );

  app.post('/logout', async (request, reply) => {
    const token = readCookie(request, COOKIE);
    const session = sessionOf(request);
    if (session && field(request, 'csrf') === session.csrf) signIn.end(token);
    reply.header('set-cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure}`);
    return reply.redirect('/login', 303);
  });

  app.get('/signed-in', async (request, reply) => {
    const session = sessionOf(request);
    if (!session) return reply.redirect('/login', 303);
    return html(reply, signedInPage(trust, pageUser(session)));
  });

  const sites = deps.schools.map((s) => s.site);

  app.get(
    '/compliance',
    guarded('compliance:read', async (user) => {
      const [weeks, terms] = await Promise.all([
        reader.weeks(now(), OVERVIEW_WEEKS - 1, sites, 'brief'),
        reader.terms(now(), sites, 'brief'),
      ]);
      return compliancePage(trust, user, deps.schools, weeks, terms);
    }),
  );

  app.get(
    '/schools/:site',
    guarded('compliance:read', async (user, request) => {
      const site = (request.params as { site: string }).site;
      const school = deps.schools.find((s) => s.site === site);
      if (!school)
        return {
          status: 404,
          body: layout(trust, 'No such school', '<p>This trust has no such school.</p>', user),
        };
      const [weeks, terms] = await Promise.all([
        reader.weeks(now(), WEEKS_SHOWN, [site], 'full'),
        reader.terms(now(), [site], 'full'),
      ]);
      return schoolPage(trust, user, school, weeks, terms);
    }),
  );

  app.get(
    '/rankings',
    guarded('compliance:read', async (user) => {
      // The term roll-ups: one point per room and term, so ranking every school reads a few thousand points.
      const latest = latestTerms(await reader.terms(now(), sites, 'brief'));
      return rankingsPage(trust, user, deps.schools, rankSchools(sites, latest));
    }),
  );

  app.get(
    '/devices',
    guarded('devices:read', async (user) =>
      devicesPage(trust, user, deps.schools, await reader.devices(), now()),
    ),
  );

  app.get(
    '/incidents',
    guarded('incidents:read', async (user) => {
      const since = now() - WEEKS_SHOWN * 7 * DAY;
      return incidentsPage(trust, user, deps.schools, await reader.incidents(since), since);
    }),
  );

  app.get(
    '/baseline',
    guarded('baseline:read', async (user) =>
      baselinePage(trust, user, deps.schools, await reader.baseline(), deps.baselineName),
    ),
  );

  app.get(
    '/accounts',
    guarded('accounts:manage', async (user) => accountsPage(trust, user, await deps.accounts.list())),
  );

  app.post(
    '/accounts',
    guarded('accounts:manage', async (user, request) => {
      if (field(request, 'csrf') !== user.csrf)
        return {
          status: 403,
          body: layout(trust, 'Refused', '<p>This form has expired. Reload the page.</p>', user),
        };
      const username = field(request, 'username').trim().toLowerCase();
      const role = field(request, 'role');
      const password = generateSecret(18);
      try {
        if (!isTrustRole(role)) throw new TrustAccountError('E_ROLES', 'Choose a role from the list.');
        await deps.accounts.add(username, password, [role], now(), { mustChangePassword: true });
      } catch (error) {
        if (!(error instanceof TrustAccountError)) throw error;
        log.info({ by: user.username, username, code: error.code }, 'trust account refused');
        return {
          status: 400,
          body: accountsPage(trust, user, await deps.accounts.list(), { text: error.message, error: true }),
        };
      }
      log.info({ by: user.username, username, role }, 'trust account added');
      return accountsPage(trust, user, await deps.accounts.list(), {
        text: `Account ${username} added.`,
        password,
      });
    }),
  );

  // A trustee or a member of trust IT who leaves is disabled at once, their open sessions ended (S1, S5); never the
  // leader's own account, so the trust always keeps one who can manage the others.
  app.post(
    '/accounts/:username/disabled',
    guarded('accounts:manage', async (user, request) => {
      if (field(request, 'csrf') !== user.csrf)
        return {
          status: 403,
          body: layout(trust, 'Refused', '<p>This form has expired. Reload the page.</p>', user),
        };
      const username = (request.params as { username: string }).username;
      const disabled = field(request, 'disabled') === 'true';
      const refuse = async (text: string) => ({
        status: 400,
        body: accountsPage(trust, user, await deps.accounts.list(), { text, error: true }),
      });
      if (username === user.username) return refuse('You cannot disable or enable your own account.');
      if (!(await deps.accounts.account(username))) return refuse('There is no such account.');
      await deps.accounts.setDisabled(username, disabled);
      if (disabled) signIn.endUser(username);
      log.info(
        { by: user.username, username, disabled },
        disabled ? 'trust account disabled' : 'trust account enabled',
      );
      return accountsPage(trust, user, await deps.accounts.list(), {
        text: `Account ${username} ${disabled ? 'disabled: it cannot sign in, and its sessions have ended' : 'enabled'}.`,
      });
    }),
  );

  app.setErrorHandler(async (error: { statusCode?: number; message: string }, _request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) log.error({ err: error }, 'trust request failed');
    return html(
      reply,
      layout(trust, 'Something went wrong', '<p>The request could not be handled.</p>'),
      status,
    );
  });

  await app.listen({ host: deps.host, port: deps.port });
  const { port } = app.server.address() as AddressInfo;
  const url = `${deps.tls ? 'https' : 'http'}://${deps.host === '0.0.0.0' ? '127.0.0.1' : deps.host}:${port}`;
  return {
    url,
    refused: () => Object.fromEntries(refused),
    async close() {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}
