/**
 * Staged fleet roll-outs: the admin picks a version, then widens the offer (one room, a percentage, everyone); each
 * device reports its progress; more than `maxRollbacks` devices rolling back stops the roll-out by itself and
 * withdraws the offer from devices that have not started. Every admin step, every device's outcome and the automatic
 * stop are audited, each in the same batch as the change it records.
 *
 * The offer is a retained command on each device's set/update topic, so a device that is offline gets it on return.
 */
import { randomBytes } from 'node:crypto';
import type { Command, UpdateProgress, UpdateStage } from '../../schemas/messages.js';
import { type DeviceAddress, topics } from '../../schemas/topics.js';
import { compareVersions } from '../../shared/version-order.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { HubDb } from '../db/hub-db.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import { HubError } from '../errors.js';
import type { AuditRecord, EventBus } from '../event-bus.js';
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';
import type { ReleaseStore } from './release-store.js';
import {
  type FleetDevice,
  type RolloutStep,
  rolledBack,
  shouldHalt,
  stepProblem,
  targetsOf,
} from './rollout-plan.js';

export type DeviceUpdateStage = UpdateStage | 'offered' | 'withdrawn';

export interface DeviceProgress {
  room: string;
  stage: DeviceUpdateStage;
  reason?: string;
  running?: string;
  at: number;
}

export interface Rollout {
  id: string;
  version: string;
  downgrade: boolean;
  maxRollbacks: number;
  steps: RolloutStep[];
  status: 'running' | 'halted' | 'stopped';
  haltReason?: string;
  startedAt: number;
  startedBy: string;
  devices: Record<string, DeviceProgress>;
}

const KEY = 'current';
/** Outcomes worth an audit entry; the stages in between are progress only. */
const FINAL: readonly DeviceUpdateStage[] = ['installed', 'refused', 'rolled-back'];

export class UpdateError extends HubError {}

type Publish = (topic: string, payload: string, opts: { qos: 0 | 1; retain: boolean }) => Promise<void>;

