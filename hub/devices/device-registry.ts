/**
 * The device registry: credentials, approval status and the hardware inventory (S1, S4, D4).
 * Secrets are stored only as scrypt hashes. A verified secret is remembered in memory as a keyed digest so that a
 * reconnect storm of thousands of devices does not cost one scrypt each (the cache is cleared on rotation/revocation).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { LockerMode } from '../../schemas/messages.js';
import type { DeviceAddress } from '../../schemas/topics.js';
import type { Principal } from '../broker/access-policy.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import { HubError } from '../errors.js';
import { hashDeviceSecret, verifySecret } from './password-hash.js';

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

/** The room of a pending device until an admin approves it into a real one. */
export const UNASSIGNED_ROOM = 'unassigned';

function publicOf({ secretHash: _secret, ...rest }: DeviceRecord): PublicDevice {
  return rest;
}

export interface ProvisionInput {
  id: string;
  address: DeviceAddress;
  secret: string;
  lockerMode: LockerMode;
  serial?: string;
  installed?: string;
  now: number;
}

export class DeviceRegistry {
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new Map<string, Buffer>();
  /**
   * Records read since the start, until forget(id): every CONNECT, policy decision and tamper check reads its device,
   * and in a reconnect storm those reads were a twentieth of the hub's main thread (bench/RESULTS.md, fleet). Every
   * write goes through a commit that calls forget(id) after it (or through flushSeen here), so a revocation or a new
   * secret is never answered from here. Unknown ids are not kept: an enrolment must always find the disk's answer.
   */
  private readonly records = new Map<string, DeviceRecord>();
  /** Bumped by every forget(): a read that began before one must not keep what it read (it may predate the write). */
  private generation = 0;
  /** Devices whose change (an op from provisionOp, pendingOp or updateOp) is being committed, until forget(id). */
  private readonly changing = new Set<string>();

  constructor(private readonly db: HubDb) {}

  private digest(id: string, secret: string): Buffer {
    return createHmac('sha256', this.cacheKey).update(id).update('\0').update(secret).digest();
  }

  async get(id: string): Promise<DeviceRecord | undefined> {
    const kept = this.records.get(id);
    if (kept) return { ...kept };
    const generation = this.generation;
    const record = await this.db.get<DeviceRecord>('devices', id);
    if (record && generation === this.generation) this.records.set(id, { ...record });
    return record;
  }

  /**
   * Reads every record into memory at once (one scan, about 1 MB for 3,000 devices), so the reconnect storm after a
   * restart authenticates from memory instead of one LevelDB read per CONNECT.
   */
  async preload(): Promise<void> {
    const generation = this.generation;
    const all = await this.db.values<DeviceRecord>('devices');
    if (generation !== this.generation) return;
    for (const record of all) if (!this.records.has(record.id)) this.records.set(record.id, record);
  }

  async list(): Promise<PublicDevice[]> {
    const all = await this.db.values<DeviceRecord>('devices');
    return all.map(({ secretHash: _secret, ...rest }) => ({ ...rest, ...this.seen.get(rest.id) }));
  }

  /** Registers (or re-keys) an approved device: used by the CLI, the admin dashboard and the demo. */
  async provision(input: ProvisionInput): Promise<PublicDevice> {
    const { op, device } = await this.provisionOp(input);
    await this.db.batch([op]);
    this.forget(input.id);
    return device;
  }

  /**
   * The op that registers (or re-keys) an approved device, and the record it replaces, for a caller that commits it
   * with its audit entry; call forget(id) once it is committed.
   */
  async provisionOp(
    input: ProvisionInput,
  ): Promise<{ op: BatchOp; device: PublicDevice; replaced: PublicDevice | undefined }> {
    this.changing.add(input.id);
    const existing = await this.get(input.id);
    const record: DeviceRecord = {
      ...(existing ?? { createdAt: input.now }),
      id: input.id,
      site: input.address.site,
      room: input.address.room,
      status: 'approved',
      lockerMode: input.lockerMode,
      secretHash: hashDeviceSecret(input.secret),
      ...(input.serial ? { serial: input.serial } : {}),
      ...(input.installed ? { installed: input.installed } : {}),
    };
    return {
      op: { type: 'put', sublevel: 'devices', key: input.id, value: record },
      device: publicOf(record),
      replaced: existing ? publicOf(existing) : undefined,
    };
  }

