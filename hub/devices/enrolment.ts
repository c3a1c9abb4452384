/**
 * Enrolment tokens (S4): an admin issues a token with an expiry and a maximum number of uses; a new device presents
 * it once, with the secret it chose, and becomes a *pending* device that an admin must approve.
 *
 * MQTT 3.1.1 has no extra CONNECT fields, so the token travels in the password:
 *     username = client id = the device id it chose (a slug)
 *     password = enrol:<token>:<new secret>
 * Tokens are 32 random bytes, so a SHA-256 at rest is enough (no scrypt: they cannot be guessed from a dictionary);
 * the clear token is shown once when issued.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import { HubError } from '../errors.js';

export const ENROL_PREFIX = 'enrol:';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** A device's own secret: long enough to resist guessing over the network; base64url or similar, no colon. */
const SECRET = /^[\x21-\x39\x3b-\x7e]{16,256}$/;

export interface EnrolmentToken {
  /** Short public id (the first 12 hex characters of the hash), for listing and revoking. */
  id: string;
  hash: string;
  createdAt: number;
  createdBy: string;
  expiresAt: number;
  maxUses: number;
  uses: number;
  revoked?: boolean;
  /** Device ids enrolled with it, for the audit trail. */
  devices: string[];
}

export type PublicToken = Omit<EnrolmentToken, 'hash'>;

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Splits `enrol:<token>:<secret>`; null when the password is not an enrolment request (a normal secret). */
export function parseEnrolPassword(password: string): { token: string; secret: string } | null {
  if (!password.startsWith(ENROL_PREFIX)) return null;
  const rest = password.slice(ENROL_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon < 0) return { token: rest, secret: '' };
  return { token: rest.slice(0, colon), secret: rest.slice(colon + 1) };
}

export function enrolPassword(token: string, secret: string): string {
  return `${ENROL_PREFIX}${token}:${secret}`;
}

export function validSecret(secret: string): boolean {
  return SECRET.test(secret);
}

interface IssueInput {
  maxUses: number;
  ttlMs: number;
  createdBy: string;
  now: number;
}

export class EnrolmentTokens {
  constructor(private readonly db: HubDb) {}

  /** Issues a token at once, unaudited: for tests and set-up; administration goes through issueOp and its audit. */
  async issue(input: IssueInput): Promise<{ token: string; record: PublicToken }> {
    const { token, record, op } = this.issueOp(input);
    await this.db.batch([op]);
    return { token, record };
  }

  /** A new token and the op that stores it, for the caller to commit with its audit entry. */
  issueOp(input: IssueInput): { token: string; record: PublicToken; op: BatchOp } {
    if (!Number.isInteger(input.maxUses) || input.maxUses < 1 || input.maxUses > 1000)
      throw new HubError('E_VALIDATION', 'maxUses: must be an integer from 1 to 1000');
    if (!(input.ttlMs > 0) || input.ttlMs > 30 * 24 * 3600_000)
      throw new HubError('E_VALIDATION', 'ttl: must be more than 0 and at most 30 days');
    const token = randomBytes(32).toString('base64url');
    const hash = tokenHash(token);
    const record: EnrolmentToken = {
      id: hash.slice(0, 12),
      hash,
      createdAt: input.now,
      createdBy: input.createdBy,
      expiresAt: input.now + input.ttlMs,
      maxUses: input.maxUses,
      uses: 0,
      devices: [],
    };
    return {
      token,
      record: publicToken(record),
      op: { type: 'put', sublevel: 'enrolment', key: hash, value: record },
    };
  }

  async list(): Promise<PublicToken[]> {
    return (await this.db.values<EnrolmentToken>('enrolment')).map(publicToken);
  }

  /** The op that revokes a token, for the caller to commit with its audit entry. */
  async revokeOp(id: string): Promise<{ record: PublicToken; op: BatchOp }> {
    const all = await this.db.values<EnrolmentToken>('enrolment');
    const record = all.find((t) => t.id === id);
    if (!record) throw new HubError('E_UNKNOWN_TOKEN', `no enrolment token '${id}'`);
    const revoked = { ...record, revoked: true };
    return {
      record: publicToken(revoked),
      op: { type: 'put', sublevel: 'enrolment', key: record.hash, value: revoked },
    };
  }

  /**
   * Checks a presented token and returns the op that records one use by `deviceId`, to be committed atomically with
   * the new device. Callers serialise enrolments so two devices cannot both take a token's last use.
   */
  async use(
    token: string,
    deviceId: string,
    now: number,
  ): Promise<{ ok: true; op: BatchOp; record: PublicToken } | { ok: false; reason: string }> {
    if (!TOKEN.test(token)) return { ok: false, reason: 'malformed enrolment token' };
    const hash = tokenHash(token);
    const record = await this.db.get<EnrolmentToken>('enrolment', hash);
    if (!record) return { ok: false, reason: 'unknown enrolment token' };
    if (record.revoked) return { ok: false, reason: 'enrolment token revoked' };
    if (now >= record.expiresAt) return { ok: false, reason: 'enrolment token expired' };
    if (record.uses >= record.maxUses) return { ok: false, reason: 'enrolment token used up' };
    const next = { ...record, uses: record.uses + 1, devices: [...record.devices, deviceId] };
    return {
      ok: true,
      op: { type: 'put', sublevel: 'enrolment', key: hash, value: next },
      record: publicToken(next),
    };
  }
}

function publicToken({ hash: _hash, ...rest }: EnrolmentToken): PublicToken {
  return rest;
}
