/**
 * Drives every device from the policy engine (P1–P4, P6): at start, at each timetable boundary, whenever exemptions
 * or the emergency state change, and when a device comes online, it decides each device's directive and publishes
 * what changed as Commands on the device's set/ topics; each device also gets today's and the next day's schedule
 * so it can enforce the day offline.
 *
 * Commands are QoS 1 and retained. Retained is right here because the broker lives inside the hub: a retained
 * command can never outlive the hub that decided it, and on a hub restart start() republishes the current decision
 * anyway. A device that reconnects (clean or not) finds the hub's latest word at once, without waiting for the next
 * boundary; commands carry `ts` and the device keeps the newest, so a queued older command (persistent session) and
 * the retained copy cannot roll it back. The schedule topic retains the last one sent, so whenever a schedule goes
 * out, today's goes out last.
 *
 * What was sent is recorded per device (HubDb 'policy-sent', with each message's id). At start the record is trusted
 * only where the broker still retains that very message, so a hub restart republishes just what changed (after a
 * kill -9 with 3,000 devices, republishing everything took 25 s of the restart: bench/RESULTS.md, fleet), and a lost
 * or restored broker database gets everything again. A device that comes online without its stored session (its
 * queued commands are gone) gets everything too; one that resumed its session has had them delivered.
 *
 * Time comes from the injected clock; tick(now) runs one decision round (tests call it with a fake now instead of
 * waiting for the timer).
 */
import type { SchoolModel } from '../../schemas/config.js';
import type { Command } from '../../schemas/messages.js';
import { type DeviceAddress, parseTopic, type SetCommand, topics } from '../../schemas/topics.js';
import { parse } from '../../schemas/validate.js';
import type { HubDb } from '../db/hub-db.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { EventBus } from '../event-bus.js';
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';
import { addDays, localClock, timeKindAt } from './calendar.js';
import type { ExemptionStore } from './exemptions.js';
import { type DrivenDevice, findPolicyDevice, listPolicyDevices } from './policy-devices.js';
import {
  type DaySchedule,
  type Directive,
  daySchedule,
  deviceDirective,
  type ExemptionGrant,
  nextBoundary,
} from './policy-engine.js';

export type Publish = (
  topic: string,
  payload: string,
  options: { qos: 0 | 1; retain: boolean },
) => Promise<void>;

export interface PolicyDriverDeps {
  school: SchoolModel;
  registry: DeviceRegistry;
  exemptions: ExemptionStore;
  bus: EventBus;
  publish: Publish;
  log: Logger;
  now: () => number;
  /** false: no timer, only explicit tick() calls (tests). */
  timers?: boolean;
  /** Where sent-state records live; without it every start republishes everything. */
  db?: HubDb;
  /** The broker's retained messages on this site's set/ topics, read once at start. */
  retainedCommands?: () => Promise<{ topic: string; payload: Buffer }[]>;
  /** Whether the device's current connection resumed its stored session; unknown counts as not. */
  sessionResumed?: (deviceId: string) => boolean;
}

/** What was last sent to a device, with the id of each message, so a restart can check it against the broker. */
interface Sent {
  lock?: { id: string; locked: boolean; reason: string };
  signage?: { id: string; mode: string };
  /** Schedule bodies by date (JSON), and the id of the last schedule message: the one the broker retains. */
  schedules: Map<string, string>;
  scheduleId?: string;
}

/** Sent as stored in HubDb. */
interface SentRecord {
  lock?: Sent['lock'];
  signage?: Sent['signage'];
  schedules?: { id: string; byDate: Record<string, string> };
}

/** A day's schedule as sent, with its JSON to compare against what was sent before. */
interface DayBody {
  date: string;
  body: DaySchedule;
  json: string;
}

/** Schedules kept at most (rooms × locker modes × two dates × exemption sets); past it the memo starts afresh. */
const MAX_SCHEDULES = 10_000;
const MAX_SLEEP_MS = 3_600_000;
const MIN_SLEEP_MS = 1_000;

export class PolicyDriver implements HubExtension {
  readonly name = 'policy-driver';
  private readonly sent = new Map<string, Sent>();
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private offs: (() => void)[] = [];
  private counter = 0;
  private running = false;
  /**
   * Day schedules by room, locker mode, date and the room's grants, for the school model as it stands: SchoolSettings
   * changes the model in place and then calls reload(), which empties this.
   */
  private readonly schedules = new Map<string, DayBody>();
  /** A round or refresh failed since the last complete round: devices resuming their session are refreshed too. */
  private behind = false;
  /** Commands published since start: for health and tests. */
  published = 0;

  constructor(private readonly deps: PolicyDriverDeps) {}

  /** Resolves when every queued decision round has published. */
  idle(): Promise<void> {
    return this.chain;
  }

