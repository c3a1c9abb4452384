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
 * the retained copy cannot roll it back. The schedule topic retains the last one sent, so today's is sent last.
 *
 * Time comes from the injected clock; tick(now) runs one decision round (tests call it with a fake now instead of
 * waiting for the timer).
 */
import type { SchoolModel } from '../../schemas/config.js';
import type { Command } from '../../schemas/messages.js';
import { type DeviceAddress, type SetCommand, topics } from '../../schemas/topics.js';
import { parse } from '../../schemas/validate.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { EventBus } from '../event-bus.js';
import type { HubExtension } from '../extension.js';
import type { RouteModule } from '../http/http-server.js';
import { policyRoutes } from '../http/routes/policy-routes.js';
import type { Logger } from '../log.js';
import { addDays, localClock, timeKindAt } from './calendar.js';
import type { ExemptionStore } from './exemptions.js';
import { type DrivenDevice, listPolicyDevices } from './policy-devices.js';
import { type Directive, daySchedule, deviceDirective, nextBoundary } from './policy-engine.js';

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
}

interface Sent {
  locked?: boolean;
  reason?: string;
  signage?: string;
  schedules: Map<string, string>;
}

const MAX_SLEEP_MS = 3_600_000;
const MIN_SLEEP_MS = 1_000;

export class PolicyDriver implements HubExtension {
  readonly name = 'policy-driver';
  readonly routes: RouteModule;
  private readonly sent = new Map<string, Sent>();
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private offs: (() => void)[] = [];
  private counter = 0;
  private running = false;
  /** Commands published since start: for health and tests. */
  published = 0;

  constructor(private readonly deps: PolicyDriverDeps) {
    this.routes = policyRoutes({
      school: deps.school,
      exemptions: deps.exemptions,
      driver: this,
      bus: deps.bus,
    });
  }

  /** Resolves when every queued decision round has published. */
  idle(): Promise<void> {
    return this.chain;
  }

  async start(): Promise<void> {
    this.running = true;
    await this.deps.exemptions.load();
    this.offs.push(
      this.deps.exemptions.onChange(() => {
        void this.tick();
      }),
      this.deps.bus.on('device.availability', ({ ref, availability }) => {
        if (availability.status === 'online') void this.refreshDevice(ref.device);
      }),
    );
    await this.run(this.deps.now(), true);
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
    return this.run(now, true);
  }

  /** Re-sends everything to one device (it has just come online). */
  refreshDevice(deviceId: string, now: number = this.deps.now()): Promise<void> {
    return this.serial(async () => {
      const device = (await this.devices()).find((d) => d.id === deviceId);
      if (device) await this.apply(device, now, true);
    });
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
      this.arm(now);
    });
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const next = this.chain
      .then(task)
      .catch((error) => this.deps.log.error({ err: error }, 'policy round failed'));
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
    if (force || sent.locked !== d.locked || sent.reason !== d.reason) {
      await this.send(device.address, 'lock', { kind: 'lock', locked: d.locked, reason: d.reason }, now);
      sent.locked = d.locked;
      sent.reason = d.reason;
    }
    if (force || sent.signage !== d.signage) {
      await this.send(device.address, 'signage', { kind: 'signage', mode: d.signage }, now);
      sent.signage = d.signage;
    }
    const today = localClock(now, school.timetable.timezone).date;
    // The next day first, today last: the retained copy is then today's.
    for (const date of [addDays(today, 1), today]) {
      const body = daySchedule(school, device, date, exemptions.grants());
      const hash = JSON.stringify(body);
      if (!force && sent.schedules.get(date) === hash) continue;
      await this.send(device.address, 'schedule', { kind: 'schedule', ...body }, now);
      sent.schedules.set(date, hash);
    }
    for (const date of sent.schedules.keys()) if (date < today) sent.schedules.delete(date);
  }

  private async send(
    address: DeviceAddress,
    command: SetCommand,
    body: Record<string, unknown> & { kind: Command['kind'] },
    now: number,
  ): Promise<void> {
    this.counter += 1;
    const message = parse('command', {
      v: 1,
      id: `${body.kind}-${now.toString(36)}-${this.counter.toString(36)}`,
      ts: now,
      ...body,
    });
    await this.deps.publish(topics.set(address, command), JSON.stringify(message), { qos: 1, retain: true });
    this.published += 1;
  }
}
