/**
 * Tamper evidence for device events (R7; exactly-once delivery): pure functions of (state, observation, now).
 *
 * What the device does (firmware/event-journal.ts): every *durable* event (report, locker event) carries `prev`,
 * the SHA-256 of the previous durable event's canonical JSON (eventHash). Heartbeats take a sequence number from the
 * same counter and carry the current chain head as `prev`, but are not links themselves: they are QoS 0 and may be
 * lost. After a power cut the device skips the rest of a reserved block of sequence numbers.
 *
 * So missing *sequence numbers* are normal (lost heartbeats, skipped blocks) and are never a fault here. What is
 * checked is the hash chain:
 *  - gap: the device pointed (from an event or a heartbeat) at an event the hub does not hold, and that event did not
 *    arrive within the window. A heartbeat reporting `queued > 0` extends the window: the device is still delivering.
 *  - break: what arrived cannot be part of one honest chain: an event or heartbeat pointing past a known event, an
 *    event that the known chain skips, a sequence number resent with different content, or a chain that restarts
 *    (no `prev` after the hub holds events: the device's journal was reset, or it is an impostor).
 * The first message the hub ever sees from a device is trusted as the anchor (trust on first use), so a hub with no
 * history for a device does not raise a gap for events it was never going to receive.
 *
 * One fork is not a break: a device sends a report while its journal writes it, so after a power cut in between the
 * hub holds a report the device never recorded, and the device's next message points past it at the report's own
 * predecessor. Only the newest link can be abandoned that way, only a report, and the hub already holds it: nothing
 * can be hidden by it. It is reported as 'report-kept' (logged, no device fault) and the chain goes on from the fork.
 */

export interface Link {
  seq: number;
  hash: string;
  prev?: string;
  /** A report (sent before the device's journal held it: the one link a power cut can leave behind). */
  report?: true;
}

export interface OpenGap {
  /** The hash the device pointed at and the hub does not hold. */
  prev: string;
  /** The sequence number of the message that pointed at it: the missing event is older than this. */
  bySeq: number;
  since: number;
  deadline: number;
}

export interface ChainState {
  v: 1;
  /** The most recent durable events, ascending by seq, bounded by `keep`. */
  links: Link[];
  open: OpenGap[];
  counts: { gaps: number; breaks: number };
  /**
   * The highest seq of any event observed (stored with it), even when its link was later dropped: no event past it
   * can have been stored before. Absent in states saved before it was kept.
   */
  newest?: number;
}

export type ChainObservation =
  | { kind: 'event'; seq: number; hash: string; prev?: string; report?: boolean }
  | { kind: 'heartbeat'; seq: number; prev?: string; queued: number };

export interface ChainFinding {
  /** 'report-kept': the fork after a power cut described above, not a fault. */
  kind: 'gap' | 'break' | 'report-kept';
  seq: number;
  reason: string;
}

export interface ChainOptions {
  /** How long an event the device pointed at may take to arrive before it is declared missing. */
  windowMs: number;
  /** How many recent links to remember per device. */
  keep: number;
  /** Bound on open gaps per device: beyond it the oldest is declared missing at once. */
  maxOpen: number;
}

export const DEFAULT_CHAIN_OPTIONS: ChainOptions = { windowMs: 5 * 60_000, keep: 32, maxOpen: 32 };

export interface ChainResult {
  state: ChainState;
  findings: ChainFinding[];
  /** False when the observation changed nothing (a plain duplicate): no need to persist. */
  changed: boolean;
}

export function emptyChain(): ChainState {
  return { v: 1, links: [], open: [], counts: { gaps: 0, breaks: 0 } };
}

const short = (hash: string) => hash.slice(0, 12);

