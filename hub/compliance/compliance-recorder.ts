/**
 * Keeps each device's locker timeline from the bus and, at the end of every slot of formal school time (lessons,
 * registration and assemblies, P1, P5; same injectable clock as the policy driver), writes the slot's compliance (D5)
 * and the room's day, week and term roll-ups to InfluxDB through the durable outbox. The points keep the names
 * `compliance_lesson` and `lessons` (a slot count) so saved queries and Grafana panels keep working.
 *
 * Restart-safe: timeline entries, recorded lessons and the "recorded up to" mark live in HubDb (sublevel
 * 'compliance'), so a lesson in progress when the hub restarts is recorded from the full timeline, and lessons that
 * ended while the hub was down are caught up (up to 14 days back) on start.
 *
 * Idempotent: a lesson point's series is (room, device, period) at the lesson start, a roll-up's is (room) at the
 * day / ISO week / term start; a re-roll after late events (a device replaying its journal after an outage)
 * overwrites the same points. Every field is written every time (InfluxDB merges fields on overwrite, so an omitted
 * field would keep its stale value): 'ratio' is 1 and 'due_min' 0 when nothing was due; 'grace' is 'met', 'missed'
 * or 'n/a'.
 *
 * Availability is timed by the hub's clock when it arrives: the payload's ts of a last will is the connect time.
 */
import { randomBytes } from 'node:crypto';
import type { SchoolModel } from '../../schemas/config.js';
import type { DeviceAddress } from '../../schemas/topics.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { EventBus } from '../event-bus.js';
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';
import type { MetricsOutbox } from '../outbox/metrics-outbox.js';
import { addDays, localClock, termOf, weekStart, zonedTime } from '../policy/calendar.js';
import type { ExemptionStore } from '../policy/exemptions.js';
import { type DrivenDevice, listPolicyDevices } from '../policy/policy-devices.js';
import { complianceWindows, nextBoundary } from '../policy/policy-engine.js';
import type { MetricPoint, MetricsStore } from '../store/metrics-store.js';
import {
  type LessonCompliance,
  lessonCompliance,
  type RollUp,
  rollUp,
  type TimelineEvent,
} from './compliance.js';

export interface ComplianceRecorderDeps {
  school: SchoolModel;
  registry: DeviceRegistry;
  exemptions: ExemptionStore;
  db: HubDb;
  bus: EventBus;
  outbox: MetricsOutbox;
  store: MetricsStore;
  log: Logger;
  now: () => number;
  timers?: boolean;
  /**
   * A second sink for the roll-ups (the trust's shared store, hub/trust): its ops join the batch that queues them for
   * the hub's own store, so the two outboxes always hold the same roll-ups.
   */
  mirror?: { ops(points: MetricPoint[]): BatchOp[]; kick(): void } | undefined;
}

export interface LessonRecord {
  site: string;
  room: string;
  device: string;
  mode: string;
  period: string;
  date: string;
  start: number;
  end: number;
  result: LessonCompliance;
}

const DAY = 86_400_000;
const CATCH_UP_MS = 14 * DAY;
const pad = (n: number) => String(Math.max(0, Math.floor(n))).padStart(15, '0');
const evPrefix = (device: string) => `ev:${device}:`;

export class ComplianceRecorder implements HubExtension {
  readonly name = 'compliance-recorder';
  private readonly boot = randomBytes(3).toString('hex');
  private counter = 0;
  private mark = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private offs: (() => void)[] = [];
  private running = false;
  private readonly dirty = new Set<string>();
  /** Timeline entries waiting for the task that writes them (notesWritten, queued and not yet started). */
  private notes: { key: string; device: string; event: TimelineEvent }[] = [];
  private notesWritten: Promise<void> | undefined;
  /** Lesson points written since start: for health and tests. */
  lessonsRecorded = 0;

  constructor(private readonly deps: ComplianceRecorderDeps) {}

