/**
 * Exemptions (P6) and emergency release, kept append-only in HubDb: every request, grant and revocation is a step
 * with who and when, never overwritten, so the record the Headteacher must keep ("such authorised use is to be
 * recorded") is complete. Current state is the fold of the steps, held in memory after load().
 *
 * An exemption covers one room, one period, one date. It expires by itself when the period ends (derived from time,
 * no write needed) and can be revoked at any moment before that. It never releases a day-storage locker (P2).
 *
 * Storage release (P2): pupils' phones stored in a room's day-storage locker are released before home time only by
 * the head's explicit action for that room, ended by the head or by the end of that day.
 *
 * S6: with an audit log, every step is committed in the same fsynced LevelDB batch as its audit entry, so a change
 * without its record (or a record without its change) cannot exist.
 */
import { randomBytes } from 'node:crypto';
import type { SchoolModel } from '../../schemas/config.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import type { AuditRecord } from '../event-bus.js';
import { dayStatus, localClock, PolicyError } from './calendar.js';
import { type ExemptionGrant, periodWindow } from './policy-engine.js';

export type ExemptionAction = 'requested' | 'granted' | 'revoked';

export interface ExemptionStep {
  exemption: string;
  step: number;
  action: ExemptionAction;
  by: string;
  at: number;
  /** On the first step only: what is exempted and why. */
  room?: string;
  period?: string;
  date?: string;
  reason?: string;
  note?: string;
}

export type ExemptionStatus = 'requested' | 'granted' | 'revoked' | 'expired';

export interface Exemption {
  id: string;
  room: string;
  period: string;
  date: string;
  reason: string;
  /** Stored status: 'expired' is derived by statusAt(). */
  status: 'requested' | 'granted' | 'revoked';
  start: number;
  end: number;
  requestedBy: string;
  requestedAt: number;
  grantedBy?: string;
  grantedAt?: number;
  revokedBy?: string;
  revokedAt?: number;
  steps: ExemptionStep[];
}

export interface EmergencyStep {
  id: string;
  action: 'release' | 'end';
  by: string;
  at: number;
}

export interface Emergency {
  id: string;
  startedBy: string;
  startedAt: number;
  endedBy?: string;
  endedAt?: number;
}

export interface StorageReleaseStep {
  id: string;
  action: 'release' | 'relock';
  room: string;
  /** The local date the release holds for: it ends by itself with that day. */
  date: string;
  by: string;
  at: number;
  reason?: string;
}

export interface StorageRelease {
  id: string;
  room: string;
  date: string;
  reason: string;
  releasedBy: string;
  releasedAt: number;
  relockedBy?: string;
  relockedAt?: number;
}

export interface ExemptionRequest {
  room: string;
  period: string;
  date: string;
  reason: string;
}

export function statusAt(e: Exemption, now: number): ExemptionStatus {
  if (e.status === 'revoked') return 'revoked';
  return now >= e.end ? 'expired' : e.status;
}

const key = (n: number, width = 15) => String(n).padStart(width, '0');
const DAY_MS = 86_400_000;

export class ExemptionStore {
  private readonly exemptions = new Map<string, Exemption>();
  private readonly emergencies: Emergency[] = [];
  private readonly storageReleases: StorageRelease[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly db: HubDb,
    private readonly school: SchoolModel,
    /** S6: where present, each step is committed with its audit entry in one batch. */
    private readonly audit?: Pick<AuditLog, 'commit'>,
  ) {}

  /** Commits `ops` and, with an audit log, the audit record in the same fsynced batch. */
  private async commit(ops: BatchOp[], record: AuditRecord): Promise<void> {
    if (this.audit) await this.audit.commit([record], ops);
    else await this.db.batch(ops, { sync: true });
  }

  async load(): Promise<void> {
    this.exemptions.clear();
    this.emergencies.length = 0;
    this.storageReleases.length = 0;
    for await (const [, step] of this.db.entries<ExemptionStep>('exemptions')) this.apply(step);
    for await (const [, step] of this.db.entries<EmergencyStep>('emergencies')) this.applyEmergency(step);
    for await (const [, step] of this.db.entries<StorageReleaseStep>('storage-releases'))
      this.applyStorage(step);
  }