  async start(): Promise<void> {
    this.running = true;
    await this.deps.exemptions.load();
    // Devices come back while the first round runs (after a crash, all of them at once): the round covers those
    // that resumed their session; only those that lost it are refreshed after it.
    let cameOnline: Set<string> | null = new Set();
    this.offs.push(
      this.deps.exemptions.onChange(() => {
        void this.tick();
      }),
      this.deps.bus.on('device.availability', ({ ref, availability }) => {
        if (availability.status !== 'online') return;
        if (cameOnline) cameOnline.add(ref.device);
        else if (!this.deps.sessionResumed?.(ref.device))
          void this.refreshDevice(ref.device, this.deps.now(), true);
        // A resumed session holds every command the rounds published while the device was away (QoS 1, retained),
        // so only a round that failed since leaves it something to catch up on. Skipping the rest keeps a reconnect
        // storm of 3,000 from deciding 3,000 directives and 6,000 day schedules that change nothing.
        else if (this.behind) void this.refreshDevice(ref.device, this.deps.now(), false);
      }),
    );
    const seeded = await this.seed().catch((error) => {
      this.deps.log.warn({ err: error }, 'sent commands not restored; republishing everything');
      return false;
    });
    await this.run(this.deps.now(), !seeded);
    const during = cameOnline;
    cameOnline = null;
    for (const id of during) {
      if (!this.deps.sessionResumed?.(id)) void this.refreshDevice(id, this.deps.now(), true);
    }
  }

