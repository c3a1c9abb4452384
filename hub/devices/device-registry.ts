/**
 * The device registry: credentials, approval status and the hardware inventory (S1, S4, D4).
 * Secrets are stored only as scrypt hashes. A verified secret is remembered in memory as a keyed digest so that a
 * reconnect storm of thousands of devices does not cost one scrypt each (the cache is cleared on rotation/revocation).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { LockerMode } from '../../schemas/messages.js';
import type { DeviceAddress } from '../../schemas/topics.js';
import type { Principal } from '../broker/access-policy.js';
import type { HubDb } from '../db/hub-db.js';
import { HubError } from '../errors.js';
import { hashSecret, verifySecret } from './password-hash.js';

export type DeviceStatus = 'pending' | 'approved' | 'revoked';

export interface DeviceRecord {
  id: string;
  site: string;
  room: string;
  status: DeviceStatus;
  lockerMode: LockerMode;
  secretHash: string;
  serial?: string;
  installed?: string;
  software?: string;
  lastSeen?: number;
  createdAt: number;
}

export type PublicDevice = Omit<DeviceRecord, 'secretHash'>;

export class DeviceRegistry {
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new Map<string, Buffer>();

  constructor(private readonly db: HubDb) {}

  private digest(id: string, secret: string): Buffer {
    return createHmac('sha256', this.cacheKey).update(id).update('\0').update(secret).digest();
  }

  async get(id: string): Promise<DeviceRecord | undefined> {
    return this.db.get<DeviceRecord>('devices', id);
  }

  async list(): Promise<PublicDevice[]> {
    const all = await this.db.values<DeviceRecord>('devices');
    return all.map(({ secretHash: _secret, ...rest }) => rest);
  }

  /** Registers (or re-keys) an approved device: used by the CLI, the admin dashboard and the demo. */
  async provision(input: {
    id: string;
    address: DeviceAddress;
    secret: string;
    lockerMode: LockerMode;
    serial?: string;
    installed?: string;
    now: number;
  }): Promise<PublicDevice> {
    const existing = await this.get(input.id);
    const record: DeviceRecord = {
      ...(existing ?? { createdAt: input.now }),
      id: input.id,
      site: input.address.site,
      room: input.address.room,
      status: 'approved',
      lockerMode: input.lockerMode,
      secretHash: await hashSecret(input.secret),
      ...(input.serial ? { serial: input.serial } : {}),
      ...(input.installed ? { installed: input.installed } : {}),
    };
    await this.db.put('devices', input.id, record);
    this.verified.delete(input.id);
    const { secretHash: _secret, ...rest } = record;
    return rest;
  }

  async setStatus(id: string, status: DeviceStatus): Promise<void> {
    const record = await this.get(id);
    if (!record) throw new HubError('E_UNKNOWN_DEVICE', `no device '${id}'`);
    await this.db.put('devices', id, { ...record, status });
    this.verified.delete(id);
  }

  async touch(id: string, fields: { lastSeen: number; software?: string }): Promise<void> {
    const record = await this.get(id);
    if (!record) return;
    await this.db.put('devices', id, { ...record, ...fields });
  }

  /** Returns the principal for valid credentials, or a reason. Unknown and wrong secret read the same to the caller. */
  async authenticate(
    id: string,
    secret: string,
  ): Promise<{ ok: true; principal: Principal } | { ok: false; reason: string }> {
    const record = await this.get(id);
    if (!record) return { ok: false, reason: 'unknown device' };
    if (record.status === 'revoked') return { ok: false, reason: 'device revoked' };
    const cached = this.verified.get(id);
    const digest = this.digest(id, secret);
    const good = cached ? timingSafeEqual(cached, digest) : await verifySecret(secret, record.secretHash);
    if (!good) return { ok: false, reason: 'wrong secret' };
    this.verified.set(id, digest);
    if (record.status === 'pending') return { ok: true, principal: { kind: 'pending', id } };
    return {
      ok: true,
      principal: { kind: 'device', id, address: { site: record.site, room: record.room, device: id } },
    };
  }
}