export class FleetUpdates implements HubExtension {
  readonly name = 'fleet-updates';
  private off: (() => void) | null = null;
  /** One change at a time: progress from many devices and admin steps never overwrite each other. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: {
      db: HubDb;
      audit: AuditLog;
      bus: EventBus;
      registry: DeviceRegistry;
      releases: ReleaseStore;
      publish: Publish;
      now: () => number;
      log: Logger;
      /** Default for a new roll-out; the config's updates.maxRollbacks. */
      maxRollbacks: number;
    },
  ) {}

  async start(): Promise<void> {
    this.off = this.deps.bus.on('device.update-progress', ({ ref, progress }) =>
      this.serial(() => this.onProgress(ref.device, progress)),
    );
  }

  async stop(): Promise<void> {
    this.off?.();
    this.off = null;
    await this.tail.catch(() => undefined);
  }

  current(): Promise<Rollout | undefined> {
    return this.deps.db.get<Rollout>('rollouts', KEY);
  }

  private serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.tail.then(job);
    this.tail = run.catch((error) => this.deps.log.error({ err: error }, 'fleet update change failed'));
    return run;
  }

  /** The approved devices, with their addresses. */
  private async fleet(): Promise<
    (FleetDevice & { address: DeviceAddress; software?: string | undefined })[]
  > {
    return (await this.deps.registry.list())
      .filter((d) => d.status === 'approved')
      .map((d) => ({
        id: d.id,
        room: d.room,
        software: d.software,
        address: { site: d.site, room: d.room, device: d.id },
      }));
  }

  /** Starts a roll-out of `version`; it reaches no device until the first widen (one room). */
  begin(
    input: { version: string; downgrade: boolean; maxRollbacks?: number },
    actor: string,
  ): Promise<Rollout> {
    return this.serial(async () => {
      const release = await this.deps.releases.get(input.version);
      if (!release) throw new UpdateError('E_UNKNOWN_RELEASE', `no release ${input.version} is held`);
      const before = await this.current();
      if (before?.status === 'running')
        throw new UpdateError(
          'E_ROLLOUT_RUNNING',
          `the roll-out of ${before.version} is still running: stop it first`,
        );
      // A downgrade is an explicit decision: refused unless asked for when any device runs something newer.
      const newest = (await this.fleet())
        .map((d) => d.software)
        .filter((v): v is string => v !== undefined)
        .sort(compareVersions)
        .at(-1);
      const older = newest !== undefined && compareVersions(input.version, newest) < 0;
      if (older && !input.downgrade)
        throw new UpdateError(
          'E_DOWNGRADE',
          `${input.version} is older than ${newest}, which devices run: choose downgrade to go back`,
        );
      const rollout: Rollout = {
        id: `u-${this.deps.now().toString(36)}-${randomBytes(3).toString('hex')}`,
        version: input.version,
        downgrade: input.downgrade && older,
        maxRollbacks: input.maxRollbacks ?? this.deps.maxRollbacks,
        steps: [],
        status: 'running',
        startedAt: this.deps.now(),
        startedBy: actor,
        devices: {},
      };
      await this.deps.audit.commit(
        [
          {
            actor,
            action: rollout.downgrade ? 'update.downgrade' : 'update.begin',
            target: rollout.version,
            after: { id: rollout.id, maxRollbacks: rollout.maxRollbacks },
            ...(before ? { before: { id: before.id, version: before.version, status: before.status } } : {}),
          },
        ],
        [{ type: 'put', sublevel: 'rollouts', key: KEY, value: rollout }],
      );
      return rollout;
    });
  }

  /** Offers the update to more devices: one room, then a percentage, then everyone. */
  widen(step: RolloutStep, actor: string): Promise<Rollout> {
    return this.serial(async () => {
      const rollout = await this.running();
      const problem = stepProblem(rollout.steps, step);
      if (problem) throw new UpdateError('E_ROLLOUT_STEP', problem);
      const fleet = await this.fleet();
      if (step.kind === 'room' && !fleet.some((d) => d.room === step.room))
        throw new UpdateError('E_ROLLOUT_STEP', `no approved device in room ${step.room}`);
      const steps = [...rollout.steps, step];
      const targets = targetsOf(rollout.id, fleet, steps);
      const added = fleet.filter((d) => targets.has(d.id) && !rollout.devices[d.id]);
      const at = this.deps.now();
      const next: Rollout = {
        ...rollout,
        steps,
        devices: {
          ...rollout.devices,
          ...Object.fromEntries(added.map((d) => [d.id, { room: d.room, stage: 'offered' as const, at }])),
        },
      };
      await this.deps.audit.commit(
        [
          {
            actor,
            action: 'update.widen',
            target: rollout.version,
            after: { step, devices: added.map((d) => d.id) },
          },
        ],
        [{ type: 'put', sublevel: 'rollouts', key: KEY, value: next }],
      );
      const release = await this.deps.releases.get(rollout.version);
      if (!release)
        throw new UpdateError('E_UNKNOWN_RELEASE', `release ${rollout.version} is no longer held`);
      const offer: Command = {
        v: 1,
        id: rollout.id,
        ts: at,
        kind: 'update',
        version: rollout.version,
        size: release.size,
        sha256: release.sha256,
        downgrade: rollout.downgrade,
      };
      for (const d of added)
        await this.deps.publish(topics.set(d.address, 'update'), JSON.stringify(offer), {
          qos: 1,
          retain: true,
        });
      return next;
    });
  }

  /** The admin stops the roll-out: devices that have not started are no longer offered it. */
  halt(actor: string): Promise<Rollout> {
    return this.serial(async () => {
      const rollout = await this.running();
      const { next, withdrawn } = this.withdraw({ ...rollout, status: 'stopped' });
      await this.deps.audit.commit(
        [{ actor, action: 'update.stop', target: rollout.version, after: { withdrawn } }],
        [{ type: 'put', sublevel: 'rollouts', key: KEY, value: next }],
      );
      await this.clearOffers(withdrawn);
      return next;
    });
  }

  private async running(): Promise<Rollout> {
    const rollout = await this.current();
    if (rollout?.status !== 'running')
      throw new UpdateError('E_NO_ROLLOUT', 'no roll-out is running: pick a version first');
    return rollout;
  }

  private withdraw(rollout: Rollout): { next: Rollout; withdrawn: string[] } {
    const at = this.deps.now();
    const withdrawn = Object.entries(rollout.devices)
      .filter(([, p]) => p.stage === 'offered' || p.stage === 'waiting')
      .map(([id]) => id);
    const devices = { ...rollout.devices };
    for (const id of withdrawn) devices[id] = { ...(devices[id] as DeviceProgress), stage: 'withdrawn', at };
    return { next: { ...rollout, devices }, withdrawn };
  }

  private async clearOffers(ids: readonly string[]): Promise<void> {
    const fleet = await this.fleet();
    // An empty retained message removes the retained offer; a device online now drops it as invalid.
    for (const d of fleet.filter((x) => ids.includes(x.id)))
      await this.deps.publish(topics.set(d.address, 'update'), '', { qos: 1, retain: true });
  }

  private async onProgress(device: string, progress: UpdateProgress): Promise<void> {
    const rollout = await this.current();
    const known = rollout?.devices[device];
    if (!rollout || progress.offer !== rollout.id || !known) {
      this.deps.log.info(
        { device, offer: progress.offer },
        'update progress for no current roll-out; ignored',
      );
      return;
    }
    const entry: DeviceProgress = {
      room: known.room,
      stage: progress.stage,
      running: progress.running,
      at: this.deps.now(),
      ...(progress.reason ? { reason: progress.reason } : {}),
    };
    let next: Rollout = { ...rollout, devices: { ...rollout.devices, [device]: entry } };
    const records: AuditRecord[] = [];
    if (FINAL.includes(progress.stage) && known.stage !== progress.stage)
      records.push({
        actor: `device:${device}`,
        action: `update.${progress.stage}`,
        target: progress.version,
        after: { running: progress.running, ...(progress.reason ? { reason: progress.reason } : {}) },
      });
    let withdrawn: string[] = [];
    if (next.status === 'running' && shouldHalt(next.devices, next.maxRollbacks)) {
      const haltReason = `${rolledBack(next.devices)} devices rolled back (more than ${next.maxRollbacks} allowed)`;
      ({ next, withdrawn } = this.withdraw({ ...next, status: 'halted', haltReason }));
      records.push({
        actor: 'hub',
        action: 'update.halted',
        target: next.version,
        after: { reason: haltReason, withdrawn },
      });
      this.deps.log.warn({ version: next.version, reason: haltReason }, 'roll-out stopped by itself');
    }
    const ops = [{ type: 'put' as const, sublevel: 'rollouts' as const, key: KEY, value: next }];
    if (records.length > 0) await this.deps.audit.commit(records, ops);
    else await this.deps.db.batch(ops);
    await this.clearOffers(withdrawn);
  }
}