  /** Called after every change (grant, revoke, emergency): the driver re-decides the devices. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  private apply(step: ExemptionStep): void {
    if (step.action === 'requested' || (step.step === 0 && step.action === 'granted')) {
      const window = periodWindow(this.school, step.period ?? '', step.date ?? '') ?? { start: 0, end: 0 };
      this.exemptions.set(step.exemption, {
        id: step.exemption,
        room: step.room ?? '',
        period: step.period ?? '',
        date: step.date ?? '',
        reason: step.reason ?? '',
        status: 'requested',
        ...window,
        requestedBy: step.by,
        requestedAt: step.at,
        steps: [],
      });
    }
    const e = this.exemptions.get(step.exemption);
    if (!e) return;
    e.steps.push(step);
    if (step.action === 'granted')
      Object.assign(e, { status: 'granted', grantedBy: step.by, grantedAt: step.at });
    if (step.action === 'revoked')
      Object.assign(e, { status: 'revoked', revokedBy: step.by, revokedAt: step.at });
  }

  private applyEmergency(step: EmergencyStep): void {
    if (step.action === 'release')
      this.emergencies.push({ id: step.id, startedBy: step.by, startedAt: step.at });
    else {
      const e = this.emergencies.find((x) => x.id === step.id);
      if (e) Object.assign(e, { endedBy: step.by, endedAt: step.at });
    }
  }

  private applyStorage(step: StorageReleaseStep): void {
    if (step.action === 'release')
      this.storageReleases.push({
        id: step.id,
        room: step.room,
        date: step.date,
        reason: step.reason ?? '',
        releasedBy: step.by,
        releasedAt: step.at,
      });
    else {
      const r = this.storageReleases.find((x) => x.id === step.id);
      if (r) Object.assign(r, { relockedBy: step.by, relockedAt: step.at });
    }
  }

  /** S6: a grant or revocation and its audit entry are one batch; `steps` are the steps written together. */
  private async append(steps: ExemptionStep[], action: string): Promise<void> {
    const first = steps[0] as ExemptionStep;
    const e = this.exemptions.get(first.exemption);
    const subject = e ?? first;
    await this.commit(
      steps.map((step) => ({
        type: 'put' as const,
        sublevel: 'exemptions' as const,
        key: `${step.exemption}:${key(step.step, 4)}`,
        value: step,
      })),
      {
        actor: (steps.at(-1) as ExemptionStep).by,
        action,
        target: `exemption:${first.exemption}`,
        after: {
          room: subject.room,
          period: subject.period,
          date: subject.date,
          reason: subject.reason,
          status: action.replace('exemption.', ''),
          ...((steps.at(-1) as ExemptionStep).note ? { note: (steps.at(-1) as ExemptionStep).note } : {}),
        },
      },
    );
    for (const step of steps) this.apply(step);
  }

  /** Checks an exemption request against the school model and the clock; every problem names its field. */
  validate(input: ExemptionRequest, now: number): string[] {
    const problems: string[] = [];
    if (!this.school.rooms.some((r) => r.id === input.room))
      problems.push(`room: unknown room '${input.room}'`);
    const window = periodWindow(this.school, input.period, input.date);
    if (!window) problems.push(`period: unknown period '${input.period}'`);
    if (dayStatus(this.school.timetable, input.date) !== 'open')
      problems.push(`date: the school is not open on ${input.date}`);
    else if (window && window.end <= now) problems.push('period: that period is already over');
    return problems;
  }

  /** A request (teacher) or, with `grant`, a grant in one step (head). */
  async create(input: ExemptionRequest, by: string, now: number, grant: boolean): Promise<Exemption> {
    const problems = this.validate(input, now);
    if (problems.length > 0) throw new InvalidExemptionError(problems);
    const id = `ex-${now.toString(36)}-${randomBytes(3).toString('hex')}`;
    const steps: ExemptionStep[] = [{ exemption: id, step: 0, action: 'requested', by, at: now, ...input }];
    if (grant) steps.push({ exemption: id, step: 1, action: 'granted', by, at: now });
    await this.append(steps, grant ? 'exemption.granted' : 'exemption.requested');
    this.changed();
    return this.mustGet(id);
  }

  async grant(id: string, by: string, now: number): Promise<Exemption> {
    const e = this.mustGet(id);
    const status = statusAt(e, now);
    if (status !== 'requested')
      throw new PolicyError('E_EXEMPTION_STATE', `exemption is ${status}, not requested`);
    await this.append(
      [{ exemption: id, step: e.steps.length, action: 'granted', by, at: now }],
      'exemption.granted',
    );
    this.changed();
    return this.mustGet(id);
  }

