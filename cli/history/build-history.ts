/**
 * Builds the demo's past four school weeks through the running hub: simulated classrooms follow the timetable in
 * accelerated time, and what they do goes in as device messages through the hub's own ingest (the function the
 * broker hands every device publish to), policy (the lock directives they obey) and compliance recorder (its
 * end-of-day tick), while the hub's clock is held at each event's time. Reports are followed through the incident
 * workflow by the DSL. No figure is written here: every number the dashboard shows is computed by the hub from these
 * happenings, and reaches the private InfluxDB through the outbox like a live one.
 *
 * Each classroom seals its messages with the device's own event journal (the directory the live device program opens
 * next), so sequence numbers and the hash chain (R7) carry on unbroken when the live device takes over.
 *
 * Why not real MQTT round trips: four weeks of a school are thousands of messages; a publish through a socket per
 * message would take minutes, and the broker adds nothing to what the hub computes from them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EventJournal } from '../../firmware/event-journal.js';
import type { Hub } from '../../hub/main.js';
import { localClock, parseClock, zonedTime } from '../../hub/policy/calendar.js';
import { nextBoundary } from '../../hub/policy/policy-engine.js';
import type { StaffRole } from '../../hub/users/roles.js';
import type { SchoolModel } from '../../schemas/config.js';
import type { Heartbeat, LockerEvent, LockerState, Report } from '../../schemas/messages.js';
import { type DeviceAddress, topics } from '../../schemas/topics.js';
import type { DemoClock } from './demo-clock.js';
import { type HistoryPlan, historyPlan, type Miss } from './history-plan.js';

export interface HistoryOptions {
  hub: Hub;
  school: SchoolModel;
  clock: DemoClock;
  /** Each device's journal directory (the live device program's `<dataDir>/journal`). */
  journalDir: (deviceId: string) => string;
  /** The DSL who follows the reports (an existing account), and the head who grants exemptions. */
  dsl: { username: string; roles: readonly StaffRole[] };
  head: { username: string };
  software: string;
  /** Real now; defaults to Date.now(). Nothing after it is simulated. */
  until?: number;
}

export interface HistorySummary {
  days: number;
  messages: number;
  lessonsRecorded: number;
  reports: number;
  plan: HistoryPlan;
}

export class HistoryError extends Error {
  readonly code = 'E_HISTORY';
}

interface Action {
  at: number;
  /** Who acts: actions of one key run in order; those of different keys at the same instant run together. */
  key: string;
  order: number;
  run: () => Promise<void>;
}

const MIN = 60_000;
/** Classrooms are simulated from this local minute (07:00) to this one (17:00) each school day. */
const DAY_FROM = 7 * 60;
const DAY_TO = 17 * 60;
const SLOTS = 6;

/** One simulated classroom: its journal, what it has said, and what it holds back while its link is down. */
class Classroom {
  locked = false;
  doorOpen = true;
  phones = 0;
  keyOn = false;
  online = true;
  readonly backlog: (() => Promise<void>)[] = [];
  /** Journal acknowledgements still being written; the next event need not wait for them (nor does a device). */
  readonly acks: Promise<unknown>[] = [];
  private readonly bootAt: number;

  constructor(
    readonly address: DeviceAddress,
    readonly mode: 'lesson' | 'day-storage' | 'open',
    readonly journal: EventJournal,
    private readonly send: (topic: string, body: object, retain: boolean) => Promise<void>,
    private readonly software: string,
    start: number,
  ) {
    this.bootAt = start;
  }

  /** A locker event is journalled when it happens and sent now, or on reconnect when the link is down. */
  async locker(kind: LockerEvent['kind'], ts: number): Promise<void> {
    if (kind === 'locked') this.locked = true;
    if (kind === 'unlocked') this.locked = false;
    if (kind === 'door-opened') this.doorOpen = true;
    if (kind === 'door-closed') this.doorOpen = false;
    if (kind === 'key-on') this.keyOn = true;
    if (kind === 'key-off') this.keyOn = false;
    const event = await this.journal.appendLockerEvent({ kind, phones: this.phones }, ts);
    const deliver = async () => {
      await this.send(topics.event(this.address, 'locker'), event, false);
      this.acks.push(this.journal.ack(event.id));
    };
    if (this.online) await deliver();
    else this.backlog.push(deliver);
  }

  async state(ts: number): Promise<void> {
    const state: LockerState = {
      v: 1,
      ts,
      locked: this.locked,
      doorOpen: this.doorOpen,
      phones: this.phones,
      slots: SLOTS,
      keyOn: this.keyOn,
      mode: this.mode,
    };
    await this.send(topics.state(this.address, 'locker'), state, true);
  }

  async heartbeat(ts: number): Promise<void> {
    const env = await this.journal.nextEnvelope(ts);
    const heartbeat: Heartbeat = {
      ...env,
      uptimeS: Math.floor((ts - this.bootAt) / 1000),
      software: this.software,
      queued: 0,
      board: 'emulated-uno',
    };
    await this.send(topics.event(this.address, 'heartbeat'), heartbeat, false);
  }