  /**
   * Drops a device's remembered secret digest. Called after a new secret or status is committed, not before: a
   * connection verified against the old record in between would otherwise be cached past the change.
   */
  forget(id: string): void {
    this.generation += 1;
    this.changing.delete(id);
    this.verified.delete(id);
    this.records.delete(id);
  }

  /**
   * Builds a pending device record for an enrolment (S4): it exists, so it shows on the dashboard, but it has no room
   * and the broker refuses its connections until an admin approves it. The caller commits the op with the token use.
   */
  async pendingOp(input: { id: string; site: string; secret: string; now: number }): Promise<{
    op: BatchOp;
    device: PublicDevice;
  }> {
    this.changing.add(input.id);
    const record: DeviceRecord = {
      id: input.id,
      site: input.site,
      room: UNASSIGNED_ROOM,
      status: 'pending',
      lockerMode: 'lesson',
      secretHash: hashDeviceSecret(input.secret),
      createdAt: input.now,
    };
    return {
      op: { type: 'put', sublevel: 'devices', key: input.id, value: record },
      device: publicOf(record),
    };
  }

  /**
   * The op that changes a device's status, room, locker mode or secret, with the public record before and after; the
   * caller commits it (with its audit entry) and then calls forget(id).
   */
  async updateOp(
    id: string,
    patch: {
      status?: DeviceStatus;
      room?: string;
      lockerMode?: LockerMode;
      secret?: string;
      serial?: string;
      installed?: string;
    },
  ): Promise<{ op: BatchOp; before: PublicDevice; after: PublicDevice }> {
    this.changing.add(id);
    const record = await this.get(id);
    if (!record) throw new HubError('E_UNKNOWN_DEVICE', `no device '${id}'`);
    const { secret, ...fields } = patch;
    const next: DeviceRecord = {
      ...record,
      ...fields,
      ...(secret !== undefined ? { secretHash: hashDeviceSecret(secret) } : {}),
    };
    return {
      op: { type: 'put', sublevel: 'devices', key: id, value: next },
      before: publicOf(record),
      after: publicOf(next),
    };
  }

  /**
   * Last seen and software version, from heartbeats: kept in memory and written by flushSeen() (every 30 s and at
   * stop), so a heartbeat costs no database write. Losing 30 s of "last seen" in a crash is harmless.
   */
  touch(id: string, fields: { lastSeen: number; software?: string }): void {
    this.seen.set(id, { ...this.seen.get(id), ...fields });
  }

  private readonly seen = new Map<string, { lastSeen: number; software?: string }>();

  async flushSeen(): Promise<void> {
    const updates = [...this.seen.entries()];
    this.seen.clear();
    for (const [id, fields] of updates) {
      const generation = this.generation;
      const record = await this.get(id);
      if (!record) continue;
      // A revocation or new secret committed since that read (or being committed) must not be overwritten with the
      // record as it was: these fields wait for the next flush. Queued with the hub's other batches (first in, first
      // out), so a change committed after this is written after it.
      if (generation !== this.generation || this.changing.has(id)) {
        this.seen.set(id, { ...fields, ...this.seen.get(id) });
        continue;
      }
      const next: DeviceRecord = { ...record, ...fields };
      const written = this.db.batch([{ type: 'put', sublevel: 'devices', key: id, value: next }]);
      // Remembered at once, so a change read from here after this point builds on it (and is written after it).
      this.generation += 1;
      this.records.set(id, { ...next });
      try {
        await written;
      } catch (error) {
        this.generation += 1;
        this.records.delete(id);
        this.seen.set(id, { ...fields, ...this.seen.get(id) });
        throw error;
      }
    }
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