  /** P6: the Headteacher may withdraw authorisation at any time (also used to decline or cancel a request). */
  async revoke(id: string, by: string, now: number, note?: string): Promise<Exemption> {
    const e = this.mustGet(id);
    const status = statusAt(e, now);
    if (status === 'revoked' || status === 'expired')
      throw new PolicyError('E_EXEMPTION_STATE', `exemption is already ${status}`);
    await this.append(
      [{ exemption: id, step: e.steps.length, action: 'revoked', by, at: now, ...(note ? { note } : {}) }],
      'exemption.revoked',
    );
    this.changed();
    return this.mustGet(id);
  }

  get(id: string): Exemption | undefined {
    return this.exemptions.get(id);
  }

  private mustGet(id: string): Exemption {
    const e = this.exemptions.get(id);
    if (!e) throw new PolicyError('E_NOT_FOUND', `no exemption '${id}'`);
    return e;
  }

  list(filter: { from?: string; to?: string; room?: string } = {}): Exemption[] {
    return [...this.exemptions.values()]
      .filter(
        (e) =>
          (!filter.from || e.date >= filter.from) &&
          (!filter.to || e.date <= filter.to) &&
          (!filter.room || e.room === filter.room),
      )
      .sort((a, b) => a.start - b.start || a.requestedAt - b.requestedAt);
  }

  /** What the engine needs: granted, unrevoked exemptions (the engine matches date and period itself). */
  grants(): ExemptionGrant[] {
    return [...this.exemptions.values()]
      .filter((e) => e.status === 'granted')
      .map(({ room, period, date }) => ({ room, period, date }));
  }

  /** D5, P6: the stretches of [from, to) when a room was exempt (granted, before revocation, within its period). */
  exemptIntervals(room: string, from: number, to: number): { start: number; end: number }[] {
    const out: { start: number; end: number }[] = [];
    for (const e of this.exemptions.values()) {
      if (e.room !== room || e.grantedAt === undefined) continue;
      const start = Math.max(e.start, e.grantedAt, from);
      const end = Math.min(e.end, e.revokedAt ?? e.end, to);
      if (end > start) out.push({ start, end });
    }
    return out;
  }

  // Emergency release ------------------------------------------------------------------------------------------

  activeEmergency(): Emergency | null {
    const last = this.emergencies.at(-1);
    return last && last.endedAt === undefined ? last : null;
  }

  emergencyHistory(): Emergency[] {
    return [...this.emergencies];
  }

  /** Idempotent: a second release while one is active returns the active one. */
  async releaseAll(by: string, now: number): Promise<Emergency> {
    const active = this.activeEmergency();
    if (active) return active;
    const step: EmergencyStep = {
      id: `em-${now.toString(36)}-${randomBytes(3).toString('hex')}`,
      action: 'release',
      by,
      at: now,
    };
    await this.commit(
      [{ type: 'put', sublevel: 'emergencies', key: `${key(now)}-${step.id}-0`, value: step }],
      {
        actor: by,
        action: 'emergency.release',
        target: 'lockers:all',
        after: { id: step.id, startedBy: by, startedAt: now },
      },
    );
    this.applyEmergency(step);
    this.changed();
    return this.activeEmergency() as Emergency;
  }

  async endEmergency(by: string, now: number): Promise<Emergency> {
    const active = this.activeEmergency();
    if (!active) throw new PolicyError('E_NO_EMERGENCY', 'no emergency release is active');
    const step: EmergencyStep = { id: active.id, action: 'end', by, at: now };
    await this.commit(
      [{ type: 'put', sublevel: 'emergencies', key: `${key(now)}-${step.id}-1`, value: step }],
      {
        actor: by,
        action: 'emergency.end',
        target: 'lockers:all',
        before: { ...active },
      },
    );
    this.applyEmergency(step);
    this.changed();
    return active;
  }

  // Storage release (P2) ---------------------------------------------------------------------------------------

  /** The release holding a room's stored phones open at `now`, if any (it lapses with its day). */
  activeStorageRelease(room: string, now: number): StorageRelease | null {
    const today = localClock(now, this.school.timetable.timezone).date;
    return (
      this.storageReleases.find((r) => r.room === room && r.date === today && r.relockedAt === undefined) ??
      null
    );
  }

  storageReleaseHistory(): StorageRelease[] {
    return [...this.storageReleases];
  }

