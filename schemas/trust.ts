/**
 * The trust tier (many schools, one shared InfluxDB): documents the trust publishes and every hub or trust server reads
 * back from a file, so each is schema-checked at the boundary and every field is bounded.
 */
import { type Static, Type } from '@sinclair/typebox';
import { SchemaVersion, Slug, StringEnum } from './common.js';
import { Policy } from './config.js';

/**
 * P1–P8 as the trust would like every school to set them: the same matrix shape as a school model's policy. Schools
 * stay free to differ; each hub and the trust view show where they do.
 */
export const TrustBaseline = Type.Object(
  {
    v: Type.Literal(1, { description: 'Schema version of this document.' }),
    name: Type.String({ minLength: 1, maxLength: 100, description: 'The baseline as the trust names it.' }),
    policy: Policy,
  },
  { $id: 'trust-baseline', additionalProperties: false, title: 'TrustBaseline' },
);
export type TrustBaseline = Static<typeof TrustBaseline>;

export const trustSchemas = { 'trust-baseline': TrustBaseline } as const;

// ---------------------------------------------------------------------------------------------------------------
// Trust config (`phones-away trust --config trust.json`): the trust's read-only dashboard. Kept as its own block so
// the baseline schema above it and this one merge without touching each other.
// ---------------------------------------------------------------------------------------------------------------

const TrustPort = Type.Integer({ minimum: 0, maximum: 65535, description: '0 picks a free port.' });
const TrustPath = Type.String({ minLength: 1, maxLength: 4096 });

export const TrustSchool = Type.Object(
  {
    site: Slug,
    name: Type.String({ minLength: 1, maxLength: 120, description: 'The name shown on the trust pages.' }),
    shareIncidents: Type.Optional(
      Type.Boolean({
        description:
          'The school has agreed to share its incident counts by category (numbers only) with the trust. ' +
          'Without it the trust pages say "not shared" and never query its counts.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type TrustSchool = Static<typeof TrustSchool>;

export const TrustConfig = Type.Object(
  {
    v: SchemaVersion,
    name: Type.String({
      minLength: 1,
      maxLength: 120,
      description: "The trust's name, shown on every page.",
    }),
    dataDir: Type.String({
      minLength: 1,
      maxLength: 4096,
      description: "The trust's own accounts database and sealing key live here (never a school's data).",
    }),
    http: Type.Object(
      {
        host: Type.String({ minLength: 1, maxLength: 253 }),
        port: TrustPort,
        tls: Type.Optional(
          Type.Object(
            { cert: TrustPath, key: TrustPath },
            {
              additionalProperties: false,
              description: 'Serve the pages over HTTPS (cookies become Secure).',
            },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    store: Type.Object(
      {
        url: Type.String({ format: 'uri', description: 'The shared InfluxDB the hubs write to (v1 API).' }),
        database: Slug,
        username: Type.Optional(
          Type.String({ maxLength: 64, description: 'A read-only account is enough.' }),
        ),
        passwordFile: Type.Optional(TrustPath),
      },
      { additionalProperties: false },
    ),
    schools: Type.Array(TrustSchool, { minItems: 1, maxItems: 500 }),
    baselineFile: Type.Optional(TrustPath),
    logLevel: Type.Optional(StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const)),
  },
  { additionalProperties: false },
);
export type TrustConfig = Static<typeof TrustConfig>;

export const trustConfigSchemas = { 'trust-config': TrustConfig } as const;
