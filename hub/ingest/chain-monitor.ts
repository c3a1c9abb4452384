/**
 * The I/O side of the chain tracker: per-device chain state cached in memory and persisted in the same atomic batch
 * as the event it describes, a periodic sweep that declares overdue events missing, and the 'device.fault' events the
 * dashboard grid shows (R7).
 *
 * On disk a device's state is a small head ('chain' sublevel, key = device: open gaps, counts, newest) and one key
 * per link ('chain-links', key = device:seq), so an event writes its own link and the head, not the whole window of
 * links (32 of them, 5 KB, rewritten with every event: most of what a resend of thousands of events wrote to disk,
 * bench/RESULTS.md f). Heads saved before this layout (v 1) hold their links inline; they are read as they are, and the
 * first save after moves the links out.
 */
import type { BatchOp, HubDb } from '../db/hub-db.js';
import type { DeviceRef, EventBus } from '../event-bus.js';
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';
import {
  type ChainFinding,
  type ChainObservation,
  type ChainOptions,
  type ChainState,
  DEFAULT_CHAIN_OPTIONS,
  expire,
  type Link,
  observe,
} from './chain-tracker.js';

/** A device's head as stored: v 2 keeps the links under their own keys, v 1 (older hubs) inline. */
type StoredHead =
  | { ref: DeviceRef; state: ChainState }
  | { ref: DeviceRef; state: Omit<ChainState, 'v' | 'links'> & { v: 2 } };

const linkKey = (device: string, seq: number) => `${device}:${String(seq).padStart(16, '0')}`;
const linkRange = (device: string) => ({ gt: `${device}:`, lt: `${device}:\uffff` });

/**
 * The ops that take a device's stored chain from `before` to `after`: the head, a put for each new link and a delete
 * for each dropped one (a link is new when it is not the same object: observe() carries unchanged links over as they
 * are). With `before` undefined every link is written, as for a head that held its links inline. Both link lists are
 * ascending by seq with no seq twice (observe() keeps them so), so one merge walk finds both, with no sets built:
 * this runs for every event the hub stores.
 */
function chainOps(ref: DeviceRef, before: ChainState | undefined, after: ChainState): BatchOp[] {
  const { links, v: _v, ...rest } = after;
  const ops: BatchOp[] = [
    { type: 'put', sublevel: 'chain', key: ref.device, value: { ref, state: { ...rest, v: 2 } } },
  ];
  const old = before?.links ?? [];
  const put = (link: Link) =>
    ops.push({ type: 'put', sublevel: 'chain-links', key: linkKey(ref.device, link.seq), value: link });
  const del = (link: Link) =>
    ops.push({ type: 'del', sublevel: 'chain-links', key: linkKey(ref.device, link.seq) });
  let i = 0;
  for (const link of links) {
    while (i < old.length && (old[i] as Link).seq < link.seq) del(old[i++] as Link);
    if (i < old.length && (old[i] as Link).seq === link.seq) {
      if (old[i] !== link) put(link);
      i += 1;
    } else put(link);
  }
  while (i < old.length) del(old[i++] as Link);
  return ops;
}

export interface ChainStats {
  gaps: number;
  breaks: number;
}

export class ChainMonitor implements HubExtension {
  readonly name = 'chain-monitor';
  readonly stats: ChainStats = { gaps: 0, breaks: 0 };
  private readonly states = new Map<string, { ref: DeviceRef; state: ChainState }>();
  /**
   * Devices known to have no stored chain (e.g. only heartbeats so far, which change nothing until an event anchors
   * the chain). Without it every such heartbeat cost a LevelDB read that always missed. This monitor is the only
   * writer of the 'chain' sublevel, so the negative answer stays true until observe() stores a state.
   */
  private readonly absent = new Set<string>();
  /**
   * Devices whose next save writes the whole state (the head and every link), not the difference from the cached one:
   * a head stored inline by an older hub (v 1), or a state whose write failed (unsaved()), so the cache is ahead of
   * the disk.
   */
  private readonly rewrite = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly options: ChainOptions;

  constructor(
    private readonly deps: {
      db: HubDb;
      bus: EventBus;
      log: Logger;
      now: () => number;
      options?: Partial<ChainOptions>;
      sweepMs?: number;
    },
  ) {
    this.options = { ...DEFAULT_CHAIN_OPTIONS, ...deps.options };
  }