export function observe(
  previous: ChainState | undefined,
  input: ChainObservation,
  now: number,
  options: ChainOptions = DEFAULT_CHAIN_OPTIONS,
): ChainResult {
  const fresh = previous === undefined || (previous.links.length === 0 && previous.open.length === 0);
  const state: ChainState = previous
    ? {
        v: 1,
        links: [...previous.links],
        open: [...previous.open],
        counts: { ...previous.counts },
        ...(previous.newest !== undefined ? { newest: previous.newest } : {}),
      }
    : emptyChain();
  const findings: ChainFinding[] = [];
  const brk = (reason: string) => {
    findings.push({ kind: 'break', seq: input.seq, reason });
    state.counts.breaks += 1;
  };

  if (input.kind === 'heartbeat' && input.queued > 0) {
    // The device still holds undelivered events: what it points at may well be on its way.
    state.open = state.open.map((gap) => ({
      ...gap,
      deadline: Math.max(gap.deadline, now + options.windowMs),
    }));
  }

  if (input.kind === 'event') {
    const same = state.links.find((l) => l.seq === input.seq);
    if (same) {
      if (same.hash === input.hash) return { state: previous ?? state, findings, changed: false };
      brk(`seq ${input.seq} resent with different content`);
      return { state, findings, changed: true };
    }
  }

  if (fresh) {
    // Trust on first use: nothing to compare with yet.
    if (input.kind === 'event') {
      state.links.push(linkOf(input));
      state.newest = Math.max(newestOf(previous), input.seq);
    }
    return { state, findings, changed: input.kind === 'event' };
  }

  const pred = latestBefore(state.links, input.seq);
  const what = input.kind === 'event' ? `event seq ${input.seq}` : `heartbeat seq ${input.seq}`;
  if (input.prev === undefined) {
    if (pred) brk(`${what} starts a new chain after seq ${pred.seq}: journal reset or impostor`);
  } else if (pred && input.prev === pred.hash) {
    // Linked to the newest event before it: the normal case.
  } else {
    const target = state.links.find((l) => l.hash === input.prev);
    if (
      target &&
      pred?.report &&
      pred.prev === target.hash &&
      latestBefore(state.links, pred.seq) === target
    ) {
      findings.push({
        kind: 'report-kept',
        seq: input.seq,
        reason: `${what} points at seq ${target.seq}: the device lost report seq ${pred.seq} (power cut as it was written); the hub holds it`,
      });
      state.links = state.links.filter((l) => l !== pred);
    } else if (target && pred && target.seq < pred.seq) {
      brk(`${what} points at seq ${target.seq}, skipping seq ${pred.seq}`);
    } else if (target && target.seq >= input.seq) {
      brk(`${what} points at a later event, seq ${target.seq}`);
    } else if (!target && pred) {
      openGap(state, { prev: input.prev, bySeq: input.seq, since: now, deadline: now + options.windowMs });
    }
    // !target && nothing known before it: older than our anchor, cannot be checked.
  }

  if (input.kind === 'event') {
    // An event arriving after its successor: that successor must not have skipped it.
    const next = state.links.find((l) => l.seq > input.seq);
    if (next?.prev !== undefined && next.prev !== input.hash) {
      const pointed = state.links.find((l) => l.hash === next.prev);
      if (pointed && pointed.seq < input.seq)
        brk(`event seq ${input.seq} is not in the chain: seq ${next.seq} points at seq ${pointed.seq}`);
    }
    for (const gap of state.open.filter((g) => g.prev === input.hash)) {
      if (input.seq >= gap.bySeq) brk(`event seq ${input.seq} is pointed at by the earlier seq ${gap.bySeq}`);
    }
    state.open = state.open.filter((g) => g.prev !== input.hash);
    insertLink(state.links, linkOf(input));
    if (state.links.length > options.keep) state.links.splice(0, state.links.length - options.keep);
    state.newest = Math.max(newestOf(previous), input.seq);
  }

  while (state.open.length > options.maxOpen) {
    const oldest = state.open.shift() as OpenGap;
    findings.push(gapFinding(oldest, 'too many missing events'));
    state.counts.gaps += 1;
  }
  return { state, findings, changed: true };
}

/** Declares missing every event the device pointed at whose window has passed. */
export function expire(state: ChainState, now: number): ChainResult {
  const due = state.open.filter((g) => g.deadline <= now);
  if (due.length === 0) return { state, findings: [], changed: false };
  return {
    state: {
      ...state,
      open: state.open.filter((g) => g.deadline > now),
      counts: { ...state.counts, gaps: state.counts.gaps + due.length },
    },
    findings: due.map((g) => gapFinding(g, `not received within ${Math.round((now - g.since) / 1000)} s`)),
    changed: true,
  };
}

function gapFinding(gap: OpenGap, why: string): ChainFinding {
  return {
    kind: 'gap',
    seq: gap.bySeq,
    reason: `events before seq ${gap.bySeq} missing (prev ${short(gap.prev)}…): ${why}`,
  };
}

function linkOf(input: { seq: number; hash: string; prev?: string; report?: boolean }): Link {
  return {
    seq: input.seq,
    hash: input.hash,
    ...(input.prev === undefined ? {} : { prev: input.prev }),
    ...(input.report ? { report: true as const } : {}),
  };
}

/**
 * A state saved before `newest` was kept starts from its newest link. Links leave from the old end, or as a report
 * the device lost in a power cut (it skips those seqs, so it never sends that one again).
 */
function newestOf(state: ChainState | undefined): number {
  if (!state) return -1;
  if (state.newest !== undefined) return state.newest;
  return state.links.reduce((max, l) => Math.max(max, l.seq), -1);
}

function latestBefore(links: Link[], seq: number): Link | undefined {
  let best: Link | undefined;
  for (const l of links) if (l.seq < seq && (!best || l.seq > best.seq)) best = l;
  return best;
}

function insertLink(links: Link[], link: Link): void {
  const at = links.findIndex((l) => l.seq > link.seq);
  if (at === -1) links.push(link);
  else links.splice(at, 0, link);
}

function openGap(state: ChainState, gap: OpenGap): void {
  const at = state.open.findIndex((g) => g.prev === gap.prev);
  const existing = state.open[at];
  if (existing) state.open[at] = { ...existing, bySeq: Math.min(existing.bySeq, gap.bySeq) };
  else state.open.push(gap);
}
