import { Type } from '@sinclair/typebox';

/** Every message and config file carries a schema version so old devices can be migrated, not broken. */
export const SchemaVersion = Type.Literal(1, { description: 'Schema version of this message.' });

/** Identifiers used in topics: lower-case slugs, so they can never contain MQTT wildcards or separators. */
export const Slug = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,47}$',
  description:
    'Lower-case letters, digits and hyphens; starts with a letter or digit; at most 48 characters.',
});

/** Milliseconds since the Unix epoch, as read from the sender's clock. */
export const EpochMs = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });

/** A device-unique event id: the device id, its boot-independent sequence number, joined by a colon. */
export const EventId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,47}:[0-9]{1,15}$', maxLength: 64 });

/** SHA-256 hex of the previous event of this device: lets the hub detect lost or forged events. */
export const ChainHash = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const Sequence = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

export const ClockTime = Type.String({
  pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$',
  description: 'HH:MM, 24-hour.',
});
export const IsoDate = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'YYYY-MM-DD.' });

export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
