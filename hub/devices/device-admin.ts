/**
 * Device administration (S4, S5, S6): enrolment with a token, approval into a room, revocation, re-keying and direct
 * registration. Every change is announced as 'device.changed' and written to the audit log ('audit.record'), and
 * revocation or re-keying disconnects the device at once. Used by the HTTP routes and, with the hub stopped, the CLI.
 */
import type { LockerMode } from '../../schemas/messages.js';
import type { Principal } from '../broker/access-policy.js';
import type { HubDb } from '../db/hub-db.js';
import { HubError } from '../errors.js';
import type { EventBus } from '../event-bus.js';
import type { DeviceRegistry, PublicDevice } from './device-registry.js';
import { EnrolmentTokens, type PublicToken, validSecret } from './enrolment.js';
import { generateSecret } from './password-hash.js';

const SLUG = /^[a-z0-9][a-z0-9-]{0,47}$/;

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: string };

export interface DeviceAdminDeps {
  db: HubDb;
  registry: DeviceRegistry;
  site: string;
  /** Rooms of the school model: approval into any other room is refused. Empty set: any slug. */
  rooms: ReadonlySet<string>;
  now: () => number;
  bus?: EventBus;
  /** Closes a device's live MQTT connection (revocation, re-keying). */
  disconnect?: (deviceId: string) => void;
}

export class DeviceAdmin {
  readonly tokens: EnrolmentTokens;
  /** Enrolments one at a time, so two devices cannot both take a token's last use or the same id. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: DeviceAdminDeps) {
    this.tokens = new EnrolmentTokens(deps.db);
  }

  list(): Promise<PublicDevice[]> {
    return this.deps.registry.list();
  }

  async issueToken(input: { maxUses: number; ttlMinutes: number; who: string }): Promise<{
    token: string;
    record: PublicToken;
  }> {
    const issued = await this.tokens.issue({
      maxUses: input.maxUses,
      ttlMs: input.ttlMinutes * 60_000,
      createdBy: input.who,
      now: this.deps.now(),
    });
    this.record(input.who, 'enrolment-token.issued', `token:${issued.record.id}`, undefined, issued.record);
    return issued;
  }

  async revokeToken(id: string, who: string): Promise<PublicToken> {
    const record = await this.tokens.revoke(id);
    this.record(who, 'enrolment-token.revoked', `token:${id}`, undefined, record);
    return record;
  }

  /**
   * A device presenting `enrol:<token>:<secret>`. An unknown id with a valid token becomes a pending device; a known
   * id is authenticated by its secret alone (so a device retrying after a lost CONNACK is not refused, and a token
   * never re-keys an existing device).
   */
  enrol(id: string, token: string, secret: string): Promise<AuthResult> {
    const run = async (): Promise<AuthResult> => {
      if (!SLUG.test(id)) return { ok: false, reason: 'device id is not a slug' };
      if (!validSecret(secret)) return { ok: false, reason: 'enrolment secret too short or malformed' };
      if (await this.deps.registry.get(id)) return this.deps.registry.authenticate(id, secret);
      const now = this.deps.now();
      const use = await this.tokens.use(token, id, now);
      if (!use.ok) return use;
      const pending = await this.deps.registry.pendingOp({ id, site: this.deps.site, secret, now });
      await this.deps.db.batch([pending.op, use.op], { sync: true });
      this.record(`device:${id}`, 'enrolled', id, undefined, { ...pending.device, token: use.record.id });
      return { ok: true, principal: { kind: 'pending', id } };
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  async approve(
    id: string,
    input: { room: string; lockerMode?: LockerMode; serial?: string; installed?: string },
    who: string,
  ): Promise<PublicDevice> {
    this.checkRoom(input.room);
    const current = await this.require(id);
    if (current.status !== 'pending')
      throw new HubError('E_DEVICE_STATE', `device '${id}' is ${current.status}, not pending`);
    // D4: the approver, holding the hardware, enters its serial and installed date: the inventory is complete.
    const { before, after } = await this.deps.registry.update(id, {
      status: 'approved',
      room: input.room,
      ...(input.lockerMode ? { lockerMode: input.lockerMode } : {}),
      ...(input.serial ? { serial: input.serial } : {}),
      ...(input.installed ? { installed: input.installed } : {}),
    });
    this.record(who, 'approved', id, before, after);
    return after;
  }

  /** Revocation is immediate: the live connection is closed and every later connection refused. */
  async revoke(id: string, who: string): Promise<PublicDevice> {
    await this.require(id);
    const { before, after } = await this.deps.registry.update(id, { status: 'revoked' });
    this.deps.disconnect?.(id);
    this.record(who, 'revoked', id, before, after);
    return after;
  }

  /** A new secret, returned once; the old one stops working at once and the device is disconnected. */
  async rotate(id: string, who: string): Promise<{ device: PublicDevice; secret: string }> {
    const current = await this.require(id);
    if (current.status === 'revoked') throw new HubError('E_DEVICE_STATE', `device '${id}' is revoked`);
    const secret = generateSecret();
    const { before, after } = await this.deps.registry.update(id, { secret });
    this.deps.disconnect?.(id);
    this.record(who, 'secret-rotated', id, before, after);
    return { device: after, secret };
  }

  /** Registers an approved device directly (installer with the CLI); returns its secret once. */
  async add(
    input: { id: string; room: string; lockerMode: LockerMode; serial?: string; secret?: string },
    who: string,
  ): Promise<{ device: PublicDevice; secret: string }> {
    if (!SLUG.test(input.id)) throw new HubError('E_VALIDATION', 'id: must be a slug (a-z, 0-9, -)');
    this.checkRoom(input.room);
    if (input.secret !== undefined && !validSecret(input.secret))
      throw new HubError('E_VALIDATION', 'secret: 16 to 256 printable characters, no colon');
    const before = await this.deps.registry.get(input.id);
    if (before && before.status !== 'revoked')
      throw new HubError('E_DEVICE_EXISTS', `device '${input.id}' exists; rotate its secret instead`);
    const secret = input.secret ?? generateSecret();
    const device = await this.deps.registry.provision({
      id: input.id,
      address: { site: this.deps.site, room: input.room, device: input.id },
      secret,
      lockerMode: input.lockerMode,
      ...(input.serial ? { serial: input.serial } : {}),
      now: this.deps.now(),
    });
    this.record(who, 'added', input.id, before ? publicOf(before) : undefined, device);
    return { device, secret };
  }

  private async require(id: string) {
    const record = await this.deps.registry.get(id);
    if (!record) throw new HubError('E_UNKNOWN_DEVICE', `no device '${id}'`);
    return record;
  }

  private checkRoom(room: string): void {
    if (!SLUG.test(room)) throw new HubError('E_VALIDATION', 'room: must be a slug');
    if (this.deps.rooms.size > 0 && !this.deps.rooms.has(room))
      throw new HubError('E_VALIDATION', `room: '${room}' is not a room of this school`);
  }

  private record(who: string, what: string, target: string, before: unknown, after: unknown): void {
    this.deps.bus?.emit('device.changed', { who, what, device: target, before, after });
    this.deps.bus?.emit('audit.record', { actor: who, action: `device.${what}`, target, before, after });
  }
}

function publicOf<T extends { secretHash: string }>({ secretHash: _s, ...rest }: T): Omit<T, 'secretHash'> {
  return rest;
}