  /** Restores `sent` from the stored records, each part only while the broker retains that very message. */
  private async seed(): Promise<boolean> {
    const { db, retainedCommands } = this.deps;
    if (!db || !retainedCommands) return false;
    const retained = new Map<string, string>();
    for (const { topic, payload } of await retainedCommands()) {
      const parsed = parseTopic(topic);
      const id = commandId(payload);
      if (parsed?.kind === 'set' && id) retained.set(`${parsed.address.device}/${parsed.command}`, id);
    }
    for await (const [device, record] of db.entries<SentRecord>('policy-sent')) {
      const sent: Sent = { schedules: new Map() };
      if (record.lock && retained.get(`${device}/lock`) === record.lock.id) sent.lock = record.lock;
      if (record.signage && retained.get(`${device}/signage`) === record.signage.id)
        sent.signage = record.signage;
      if (record.schedules && retained.get(`${device}/schedule`) === record.schedules.id) {
        sent.schedules = new Map(Object.entries(record.schedules.byDate));
        sent.scheduleId = record.schedules.id;
      }
      this.sent.set(device, sent);
    }
    return true;
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const off of this.offs) off();
    this.offs = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
  }

  /** One decision round at `now`: publishes only what changed since the last round. */
  tick(now: number = this.deps.now()): Promise<void> {
    return this.run(now, false);
  }

  /**
   * The school model changed (timetable, rooms, policy: hub/school/school-settings.ts): re-decide and re-send every
   * device's directive and both schedules at once, and re-arm the timer for the new next boundary.
   */
  reload(now: number = this.deps.now()): Promise<void> {
    this.schedules.clear();
    return this.run(now, true);
  }

  /** Brings one device up to date (it has just come online); `force` re-sends everything. */
  refreshDevice(deviceId: string, now: number = this.deps.now(), force = true): Promise<void> {
    return this.serial(async () => {
      const device = await findPolicyDevice(this.deps.school, this.deps.registry, deviceId);
      if (device) await this.apply(device, now, force);
    });
  }

  /**
   * One device's directive now, with one registry read: for per-device questions (tamper suspicion on every drop),
   * which must not cost a scan and a decision for every device: in a reconnect storm that was O(devices²).
   */
  async directive(deviceId: string, now: number = this.deps.now()): Promise<Directive | undefined> {
    const device = await findPolicyDevice(this.deps.school, this.deps.registry, deviceId);
    return device && this.decide(device, now);
  }

  /** The directive each device has now: for the dashboard. */
  async directives(now: number = this.deps.now()): Promise<(DrivenDevice & { directive: Directive })[]> {
    return (await this.devices()).map((d) => ({ ...d, directive: this.decide(d, now) }));
  }

  status(now: number = this.deps.now()) {
    const slot = timeKindAt(this.deps.school.timetable, now);
    return {
      date: slot.date,
      timeKind: slot.kind,
      period: slot.period ?? null,
      nextBoundary: nextBoundary(this.deps.school, now),
      emergency: this.deps.exemptions.activeEmergency(),
    };
  }

  private run(now: number, force: boolean): Promise<void> {
    return this.serial(async () => {
      for (const device of await this.devices()) await this.apply(device, now, force);
      this.behind = false; // every device is up to date (rounds run one at a time)
      this.arm(now);
    });
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const next = this.chain.then(task).catch((error) => {
      this.behind = true;
      this.deps.log.error({ err: error }, 'policy round failed');
    });
    this.chain = next;
    return next;
  }

  private arm(now: number): void {
    if (this.deps.timers === false || !this.running) return;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.min(MAX_SLEEP_MS, Math.max(MIN_SLEEP_MS, nextBoundary(this.deps.school, now) - now));
    // Re-reading the clock when the timer fires (not now + wait) survives suspend and clock steps.
    this.timer = setTimeout(() => void this.tick(), wait);
    this.timer.unref();
  }

  private devices(): Promise<DrivenDevice[]> {
    return listPolicyDevices(this.deps.school, this.deps.registry);
  }

  private decide(device: DrivenDevice, now: number): Directive {
    const { school, exemptions } = this.deps;
    return deviceDirective(school, device, now, exemptions.grants(), {
      emergency: exemptions.activeEmergency() !== null,
      storageReleased: exemptions.activeStorageRelease(device.room, now) !== null,
    });
  }

  private async apply(device: DrivenDevice, now: number, force: boolean): Promise<void> {
    const { school, exemptions } = this.deps;
    const d = this.decide(device, now);
    let sent = this.sent.get(device.id);
    if (!sent) {
      sent = { schedules: new Map() };
      this.sent.set(device.id, sent);
    }
    // Failures leave `sent` unchanged, so the next round retries.
    let changed = false;
    if (force || sent.lock?.locked !== d.locked || sent.lock.reason !== d.reason) {
      const body = { kind: 'lock', locked: d.locked, reason: d.reason } as const;
      sent.lock = {
        id: await this.send(device.address, 'lock', body, now),
        locked: d.locked,
        reason: d.reason,
      };
      changed = true;
    }
    if (force || sent.signage?.mode !== d.signage) {
      const id = await this.send(device.address, 'signage', { kind: 'signage', mode: d.signage }, now);
      sent.signage = { id, mode: d.signage };
      changed = true;
    }
    const today = localClock(now, school.timetable.timezone).date;
    const grants = exemptions.grants();
    const days = [addDays(today, 1), today].map((date) => this.schedule(device, date, grants));
    // The next day first, today last, and today's whenever the next day's goes: the retained copy is today's.
    if (force || days.some((day) => sent.schedules.get(day.date) !== day.json)) {
      for (const day of days) {
        if (!force && day.date !== today && sent.schedules.get(day.date) === day.json) continue;
        sent.scheduleId = await this.send(device.address, 'schedule', { kind: 'schedule', ...day.body }, now);
        sent.schedules.set(day.date, day.json);
      }
      changed = true;
    }
    for (const date of sent.schedules.keys()) if (date < today) sent.schedules.delete(date);
    if (changed) await this.record(device.id, sent);
  }

  /**
   * A device's schedule for `date`. It depends only on the school model, the device's room and locker mode, and that
   * room's exemptions, so every device of a room shares one (a round over 3,000 devices in 60 rooms computes 120).
   */
  private schedule(device: DrivenDevice, date: string, grants: ExemptionGrant[]): DayBody {
    if (this.schedules.size > MAX_SCHEDULES) this.schedules.clear();
    const own = grants.filter((g) => g.room === device.room);
    const key = JSON.stringify([device.room, device.lockerMode, date, own]);
    let day = this.schedules.get(key);
    if (!day) {
      const body = daySchedule(this.deps.school, device, date, own);
      day = { date, body, json: JSON.stringify(body) };
      this.schedules.set(key, day);
    }
    return day;
  }

  /** Stores what was sent; a failure only costs a republish at the next start. */
  private async record(deviceId: string, sent: Sent): Promise<void> {
    if (!this.deps.db) return;
    const record: SentRecord = {
      ...(sent.lock ? { lock: sent.lock } : {}),
      ...(sent.signage ? { signage: sent.signage } : {}),
      ...(sent.scheduleId
        ? { schedules: { id: sent.scheduleId, byDate: Object.fromEntries(sent.schedules) } }
        : {}),
    };
    await this.deps.db
      .put('policy-sent', deviceId, record)
      .catch((error) => this.deps.log.warn({ err: error, device: deviceId }, 'sent commands not recorded'));
  }

  private async send(
    address: DeviceAddress,
    command: SetCommand,
    body: Record<string, unknown> & { kind: Command['kind'] },
    now: number,
  ): Promise<string> {
    this.counter += 1;
    const message = parse('command', {
      v: 1,
      id: `${body.kind}-${now.toString(36)}-${this.counter.toString(36)}`,
      ts: now,
      ...body,
    });
    await this.deps.publish(topics.set(address, command), JSON.stringify(message), { qos: 1, retain: true });
    this.published += 1;
    return message.id;
  }
}

/** The id of a retained command payload, or undefined if it is not one. */
function commandId(payload: Buffer): string | undefined {
  try {
    const id = (JSON.parse(payload.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
