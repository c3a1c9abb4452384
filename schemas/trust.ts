/**
 * The trust tier (many schools, one shared InfluxDB): documents the trust publishes and every hub or trust server reads
 * back from a file, so each is schema-checked at the boundary and every field is bounded.
 */
import { type Static, Type } from '@sinclair/typebox';
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