  async start(): Promise<void> {
    this.running = true;
    const { bus, db, now } = this.deps;
    const mark = await db.get<number>('compliance', 'mark');
    this.mark = mark ?? now();
    // First start: lessons from here on are recorded, and the mark must survive a restart before the first one ends.
    if (mark === undefined) await db.put('compliance', 'mark', this.mark);
    this.offs.push(
      bus.on('device.locker-state', ({ ref, state }) =>
        this.note(ref, { ts: state.ts, locked: state.locked, doorOpen: state.doorOpen }),
      ),
      bus.on('device.locker-event', ({ ref, event }) => {
        const delta: Partial<TimelineEvent> | null =
          event.kind === 'locked'
            ? { locked: true }
            : event.kind === 'unlocked'
              ? { locked: false }
              : event.kind === 'door-opened'
                ? { doorOpen: true }
                : event.kind === 'door-closed'
                  ? { doorOpen: false }
                  : event.kind === 'tamper'
                    ? { tamper: true }
                    : null;
        return delta ? this.note(ref, { ts: event.ts, ...delta }) : undefined;
      }),
      bus.on('device.availability', ({ ref, availability }) =>
        this.note(ref, { ts: this.deps.now(), online: availability.status === 'online' }),
      ),
    );
    await this.tick(now());
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const off of this.offs) off();
    this.offs = [];
    if (this.timer) clearTimeout(this.timer);
    await this.chain;
  }

  /** The timetable changed: re-arm for the new next lesson end (recorded lessons stay as recorded). */
  reload(now: number = this.deps.now()): Promise<void> {
    return this.serial(async () => this.arm(now));
  }

  /** Resolves when every queued write and re-roll is done. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Records every lesson that ended in (mark, now], then moves the mark. */
  tick(now: number = this.deps.now()): Promise<void> {
    return this.serial(async () => {
      const from = Math.max(this.mark, now - CATCH_UP_MS);
      if (now > from) {
        const tz = this.deps.school.timetable.timezone;
        const devices = await this.devices();
        const touched = new Set<string>();
        for (
          let date = localClock(from, tz).date;
          date <= localClock(now, tz).date;
          date = addDays(date, 1)
        ) {
          for (const device of devices)
            for (const w of complianceWindows(this.deps.school, device, date))
              if (w.end > from && w.end <= now) {
                await this.record(device, w, date, now);
                touched.add(date);
              }
        }
        this.mark = now;
        await this.deps.db.put('compliance', 'mark', now);
        for (const date of touched) await this.rollUps(date);
      }
      this.arm(now);
    });
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const next = this.chain
      .then(task)
      .catch((error) => this.deps.log.error({ err: error }, 'compliance failed'));
    this.chain = next;
    return next;
  }

  private arm(now: number): void {
    if (this.deps.timers === false || !this.running) return;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.min(3_600_000, Math.max(1_000, nextBoundary(this.deps.school, now) - now));
    this.timer = setTimeout(() => void this.tick(), wait);
    this.timer.unref();
  }

  private devices(): Promise<DrivenDevice[]> {
    return listPolicyDevices(this.deps.school, this.deps.registry);
  }

  /**
   * Stores one timeline entry; one that lands before the mark re-rolls the lessons it can change. Entries noted while
   * the chain is busy are written together in one batch (during a resend of thousands of journaled events, a LevelDB
   * put each was a twentieth of the hub's CPU).
   */
  private note(ref: DeviceAddress, event: TimelineEvent): Promise<void> {
    this.counter += 1;
    const key = `${evPrefix(ref.device)}${pad(event.ts)}:${this.boot}${this.counter.toString(36)}`;
    this.notes.push({ key, device: ref.device, event });
    this.notesWritten ??= this.serial(() => this.writeNotes());
    return this.notesWritten;
  }

  private async writeNotes(): Promise<void> {
    const notes = this.notes;
    this.notes = [];
    this.notesWritten = undefined;
    await this.deps.db.batch(
      notes.map(({ key, event }) => ({ type: 'put', sublevel: 'compliance', key, value: event })),
    );
    const tz = this.deps.school.timetable.timezone;
    for (const { device, event } of notes)
      if (event.ts < this.mark) this.dirty.add(`${device}|${localClock(event.ts, tz).date}|${event.ts}`);
    if (this.dirty.size > 0) await this.reroll();
  }

  private async reroll(): Promise<void> {
    const jobs = [...this.dirty];
    this.dirty.clear();
    const devices = await this.devices();
    const dates = new Set<string>();
    for (const job of jobs) {
      const [id, date, ts] = job.split('|') as [string, string, string];
      const device = devices.find((d) => d.id === id);
      if (!device) continue;
      // A late event changes the lesson it falls in and any later one that starts in its state.
      for (const w of complianceWindows(this.deps.school, device, date))
        if (w.end > Number(ts) && w.end <= this.mark) {
          await this.record(device, w, date, this.mark);
          dates.add(date);
        }
    }
    for (const date of dates) await this.rollUps(date);
  }

  private async timeline(device: string, start: number, end: number): Promise<TimelineEvent[]> {
    const prefix = evPrefix(device);
    const before: TimelineEvent[] = [];
    const known = { locked: false, doorOpen: false, online: false };
    // Walk back from the start only until the starting state is fully known.
    for await (const [, e] of this.deps.db.entries<TimelineEvent>('compliance', {
      gte: prefix,
      lt: `${prefix}${pad(start)}`,
      reverse: true,
      limit: 10_000,
    })) {
      before.push(e);
      if (e.locked !== undefined) known.locked = true;
      if (e.doorOpen !== undefined) known.doorOpen = true;
      if (e.online !== undefined) known.online = true;
      if (known.locked && known.doorOpen && known.online) break;
    }
    const during = await this.deps.db.values<TimelineEvent>('compliance', {
      gte: `${prefix}${pad(start)}`,
      lt: `${prefix}${pad(end)}`,
    });
    return [...before.reverse(), ...during];
  }

  private async record(
    device: DrivenDevice,
    w: { period: string; start: number; end: number },
    date: string,
    now: number,
  ): Promise<void> {
    const { school, exemptions, db, outbox } = this.deps;
    const events = await this.timeline(device.id, w.start, w.end);
    const exempt = [
      ...exemptions.exemptIntervals(device.room, w.start, w.end),
      ...exemptions.emergencyIntervals(w.start, w.end, now),
    ];
    const graceMs = school.policy.graceMinutes * 60_000;
    const result = lessonCompliance({ start: w.start, end: w.end, graceMs, events, exempt });
    const record: LessonRecord = {
      site: school.site,
      room: device.room,
      device: device.id,
      mode: device.lockerMode,
      period: w.period,
      date,
      start: w.start,
      end: w.end,
      result,
    };
    await db.batch([
      { type: 'put', sublevel: 'compliance', key: `lesson:${date}:${device.id}:${w.period}`, value: record },
      ...outbox.enqueueOps([lessonPoint(record)]),
    ]);
    outbox.kick();
    this.lessonsRecorded += 1;
  }

  /**
   * D2: timeline entries and slot records older than `before`, as the ops that delete them. Each device keeps its
   * newest entry before `before` for each of locked, door and online, so a slot recorded or re-rolled later still
   * starts in the state the locker was in; a slot record stays until its term has ended, as the term roll-up is
   * re-read from every record of the term.
   */
  async retentionPlan(before: number): Promise<{ ops: BatchOp[]; count: number }> {
    const { db, school } = this.deps;
    const ops: BatchOp[] = [];
    const byDevice = new Map<string, [string, TimelineEvent][]>();
    for await (const [key, event] of db.entries<TimelineEvent>('compliance', { gte: 'ev:', lt: 'ev;' })) {
      if (event.ts >= before) continue;
      const device = key.split(':')[1] as string;
      const list = byDevice.get(device) ?? [];
      list.push([key, event]);
      byDevice.set(device, list);
    }
    for (const list of byDevice.values()) {
      const seen = { locked: false, doorOpen: false, online: false };
      // Newest first (keys sort by time within a device): the first entry to set a field is the state to keep.
      for (const [key, event] of list.reverse()) {
        let needed = false;
        for (const field of ['locked', 'doorOpen', 'online'] as const)
          if (event[field] !== undefined && !seen[field]) {
            seen[field] = true;
            needed = true;
          }
        if (!needed) ops.push({ type: 'del', sublevel: 'compliance', key });
      }
    }
    const cutoffDate = localClock(before, school.timetable.timezone).date;
    for await (const [key, record] of db.entries<LessonRecord>('compliance', {
      gte: 'lesson:',
      lt: `lesson:${cutoffDate}`,
    })) {
      const term = termOf(school.timetable, record.date);
      if (!term || term.end < cutoffDate) ops.push({ type: 'del', sublevel: 'compliance', key });
    }
    return { ops, count: ops.length };
  }

  /**
   * Sends the mirror (the trust's shared store) the week and term roll-ups of the term under way, once per `marker`:
   * a school that joins its trust mid-term shares the whole term, not only the lessons from then on. Only the term
   * under way, and its weeks that no other term touches, because its slot records are all still held (D2 removes a
   * term's records only after it has ended); an earlier term's would be partial. In the recorder's chain, so no
   * roll-up made meanwhile is overtaken in the mirror's queue by an older one. The marker is set in the same batch.
   */
  mirrorTerm(marker: string): Promise<void> {
    return this.serial(async () => {
      const { db, school, mirror, now } = this.deps;
      if (!mirror || (await db.get('meta', marker)) !== undefined) return;
      const tz = school.timetable.timezone;
      const term = termOf(school.timetable, localClock(now(), tz).date);
      const points: MetricPoint[] = [];
      if (term) {
        const lessons = await this.lessonsBetween(term.start, addDays(term.end, 1));
        const alone = (week: string) =>
          school.timetable.terms.every((t) => t === term || t.end < week || t.start > addDays(week, 6));
        const groups = new Map<
          string,
          { measurement: string; from: string; room: string; list: LessonRecord[] }
        >();
        const add = (measurement: string, from: string, l: LessonRecord) => {
          const key = `${measurement}|${from}|${l.room}`;
          const group = groups.get(key) ?? { measurement, from, room: l.room, list: [] };
          group.list.push(l);
          groups.set(key, group);
        };
        for (const l of lessons) {
          add('compliance_term', term.start, l);
          if (alone(weekStart(l.date))) add('compliance_week', weekStart(l.date), l);
        }
        for (const g of groups.values())
          points.push(
            rollUpPoint(
              g.measurement,
              {
                site: school.site,
                room: g.room,
                ...(g.measurement === 'compliance_term' ? { term: term.name } : {}),
              },
              zonedTime(g.from, 0, tz),
              rollUp(g.list.map((l) => l.result)),
            ),
          );
      }
      await db.batch([...mirror.ops(points), { type: 'put', sublevel: 'meta', key: marker, value: now() }]);
      mirror.kick();
    });
  }

  private async lessonsBetween(from: string, toExclusive: string): Promise<LessonRecord[]> {
    return this.deps.db.values<LessonRecord>('compliance', {
      gte: `lesson:${from}`,
      lt: `lesson:${toExclusive}`,
    });
  }

  /** Re-rolls the day, ISO week and term of `date` for every room with lessons on that date. */
  private async rollUps(date: string): Promise<void> {
    const { school, outbox, db } = this.deps;
    const tz = school.timetable.timezone;
    const dayLessons = await this.lessonsBetween(date, addDays(date, 1));
    const rooms = new Set(dayLessons.map((l) => l.room));
    const points: MetricPoint[] = [];
    const scopes: { measurement: string; from: string; to: string; tags?: Record<string, string> }[] = [
      { measurement: 'compliance_day', from: date, to: addDays(date, 1) },
      { measurement: 'compliance_week', from: weekStart(date), to: addDays(weekStart(date), 7) },
    ];
    const term = termOf(school.timetable, date);
    if (term)
      scopes.push({
        measurement: 'compliance_term',
        from: term.start,
        to: addDays(term.end, 1),
        tags: { term: term.name },
      });
    for (const scope of scopes) {
      const lessons = scope.from === date ? dayLessons : await this.lessonsBetween(scope.from, scope.to);
      for (const room of rooms) {
        const r = rollUp(lessons.filter((l) => l.room === room).map((l) => l.result));
        points.push(
          rollUpPoint(
            scope.measurement,
            { site: school.site, room, ...scope.tags },
            zonedTime(scope.from, 0, tz),
            r,
          ),
        );
      }
    }
    const mirror = this.deps.mirror;
    await db.batch([...outbox.enqueueOps(points), ...(mirror?.ops(points) ?? [])]);
    outbox.kick();
    mirror?.kick();
  }
}

