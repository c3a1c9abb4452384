/**
 * Edits to the school model from the dashboard (P1–P4, P8): the timetable, the zones and rooms, and the policy.
 * Each edit is checked as a whole new model (schema and cross-references), committed durably in one batch with its
 * audit entry (S6; school-persistence.ts), applied to the live model in place, and then handed to `changed` (the policy driver
 * re-decides every device and re-sends its schedules at once). Edits run one at a time, so two admins saving together
 * cannot interleave a read and a write; and an edit may name the version of the section it was made on (the
 * dashboard does), so a save over someone else's newer change is refused instead of silently undoing it.
 */
import { createHash } from 'node:crypto';
import type { SchoolModel } from '../../schemas/config.js';
import type { AuditLog } from '../audit/audit-log.js';
import { type DeviceRegistry, UNASSIGNED_ROOM } from '../devices/device-registry.js';
import { HubError } from '../errors.js';
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';
import { applyInPlace, schoolModelProblems } from './school-checks.js';
import type { SchoolPersistence } from './school-persistence.js';

export type SchoolSection = 'timetable' | 'zones-rooms' | 'policy';

/** The edit was refused; `problems` are `path: message` against the whole model (e.g. `/timetable/periods/0/end`). */
export class SchoolModelError extends HubError {
  constructor(readonly problems: string[]) {
    super('E_VALIDATION', `invalid school model: ${problems.join('; ')}`);
  }
}

export interface SchoolSettingsDeps {
  /** The live model every feature holds; edits replace its contents in place. */
  school: SchoolModel;
  persistence: SchoolPersistence;
  registry: DeviceRegistry;
  /** S6: each edit is committed together with its audit entry. */
  audit: Pick<AuditLog, 'commit'>;
  log: Logger;
  /** After the edit is stored and applied: re-decide what depends on the model. */
  changed: (school: SchoolModel) => Promise<void>;
}

const sectionOf = (model: SchoolModel, section: SchoolSection) =>
  section === 'zones-rooms'
    ? { zones: model.zones, rooms: model.rooms }
    : section === 'timetable'
      ? model.timetable
      : model.policy;

export const SCHOOL_SECTIONS: readonly SchoolSection[] = ['timetable', 'zones-rooms', 'policy'];

/** A short fingerprint of one section as the hub holds it: what an editor saw (GET /api/policy `versions`). */
export function sectionVersion(model: SchoolModel, section: SchoolSection): string {
  return createHash('sha256')
    .update(JSON.stringify(sectionOf(model, section)))
    .digest('hex')
    .slice(0, 16);
}

/** The section changed since the editor loaded it: nothing was saved. */
export class SchoolConflictError extends HubError {
  constructor(readonly section: SchoolSection) {
    super(
      'E_CONFLICT',
      `someone else saved the ${section === 'zones-rooms' ? 'zones and rooms' : section} since you opened it, so your change was not saved: reload to see theirs, then edit again`,
    );
  }
}

export class SchoolSettings implements HubExtension {
  readonly name = 'school-settings';
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: SchoolSettingsDeps) {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    await this.chain.catch(() => {});
  }

  get school(): SchoolModel {
    return this.deps.school;
  }

  /**
   * Replaces one section; resolves with the new live model, or rejects with SchoolModelError or, when `expected` (a
   * sectionVersion) is given and the section has changed since, SchoolConflictError. Either way nothing changed.
   */
  update(
    actor: string,
    section: SchoolSection,
    patch: Partial<SchoolModel>,
    expected?: string,
  ): Promise<SchoolModel> {
    const run = this.chain.then(() => this.apply(actor, section, patch, expected));
    this.chain = run.catch(() => {});
    return run;
  }

  private async apply(
    actor: string,
    section: SchoolSection,
    patch: Partial<SchoolModel>,
    expected: string | undefined,
  ): Promise<SchoolModel> {
    const { school, persistence, audit, log } = this.deps;
    if (expected !== undefined && expected !== sectionVersion(school, section)) {
      throw new SchoolConflictError(section);
    }
    const next = structuredClone({ ...school, ...patch });
    let problems = schoolModelProblems(next);
    // A device left in a removed room is said once, against the room list the admin edits.
    if (section === 'zones-rooms')
      problems = [
        ...problems.filter((p) => !p.startsWith('/devices/')),
        ...(await this.removalProblems(next)),
      ];
    if (problems.length) throw new SchoolModelError(problems);
    const before = structuredClone(sectionOf(school, section));
    await audit.commit(
      [
        {
          actor,
          action: `school.${section}.updated`,
          target: `school:${section}`,
          before,
          after: structuredClone(sectionOf(next, section)),
        },
      ],
      persistence.ops(next),
    );
    // Committed: from here the edit stands. A file write that fails now is retried at the next start.
    await persistence
      .committed(next)
      .catch((error) =>
        log.error(
          { err: error, to: persistence.where },
          'school file not written; it will be at the next start',
        ),
      );
    applyInPlace(school, next);
    log.info({ by: actor, section, to: persistence.where }, 'school model changed');
    await this.deps.changed(school);
    return school;
  }

  /** A room a device is in (in the model or the registry) cannot go; nor a zone a remaining room is in. */
  private async removalProblems(next: SchoolModel): Promise<string[]> {
    const { school, registry } = this.deps;
    const problems: string[] = [];
    const rooms = new Set(next.rooms.map((r) => r.id));
    const zones = new Set(next.zones.map((z) => z.id));
    for (const zone of school.zones.filter((z) => !zones.has(z.id))) {
      const users = next.rooms.filter((r) => r.zone === zone.id).map((r) => r.name);
      if (users.length)
        problems.push(`/zones: cannot remove zone '${zone.name}': room ${users.join(', ')} is in it`);
    }
    const registered = (await registry.list()).filter(
      (d) => d.site === school.site && d.status !== 'revoked' && d.room !== UNASSIGNED_ROOM,
    );
    for (const room of school.rooms.filter((r) => !rooms.has(r.id))) {
      const devices = [
        ...new Set([...school.devices, ...registered].filter((d) => d.room === room.id).map((d) => d.id)),
      ];
      if (devices.length)
        problems.push(
          `/rooms: cannot remove room '${room.name}': device ${devices.join(', ')} is in it; move or revoke it first`,
        );
    }
    return problems;
  }
}