  async report(urgency: Report['urgency'], ts: number): Promise<Report> {
    const report = await this.journal.appendReport(
      { urgency, pressMs: urgency === 'urgent' ? 2600 : 180 },
      ts,
    );
    await this.send(topics.event(this.address, 'report'), report, false);
    this.acks.push(this.journal.ack(report.id));
    return report;
  }

  async availability(status: 'online' | 'offline', ts: number): Promise<void> {
    this.online = status === 'online';
    await this.send(topics.availability(this.address), { v: 1, ts, status }, true);
    if (this.online) {
      // Reconnected: the journal replays what it held, in order, then the device says how it is.
      for (const deliver of this.backlog.splice(0)) await deliver();
      await this.heartbeat(ts);
      await this.state(ts);
    }
  }
}

/**
 * Where the history begins (half an hour before the classrooms' first morning), or null when the timetable has no
 * open day in the last four weeks. The hub is started with its clock held here, so its first-start marks (the
 * compliance recorder's "recorded up to") fall before everything the history sends.
 */
export function historyStart(school: SchoolModel, until: number): number | null {
  const tz = school.timetable.timezone;
  const first = historyPlan(school, localClock(until, tz).date).dates[0];
  return first === undefined ? null : zonedTime(first, DAY_FROM - 30, tz);
}