export function lessonPoint(r: LessonRecord): MetricPoint {
  const x = r.result;
  return {
    measurement: 'compliance_lesson',
    tags: { site: r.site, room: r.room, device: r.device, period: r.period, mode: r.mode },
    fields: {
      date: r.date,
      scheduled_min: x.scheduledMin,
      locked_closed_min: x.lockedClosedMin,
      exempt_min: x.exemptMin,
      offline_min: x.offlineMin,
      breach_min: x.breachMin,
      due_min: Math.max(0, x.scheduledMin - x.exemptMin),
      tamper_count: x.tamperCount,
      grace: x.lockedWithinGrace === null ? 'n/a' : x.lockedWithinGrace ? 'met' : 'missed',
      lock_delay_min: x.lockDelayMin ?? -1,
      ratio: x.ratio ?? 1,
    },
    ts: r.start,
  };
}

export function rollUpPoint(
  measurement: string,
  tags: Record<string, string>,
  ts: number,
  r: RollUp,
): MetricPoint {
  return {
    measurement,
    tags,
    fields: {
      lessons: r.lessons,
      scheduled_min: r.scheduledMin,
      locked_closed_min: r.lockedClosedMin,
      exempt_min: r.exemptMin,
      offline_min: r.offlineMin,
      breach_min: r.breachMin,
      due_min: Math.max(0, r.scheduledMin - r.exemptMin),
      tamper_count: r.tamperCount,
      grace_met: r.graceMet,
      grace_due: r.graceDue,
      ratio: r.ratio ?? 1,
    },
    ts,
  };
}
