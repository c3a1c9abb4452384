/**
 * The HTTP API described as OpenAPI 3.1, built from the routes as they are registered: each route's method and path,
 * the permission its guard asks for, and the TypeBox schemas of its body and query (the same objects the handlers
 * validate with). TypeBox schemas are JSON Schema 2020-12, which is OpenAPI 3.1's own dialect, so they go in as they
 * are. Pure: no I/O, so it is tested without a server.
 */
import type { TSchema } from '@sinclair/typebox';

export interface RouteDoc {
  method: string;
  /** Fastify's path syntax: `/api/incidents/:id/close`. */
  url: string;
  /** The permission the session guard asks for; null when any signed-in user may call it. */
  permission?: string | null;
  /** Whether the route needs a session at all (a guard, or a session check of its own like the event stream). */
  signedIn: boolean;
  body?: TSchema;
  query?: TSchema;
  /** The answer's `data` (schemas/api.ts); for a route with `produces: application/json`, the whole answer. */
  response?: TSchema;
  /** A content type other than the JSON envelope (CSV, text, the event stream). */
  produces?: string;
}

const ENVELOPE_OK = {
  type: 'object',
  required: ['status'],
  properties: { status: { const: 'ok' }, data: {} },
};
const ENVELOPE_ERROR = {
  type: 'object',
  required: ['status', 'error'],
  properties: {
    status: { const: 'error' },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: {
          type: 'string',
          description: 'Stable error code, e.g. E_VALIDATION, E_SESSION, E_FORBIDDEN.',
        },
        message: { type: 'string' },
        fields: {
          type: 'array',
          items: { type: 'string' },
          description: 'Every problem as `path: message`, so a form can show each beside its field.',
        },
      },
    },
  },
};

/** TypeBox marks its schemas with symbol keys; a JSON round trip leaves the plain JSON Schema. */
const plain = (schema: TSchema): Record<string, unknown> => JSON.parse(JSON.stringify(schema));

/**
 * The success envelope with the route's own `data` schema. A route without one is documented with the bare envelope
 * (the OpenAPI test fails for it); one that answers no data (`NoData`) has an envelope without `data`.
 */
function okEnvelope(response: TSchema | undefined): Record<string, unknown> {
  if (!response) return { $ref: '#/components/schemas/Ok' };
  const data = plain(response);
  if (data.type === 'null')
    return {
      type: 'object',
      required: ['status'],
      properties: { status: { const: 'ok' } },
      description: data.description,
    };
  return { type: 'object', required: ['status', 'data'], properties: { status: { const: 'ok' }, data } };
}

function operationId(method: string, path: string): string {
  const words = path
    .replace(/^\//, '')
    .split(/[/.:-]+/)
    .filter(Boolean)
    .map((w, i) => (i === 0 ? w : w[0]?.toUpperCase() + w.slice(1)));
  return `${method.toLowerCase()}${words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('')}`;
}

function queryParameters(query: TSchema | undefined) {
  if (!query) return [];
  const schema = plain(query) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    schema: property,
  }));
}

export function openApiDocument(routes: readonly RouteDoc[], info: { version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of [...routes].sort((a, b) => a.url.localeCompare(b.url))) {
    const method = route.method.toLowerCase();
    if (method === 'head' || method === 'options') continue;
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const pathParams = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const write = method !== 'get';
    const needs =
      route.permission === undefined || route.permission === null
        ? route.signedIn
          ? 'Any signed-in user.'
          : 'No session needed.'
        : `Needs the permission \`${route.permission}\`.`;
    const responses: Record<string, unknown> = {
      '200': route.produces
        ? {
            description: 'OK',
            content: {
              [route.produces]: {
                schema:
                  route.produces === 'application/json' && route.response
                    ? plain(route.response)
                    : { type: route.produces === 'application/json' ? 'object' : 'string' },
              },
            },
          }
        : {
            description: 'OK',
            content: { 'application/json': { schema: okEnvelope(route.response) } },
          },
    };
    const error = (description: string) => ({
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
    if (route.body || route.query)
      responses['400'] = error('Invalid input: every problem in `error.fields`.');
    if (route.signedIn)
      responses['401'] = error('Not signed in, or the session locked after 10 minutes idle.');
    if (route.signedIn && (write || route.permission))
      responses['403'] = error('Wrong CSRF token, or the role may not.');
    if (pathParams.length) responses['404'] = error('No such item.');
    paths[path] ??= {};
    paths[path][method] = {
      operationId: operationId(method, route.url),
      summary: `${route.method.toUpperCase()} ${route.url}`,
      description: needs,
      ...(route.permission ? { 'x-permission': route.permission } : {}),
      ...(pathParams.length || route.query
        ? { parameters: [...pathParams, ...queryParameters(route.query)] }
        : {}),
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: plain(route.body) } } } }
        : {}),
      security: route.signedIn ? (write ? [{ session: [], csrf: [] }] : [{ session: [] }]) : [],
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'phones-away hub API',
      version: info.version,
      description:
        'The school hub’s HTTP API, as the dashboard uses it. Every answer is an envelope: `{status: "ok", data}` ' +
        'or `{status: "error", error: {code, message, fields?}}`. Sign in with POST /api/login (then ' +
        '/api/login/totp for roles with a second factor); the session is an HttpOnly cookie, and every write also ' +
        'sends the session’s CSRF token in `x-csrf-token`.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    paths,
    components: {
      schemas: { Ok: ENVELOPE_OK, Error: ENVELOPE_ERROR },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'pa_session', description: 'Set by POST /api/login.' },
        csrf: {
          type: 'apiKey',
          in: 'header',
          name: 'x-csrf-token',
          description: 'The `csrf` value of the sign-in answer (or GET /api/session); needed on every write.',
        },
      },
    },
  };
}