  async start(): Promise<void> {
    // Devices with events still awaited before a restart must be swept even if they never speak again.
    for await (const [key, head] of this.deps.db.entries<StoredHead>('chain')) {
      if (this.states.has(key) || head.state.open.length === 0) continue;
      await this.cache(key, head);
    }
    this.timer = setInterval(() => void this.sweep(), this.deps.sweepMs ?? 5_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }

  /**
   * Checks one observation against the device's chain. Returns the batch op that persists the new state (so the
   * caller stores it atomically with the event), or none when nothing changed. Findings are emitted at once.
   * Callers serialise per device (ingest's KeyedQueue).
   */
  async observe(ref: DeviceRef, observation: ChainObservation): Promise<BatchOp[]> {
    const current = await this.load(ref);
    const result = observe(current, observation, this.deps.now(), this.options);
    // Unchanged, but not on disk as cached: the resend of an event whose write failed writes its link after all.
    if (!result.changed)
      return current && this.rewrite.has(ref.device) ? this.saveOps(ref, current, current) : [];
    this.absent.delete(ref.device);
    this.states.set(ref.device, { ref, state: result.state });
    this.report(ref, result.findings);
    return this.saveOps(ref, current, result.state);
  }

  /**
   * Whether `seq` is past every event observed for the device (ChainState.newest; the cached state, never read from
   * disk here). Every durable event is observed here before it is stored, and its chain state is written in the same
   * batch, so an event past the newest cannot have been stored before: ingest skips its dedupe read (a LevelDB read
   * per event, the largest single cost of storing one). False when unsure (chain not loaded yet, a state saved before
   * `newest` was kept, or an older seq): the dedupe key is read as before.
   */
  isPastChain(device: string, seq: number): boolean {
    const newest = this.states.get(device)?.state.newest;
    return newest !== undefined && seq > newest;
  }

  /**
   * The ops observe() returned for this device were not stored (their write failed: a full disk, say). The cached
   * state is then ahead of the disk: it holds the failed event's link, so the device's resend of that event changes
   * nothing and would be stored without it, and a restarted hub would see the next event point at an event it does not
   * hold (a false 'events missing'). So the device's next observation writes its whole state, the resend included.
   */
  unsaved(device: string): void {
    if (this.states.has(device)) this.rewrite.add(device);
  }

  /** Whether the hub holds the device's chain with no event it is still waiting for (R7: a returned device). */
  consistent(device: string): boolean {
    return (this.states.get(device)?.state.open.length ?? 0) === 0;
  }

  /** Declares missing every awaited event whose window has passed. */
  async sweep(): Promise<void> {
    const now = this.deps.now();
    for (const [key, { ref, state }] of this.states) {
      const result = expire(state, now);
      if (!result.changed) continue;
      this.states.set(key, { ref, state: result.state });
      this.report(ref, result.findings);
      await this.deps.db.batch(this.saveOps(ref, state, result.state)).catch((error) => {
        this.unsaved(key);
        this.deps.log.error({ err: error, device: key }, 'chain state not saved');
      });
    }
  }

  /** The device's chain as stored on disk (not the cached one): for tests and tools. */
  async stored(device: string): Promise<ChainState | undefined> {
    const head = await this.deps.db.get<StoredHead>('chain', device);
    return head ? this.withLinks(device, head) : undefined;
  }

  private async load(ref: DeviceRef): Promise<ChainState | undefined> {
    const cached = this.states.get(ref.device);
    if (cached) return cached.state;
    if (this.absent.has(ref.device)) return undefined;
    const head = await this.deps.db.get<StoredHead>('chain', ref.device);
    if (!head) {
      this.absent.add(ref.device);
      return undefined;
    }
    return this.cache(ref.device, head);
  }

  /** A stored head, with its links, becomes the device's cached state; one stored inline (v 1) is rewritten on save. */
  private async cache(device: string, head: StoredHead): Promise<ChainState> {
    const state = await this.withLinks(device, head);
    if (head.state.v === 1) this.rewrite.add(device);
    this.states.set(device, { ref: head.ref, state });
    return state;
  }

  /** A stored head with its links: read from their own keys (v 2), or inline (v 1). Reads only. */
  private async withLinks(device: string, head: StoredHead): Promise<ChainState> {
    if (head.state.v === 1) return head.state;
    const { v: _v, ...rest } = head.state;
    return { ...rest, v: 1, links: await this.deps.db.values<Link>('chain-links', linkRange(device)) };
  }

  private saveOps(ref: DeviceRef, before: ChainState | undefined, after: ChainState): BatchOp[] {
    const written = this.rewrite.delete(ref.device) ? undefined : before;
    return chainOps(ref, written, after);
  }

  private report(ref: DeviceRef, findings: ChainFinding[]): void {
    for (const finding of findings) {
      if (finding.kind === 'report-kept') {
        this.deps.log.warn(
          { device: ref.device, detail: finding.reason },
          'device lost a report the hub holds',
        );
        continue;
      }
      if (finding.kind === 'gap') this.stats.gaps += 1;
      else this.stats.breaks += 1;
      this.deps.log.warn(
        { device: ref.device, kind: finding.kind, detail: finding.reason },
        'device chain fault',
      );
      this.deps.bus.emit('device.fault', {
        ref,
        reason: finding.kind === 'gap' ? 'events missing' : 'event chain broken',
        detail: finding.reason,
      });
    }
  }
}
