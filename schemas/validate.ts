/** Ajv, compiled once per schema, used at every boundary. Errors name the field: `path: message`. */
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { backupSchemas } from './backup.js';
import { configSchemas } from './config.js';
import { messageSchemas } from './messages.js';
import { trustConfigSchemas, trustSchemas } from './trust.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export const allSchemas = {
  ...messageSchemas,
  ...configSchemas,
  ...backupSchemas,
  ...trustSchemas,
  ...trustConfigSchemas,
} as const;
export type SchemaName = keyof typeof allSchemas;
export type SchemaType<N extends SchemaName> = Static<(typeof allSchemas)[N]>;

/** Thrown when input does not match its schema; `problems` lists every failure as `path: message`. */
export class ValidationError extends Error {
  readonly code = 'E_VALIDATION';
  constructor(
    readonly schema: string,
    readonly problems: string[],
  ) {
    super(`invalid ${schema}: ${problems.join('; ')}`);
    this.name = 'ValidationError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: false, allowUnionTypes: true });
addFormats(ajv);
// TypeBox adds these keywords to schemas; they carry no validation meaning.
ajv.addKeyword('kind').addKeyword('modifier');

const compiled = new Map<string, ValidateFunction>();

function validatorFor(name: string, schema: TSchema): ValidateFunction {
  let fn = compiled.get(name);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(name, fn);
  }
  return fn;
}

export function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const extra =
      e.keyword === 'additionalProperties'
        ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
        : e.keyword === 'enum'
          ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`
          : '';
    return `${e.instancePath || '/'}: ${e.message ?? 'is invalid'}${extra}`;
  });
}

/** Returns the value typed, or throws ValidationError. Never mutates the input. */
export function parse<N extends SchemaName>(name: N, value: unknown): SchemaType<N> {
  const fn = validatorFor(name, allSchemas[name]);
  if (!fn(value)) throw new ValidationError(name, formatErrors(fn.errors));
  return value as SchemaType<N>;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ValidationError };

/** Validates without throwing: for hot paths such as broker ingest. */
export function check<N extends SchemaName>(name: N, value: unknown): ParseResult<SchemaType<N>> {
  try {
    return { ok: true, value: parse(name, value) };
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, error };
    throw error;
  }
}

/** Validates a value against any TypeBox schema (HTTP bodies, internal records). */
export function checkSchema<T extends TSchema>(
  name: string,
  schema: T,
  value: unknown,
): ParseResult<Static<T>> {
  const fn = validatorFor(name, schema);
  if (fn(value)) return { ok: true, value: value as Static<T> };
  return { ok: false, error: new ValidationError(name, formatErrors(fn.errors)) };
}

/** MQTT payloads: bytes → JSON → schema, one reason string on failure. Bounded size first. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;
export function parsePayload<N extends SchemaName>(name: N, payload: Uint8Array): ParseResult<SchemaType<N>> {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return {
      ok: false,
      error: new ValidationError(name, [`/: payload of ${payload.byteLength} bytes is too large`]),
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return { ok: false, error: new ValidationError(name, ['/: not valid JSON']) };
  }
  return check(name, json);
}
