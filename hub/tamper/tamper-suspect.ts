/**
 * Tamper suspected (R7): a device that drops off the network while its locker should be locked and is locked with
 * phones in it (a Pi unplugged or its cable pulled in a lesson, or the office's day storage) is not just "offline
 * minutes": someone may be at the locker. The coordinator is alerted at once; the alert clears by itself only when
 * the device is back and its journal proves nothing happened unseen: it has delivered everything it queued while
 * away and the hub holds its hash chain without a gap or a break (hub/ingest/chain-tracker.ts).
 *
 * A clean goodbye and a last will both arrive as a retained 'offline': both count. A device never shuts down on its
 * own in a lesson, so a shutdown then is as suspicious as a pulled plug.
 *
 * Raised alerts are kept in HubDb ('meta', key tamper-suspect/<device>), so a hub restart neither forgets an alert nor
 * raises it twice.
 */
import type { LockerState } from '../../schemas/messages.js';
import type { HubDb } from '../db/hub-db.js';
import type { DeviceRef, EventBus } from '../event-bus.js';
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';
import type { Notice } from '../notify/notifier.js';

export interface TamperSuspect {
  device: string;
  site: string;
  room: string;
  /** When the device went away. */
  since: number;
  phones: number;
  /** Set when the device came back. */
  returnedAt?: number;
  /** Set when its journal showed a gap or a break after the drop: the alert then stays until staff look. */
  inconsistent?: string;
}

/** Pure: whether a device going offline now is a tamper suspicion. */
export function suspectOnDrop(expectedLocked: boolean, locker: LockerState | undefined): boolean {
  return expectedLocked && locker?.locked === true && locker.phones > 0;
}

/** Pure: whether a heartbeat from a returned device clears its alert. */
export function clearsSuspicion(
  s: TamperSuspect,
  heartbeat: { queued: number },
  chainConsistent: boolean,
): boolean {
  return (
    s.returnedAt !== undefined && s.inconsistent === undefined && heartbeat.queued === 0 && chainConsistent
  );
}

export interface TamperSuspectDeps {
  db: HubDb;
  bus: EventBus;
  log: Logger;
  now: () => number;
  /** Whether the policy expects this device's locker locked now (lesson, formal school time, day storage). */
  expectedLocked: (device: string, now: number) => Promise<boolean>;
  /** Whether the hub holds the device's hash chain with no open gap. */
  chainConsistent: (device: string) => boolean;
  /** The coordinator's notice (email and webhook); absent when notifications are not configured. */
  notify?: (notice: Notice) => Promise<void>;
  /** Shows or clears the alert on the dashboard's live grid. */
  show: (ref: DeviceRef, text: string | undefined) => void;
  dashboardUrl?: string;
}

const KEY = (device: string) => `tamper-suspect/${device}`;
/** Staff read plain words on the dashboard. */
export const SUSPECT_TEXT = 'Went offline while locked with phones inside: check the locker';
const INCONSISTENT_TEXT = 'Back online, but events are missing from while it was offline: check the locker';

export class TamperSuspectWatch implements HubExtension {
  readonly name = 'tamper-suspect';
  private readonly lockers = new Map<string, LockerState>();
  private readonly suspects = new Map<string, TamperSuspect>();
  private offs: (() => void)[] = [];
  private chain: Promise<void> = Promise.resolve();
  readonly stats = { raised: 0, cleared: 0 };

  constructor(private readonly deps: TamperSuspectDeps) {}

  async start(): Promise<void> {
    for await (const [, s] of this.deps.db.entries<TamperSuspect>('meta', {
      gte: 'tamper-suspect/',
      lt: 'tamper-suspect0',
    })) {
      this.suspects.set(s.device, s);
      this.deps.show(s, s.inconsistent ? INCONSISTENT_TEXT : SUSPECT_TEXT);
    }
    const { bus } = this.deps;
    this.offs.push(
      bus.on('device.locker-state', ({ ref, state }) => {
        const known = this.lockers.get(ref.device);
        if (!known || state.ts >= known.ts) this.lockers.set(ref.device, state);
      }),
      bus.on('device.availability', ({ ref, availability }) =>
        this.serial(() =>
          availability.status === 'offline' ? this.dropped(ref, availability.ts) : this.returned(ref),
        ),
      ),
      bus.on('device.fault', ({ ref, reason }) => this.serial(() => this.fault(ref, reason))),
      bus.on('device.heartbeat', ({ ref, heartbeat }) => this.serial(() => this.heartbeat(ref, heartbeat))),
    );
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    await this.chain;
  }

  /** Resolves when every queued decision has been made (tests). */
  idle(): Promise<void> {
    return this.chain;
  }

  active(): TamperSuspect[] {
    return [...this.suspects.values()];
  }

  private serial(task: () => Promise<void>): Promise<void> {
    this.chain = this.chain
      .then(task)
      .catch((error) => this.deps.log.error({ err: error }, 'tamper-suspect decision failed'));
    return this.chain;
  }

  private async dropped(ref: DeviceRef, ts: number): Promise<void> {
    if (this.suspects.has(ref.device)) return;
    const now = this.deps.now();
    const locker = this.lockers.get(ref.device);
    if (!suspectOnDrop(await this.deps.expectedLocked(ref.device, now), locker)) return;
    const s: TamperSuspect = {
      device: ref.device,
      site: ref.site,
      room: ref.room,
      since: Math.min(ts, now),
      phones: locker?.phones ?? 0,
    };
    await this.deps.db.put('meta', KEY(ref.device), s);
    this.suspects.set(ref.device, s);
    this.stats.raised += 1;
    this.deps.show(ref, SUSPECT_TEXT);
    this.deps.log.warn(
      { device: ref.device, room: ref.room },
      'tamper suspected: offline while locked with phones',
    );
    await this.deps.notify?.({
      event: 'reported',
      ref: `device ${ref.device}`,
      kind: 'tamper',
      room: ref.room,
      urgency: 'urgent',
      at: new Date(s.since).toISOString(),
      role: 'coordinator',
      link: `${(this.deps.dashboardUrl ?? '').replace(/\/+$/, '')}/`,
    });
  }

  private async returned(ref: DeviceRef): Promise<void> {
    const s = this.suspects.get(ref.device);
    if (!s || s.returnedAt !== undefined) return;
    s.returnedAt = this.deps.now();
    await this.deps.db.put('meta', KEY(ref.device), s);
  }

  private async fault(ref: DeviceRef, reason: string): Promise<void> {
    const s = this.suspects.get(ref.device);
    if (!s || s.inconsistent !== undefined) return;
    if (reason !== 'events missing' && reason !== 'event chain broken') return;
    s.inconsistent = reason;
    await this.deps.db.put('meta', KEY(ref.device), s);
    this.deps.show(ref, INCONSISTENT_TEXT);
  }

  private async heartbeat(ref: DeviceRef, heartbeat: { queued: number }): Promise<void> {
    const s = this.suspects.get(ref.device);
    if (!s) return;
    if (s.returnedAt === undefined) await this.returned(ref); // its 'online' may have been lost with a restart
    if (!clearsSuspicion(s, heartbeat, this.deps.chainConsistent(ref.device))) return;
    await this.deps.db.del('meta', KEY(ref.device));
    this.suspects.delete(ref.device);
    this.stats.cleared += 1;
    this.deps.show(ref, undefined);
    this.deps.log.info({ device: ref.device }, 'tamper suspicion cleared: journal consistent');
  }
}
