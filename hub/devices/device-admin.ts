/**
 * Device administration (S4, S5, S6): enrolment with a token, approval into a room, revocation, re-keying and direct
 * registration. Every change is committed with its audit entry in one batch (so a crash or a full disk leaves both or
 * neither, and a device that enrols before anything else has started is still audited), then announced as
 * 'device.changed'; revocation or re-keying disconnects the device at once. Used by the HTTP routes and, with the hub
 * stopped, the CLI.
 */
import type { LockerMode } from '../../schemas/messages.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Principal } from '../broker/access-policy.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
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
  /** S6: each change is committed together with its audit entry. */
  audit: Pick<AuditLog, 'commit'>;
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
    const { token, record, op } = this.tokens.issueOp({
      maxUses: input.maxUses,
      ttlMs: input.ttlMinutes * 60_000,
      createdBy: input.who,
      now: this.deps.now(),
    });
    await this.commit([op], input.who, 'enrolment-token.issued', `token:${record.id}`, undefined, record);
    return { token, record };
  }

  async revokeToken(id: string, who: string): Promise<PublicToken> {
    const { record, op } = await this.tokens.revokeOp(id);
    await this.commit([op], who, 'enrolment-token.revoked', `token:${id}`, undefined, record);
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
      await this.commit([pending.op, use.op], `device:${id}`, 'enrolled', id, undefined, {
        ...pending.device,
        token: use.record.id,
      });
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
    const { op, before, after } = await this.deps.registry.updateOp(id, {
      status: 'approved',
      room: input.room,
      ...(input.lockerMode ? { lockerMode: input.lockerMode } : {}),
      ...(input.serial ? { serial: input.serial } : {}),
      ...(input.installed ? { installed: input.installed } : {}),
    });
    await this.commit([op], who, 'approved', id, before, after);
    return after;
  }

  /** Revocation is immediate: the live connection is closed and every later connection refused. */
  async revoke(id: string, who: string): Promise<PublicDevice> {
    await this.require(id);
    const { op, before, after } = await this.deps.registry.updateOp(id, { status: 'revoked' });
    await this.commit([op], who, 'revoked', id, before, after);
    this.deps.disconnect?.(id);
    return after;
  }

  /** A new secret, returned once; the old one stops working at once and the device is disconnected. */
  async rotate(id: string, who: string): Promise<{ device: PublicDevice; secret: string }> {
    const current = await this.require(id);
    if (current.status === 'revoked') throw new HubError('E_DEVICE_STATE', `device '${id}' is revoked`);
    const secret = generateSecret();
    const { op, before, after } = await this.deps.registry.updateOp(id, { secret });
    await this.commit([op], who, 'secret-rotated', id, before, after);
    this.deps.disconnect?.(id);
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
    const existing = await this.deps.registry.get(input.id);
    if (existing && existing.status !== 'revoked')
      throw new HubError('E_DEVICE_EXISTS', `device '${input.id}' exists; rotate its secret instead`);
    const secret = input.secret ?? generateSecret();
    const { op, device, replaced } = await this.deps.registry.provisionOp({
      id: input.id,
      address: { site: this.deps.site, room: input.room, device: input.id },
      secret,
      lockerMode: input.lockerMode,
      ...(input.serial ? { serial: input.serial } : {}),
      now: this.deps.now(),
    });
    await this.commit([op], who, 'added', input.id, replaced, device);
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

  /** S6: the change and its audit entry in one fsynced batch; then the live side (cached secret, listeners). */
  private async commit(
    ops: BatchOp[],
    who: string,
    what: string,
    target: string,
    before: unknown,
    after: unknown,
  ): Promise<void> {
    try {
      await this.deps.audit.commit([{ actor: who, action: `device.${what}`, target, before, after }], ops);
    } finally {
      // Committed or not, the registry drops what it remembers of the device and stops holding back its last-seen.
      if (!target.startsWith('token:')) this.deps.registry.forget(target);
    }
    this.deps.bus?.emit('device.changed', { who, what, device: target, before, after });
  }
}