  /** P2: the head releases the pupils' phones stored in one room's day-storage locker. Idempotent per room and day. */
  async releaseStorage(room: string, reason: string, by: string, now: number): Promise<StorageRelease> {
    const problems: string[] = [];
    if (!this.school.rooms.some((r) => r.id === room)) problems.push(`room: unknown room '${room}'`);
    if (reason.trim().length < 3) problems.push('reason: say why the stored phones are released');
    if (problems.length > 0) throw new InvalidExemptionError(problems);
    const active = this.activeStorageRelease(room, now);
    if (active) return active;
    const step: StorageReleaseStep = {
      id: `sr-${now.toString(36)}-${randomBytes(3).toString('hex')}`,
      action: 'release',
      room,
      date: localClock(now, this.school.timetable.timezone).date,
      by,
      at: now,
      reason,
    };
    await this.commit(
      [{ type: 'put', sublevel: 'storage-releases', key: `${key(now)}-${step.id}-0`, value: step }],
      { actor: by, action: 'storage.release', target: `room:${room}`, after: { id: step.id, room, reason } },
    );
    this.applyStorage(step);
    this.changed();
    return this.activeStorageRelease(room, now) as StorageRelease;
  }

  /** The head locks the room's stored phones again before home time. */
  async relockStorage(room: string, by: string, now: number): Promise<StorageRelease> {
    const active = this.activeStorageRelease(room, now);
    if (!active) throw new PolicyError('E_NO_RELEASE', `no storage release is active for room '${room}'`);
    const step: StorageReleaseStep = {
      id: active.id,
      action: 'relock',
      room,
      date: active.date,
      by,
      at: now,
    };
    await this.commit(
      [{ type: 'put', sublevel: 'storage-releases', key: `${key(now)}-${step.id}-1`, value: step }],
      { actor: by, action: 'storage.relock', target: `room:${room}`, before: { ...active } },
    );
    this.applyStorage(step);
    this.changed();
    return active;
  }

  /**
   * D2: exemptions, emergency releases and storage releases that ended before `before` (an exemption at its period's
   * end or its revocation; a storage release at its relock, else a day after it was made, as it lapses with its day),
   * as the ops that delete their steps; once committed, `applied` drops them from memory. Anything still running is
   * kept, whatever its age.
   */
  retentionPlan(before: number): { ops: BatchOp[]; count: number; applied: () => void } {
    const ops: BatchOp[] = [];
    const exemptions = [...this.exemptions.values()].filter((e) => {
      const end = e.end > 0 ? Math.min(e.end, e.revokedAt ?? e.end) : (e.revokedAt ?? e.requestedAt);
      return end < before;
    });
    for (const e of exemptions)
      for (const step of e.steps)
        ops.push({ type: 'del', sublevel: 'exemptions', key: `${e.id}:${key(step.step, 4)}` });
    const emergencies = this.emergencies.filter((e) => e.endedAt !== undefined && e.endedAt < before);
    for (const e of emergencies)
      ops.push(
        { type: 'del', sublevel: 'emergencies', key: `${key(e.startedAt)}-${e.id}-0` },
        { type: 'del', sublevel: 'emergencies', key: `${key(e.endedAt as number)}-${e.id}-1` },
      );
    const releases = this.storageReleases.filter((r) => (r.relockedAt ?? r.releasedAt + DAY_MS) < before);
    for (const r of releases) {
      ops.push({ type: 'del', sublevel: 'storage-releases', key: `${key(r.releasedAt)}-${r.id}-0` });
      if (r.relockedAt !== undefined)
        ops.push({ type: 'del', sublevel: 'storage-releases', key: `${key(r.relockedAt)}-${r.id}-1` });
    }
    return {
      ops,
      count: exemptions.length + emergencies.length + releases.length,
      applied: () => {
        for (const e of exemptions) this.exemptions.delete(e.id);
        const kept = this.emergencies.filter((e) => !emergencies.includes(e));
        this.emergencies.splice(0, this.emergencies.length, ...kept);
        const keptReleases = this.storageReleases.filter((r) => !releases.includes(r));
        this.storageReleases.splice(0, this.storageReleases.length, ...keptReleases);
        this.changed();
      },
    };
  }

  emergencyIntervals(from: number, to: number, now: number): { start: number; end: number }[] {
    return this.emergencies
      .map((e) => ({ start: Math.max(e.startedAt, from), end: Math.min(e.endedAt ?? now, to) }))
      .filter((i) => i.end > i.start);
  }
}

export class InvalidExemptionError extends PolicyError {
  constructor(readonly problems: string[]) {
    super('E_VALIDATION', `invalid exemption: ${problems.join('; ')}`);
  }
}