export async function buildHistory(options: HistoryOptions): Promise<HistorySummary> {
  const { hub, school, clock } = options;
  const tz = school.timetable.timezone;
  const until = options.until ?? Date.now();
  const plan = historyPlan(school, localClock(until, tz).date);
  const start = historyStart(school, until);
  if (start === null) {
    clock.release();
    return { days: 0, messages: 0, lessonsRecorded: 0, reports: 0, plan };
  }
  clock.set(start);

  let messages = 0;
  const send = (address: DeviceAddress) => async (topic: string, body: object, retain: boolean) => {
    const accepted = await hub.ingest.handle({
      principal: { kind: 'device', id: address.device, address },
      topic,
      payload: Buffer.from(JSON.stringify(body)),
      retain,
      qos: 1,
    });
    // A message the hub refuses is a bug in this simulation, not something to show.
    if (!accepted) throw new HistoryError(`the hub refused a simulated message on ${topic}`);
    messages += 1;
  };

  const classrooms = new Map<string, Classroom>();
  for (const entry of school.devices) {
    const address = { site: school.site, room: entry.room, device: entry.id };
    const journal = await EventJournal.open({ dir: options.journalDir(entry.id), deviceId: entry.id });
    classrooms.set(
      entry.id,
      new Classroom(address, entry.lockerMode, journal, send(address), options.software, start),
    );
  }

  const queue: Action[] = [];
  let order = 0;
  const at = (when: number, key: string, run: () => Promise<void>) => {
    if (when <= until) queue.push({ at: when, key, order: order++, run });
  };
  // Classrooms acting at the same instant (every locker locks at the bell) go in together, as they would over MQTT:
  // the hub commits their writes in one group, which is most of what makes the build take seconds, not minutes.
  const runUntil = async (limit: number) => {
    queue.sort((a, b) => a.at - b.at || a.order - b.order);
    while (queue.length > 0 && (queue[0] as Action).at < limit) {
      const instant = (queue[0] as Action).at;
      const batch: Action[] = [];
      while (queue.length > 0 && (queue[0] as Action).at === instant) batch.push(queue.shift() as Action);
      clock.set(instant);
      const byKey = new Map<string, Action[]>();
      for (const action of batch) byKey.set(action.key, [...(byKey.get(action.key) ?? []), action]);
      await Promise.all(
        [...byKey.values()].map(async (actions) => {
          for (const action of actions) await action.run();
        }),
      );
    }
  };

  try {
    for (const room of classrooms.values()) {
      at(start, room.address.device, () => room.availability('online', start));
    }
    let reports = 0;
    for (const date of plan.dates) {
      const morning = zonedTime(date, DAY_FROM, tz);
      await runUntil(morning);
      if (morning > until) break;
      clock.set(morning);
      // P6: the head grants the day's exemptions first thing, as the dashboard's Exemptions page does.
      for (const e of plan.exemptions.filter((x) => x.date === date))
        await hub.policy.exemptions.create(
          { date, room: e.room, period: e.period, reason: e.reason },
          `user:${options.head.username}`,
          clock.now(),
          true,
        );
      for (const room of classrooms.values()) {
        const seen = zonedTime(date, DAY_FROM + 50, tz);
        at(seen, room.address.device, () => room.heartbeat(seen));
        await planDay(room, date);
      }
      for (const r of plan.reports.filter((x) => x.date === date)) {
        const room = classrooms.get(r.device);
        if (!room) continue;
        const pressed = zonedTime(date, r.minute, tz);
        let incidentId: string | undefined;
        at(pressed, r.device, async () => {
          const report = await room.report(r.urgency, pressed);
          incidentId = (await hub.incidents.findByEvent(report.id))?.id;
          reports += 1;
        });
        for (const step of r.steps)
          at(pressed + step.after * MIN, 'staff', async () => {
            if (!incidentId) throw new HistoryError(`no incident for the report of ${date}`);
            await hub.safeguarding.incidents.apply(
              incidentId,
              step.command,
              `user:${options.dsl.username}`,
              options.dsl.roles,
            );
          });
      }
      // The recorder's own end-of-lesson timer, run here for the day that has just ended.
      const evening = zonedTime(date, DAY_TO, tz);
      at(evening, 'hub', async () => {
        for (const room of classrooms.values()) await Promise.all(room.acks.splice(0));
        await hub.policy.compliance.tick(evening);
      });
    }
    await runUntil(until + 1);
    for (const room of classrooms.values()) {
      await Promise.all(room.acks.splice(0));
      await room.journal.close();
    }
    clock.release();
    // Today's lessons up to the real clock, then everything to InfluxDB before the live devices start.
    await hub.policy.compliance.tick();
    await hub.policy.compliance.idle();
    await hub.outbox.drain(60_000);
    return {
      days: plan.dates.length,
      messages,
      lessonsRecorded: hub.policy.compliance.lessonsRecorded,
      reports,
      plan,
    };
  } catch (error) {
    for (const room of classrooms.values()) await room.journal.close().catch(() => undefined);
    throw error;
  }

  /** A classroom's day: it obeys the hub's lock directive at every boundary; the plan's misses bend that. */
  async function planDay(room: Classroom, date: string): Promise<void> {
    const device = room.address.device;
    const misses = plan.misses.filter((m) => m.date === date && m.device === device);
    const missAt = (kind: Miss['kind'], t: number) =>
      misses.find((m) => {
        if (m.kind !== kind || !('period' in m)) return false;
        const period = school.timetable.periods.find((p) => p.id === m.period);
        return period !== undefined && zonedTime(date, parseClock(period.start), tz) === t;
      }) as (Miss & { minutes: number }) | undefined;
    const phonesToday = 2 + ((date.charCodeAt(9) + device.length) % 5);
    let locked = false;
    for (
      let t = zonedTime(date, DAY_FROM, tz);
      t < zonedTime(date, DAY_TO, tz);
      t = nextBoundary(school, t)
    ) {
      const directive = (await hub.policy.driver.directives(t)).find((d) => d.id === device)?.directive;
      if (!directive || directive.locked === locked) continue;
      locked = directive.locked;
      const boundary = t;
      if (locked) {
        const late = missAt('late-lock', boundary);
        const ajar = missAt('door-left-open', boundary);
        if (late) {
          // The teacher holds the locker open with the staff key while phones still come in.
          at(boundary - 3 * MIN, device, () => room.locker('key-on', boundary - 3 * MIN));
          at(boundary + (late.minutes - 1) * MIN, device, async () => {
            room.phones = phonesToday;
            await room.locker('door-closed', boundary + (late.minutes - 1) * MIN);
          });
          at(boundary + late.minutes * MIN, device, async () => {
            await room.locker('key-off', boundary + late.minutes * MIN);
            await room.locker('locked', boundary + late.minutes * MIN);
          });
        } else if (ajar) {
          at(boundary, device, async () => {
            room.phones = phonesToday;
            await room.locker('locked', boundary);
          });
          at(boundary + ajar.minutes * MIN, device, () =>
            room.locker('door-closed', boundary + ajar.minutes * MIN),
          );
        } else {
          at(boundary - 2 * MIN, device, async () => {
            room.phones = phonesToday;
            await room.locker('door-closed', boundary - 2 * MIN);
          });
          at(boundary, device, () => room.locker('locked', boundary));
        }
      } else {
        at(boundary, device, () => room.locker('unlocked', boundary));
        at(boundary + MIN, device, async () => {
          await room.locker('door-opened', boundary + MIN);
          room.phones = 0;
        });
      }
    }
    for (const m of misses)
      if (m.kind === 'offline') {
        const down = zonedTime(date, m.from, tz);
        const up = zonedTime(date, m.to, tz);
        at(down, device, () => room.availability('offline', down));
        at(up, device, () => room.availability('online', up));
      }
  }
}

/**
 * Whether the demo should build the history: only on the hub's very first start (no hub database yet). A hub that
 * has run before keeps what it has, so a second start never rebuilds or duplicates anything.
 */
export function historyWanted(hubDataDir: string): boolean {
  return !existsSync(join(hubDataDir, 'hub-db'));
}

/** The journal directory of a demo device, as cli/demo.ts lays out its data directory. */
export const demoJournalDir = (dataDir: string) => (deviceId: string) =>
  join(dataDir, 'devices', deviceId, 'journal');
