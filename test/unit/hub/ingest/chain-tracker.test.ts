import { describe, expect, it } from 'vitest';
import {
  type ChainObservation,
  type ChainResult,
  type ChainState,
  expire,
  observe,
} from '../../../../hub/ingest/chain-tracker.js';

const opts = { windowMs: 60_000, keep: 8, maxOpen: 4 };
const h = (seq: number) => `h${seq}`;
const ev = (seq: number, prevSeq?: number): ChainObservation => ({
  kind: 'event',
  seq,
  hash: h(seq),
  ...(prevSeq === undefined ? {} : { prev: h(prevSeq) }),
});
/** A report: the one kind of event a device sends while its journal is still writing it. */
const report = (seq: number, prevSeq: number): ChainObservation => ({
  kind: 'event',
  seq,
  hash: h(seq),
  prev: h(prevSeq),
  report: true,
});
const hb = (seq: number, prevSeq: number | undefined, queued = 0): ChainObservation => ({
  kind: 'heartbeat',
  seq,
  queued,
  ...(prevSeq === undefined ? {} : { prev: h(prevSeq) }),
});

/** Feeds observations in order at time `now`; returns the final result and every finding on the way. */
function run(observations: ChainObservation[], now = 0, start?: ChainState) {
  let state = start;
  const findings: ChainResult['findings'] = [];
  let last: ChainResult | undefined;
  for (const o of observations) {
    last = observe(state, o, now, opts);
    state = last.state;
    findings.push(...last.findings);
  }
  return { state: state as ChainState, findings };
}

describe('chain tracker (R7 tamper evidence, exactly-once)', () => {
  it('R7: an unbroken chain with heartbeats in between raises nothing', () => {
    // seqs are shared: 1 event, 2 heartbeat, 3 event, 4 heartbeat, 5 event
    const { state, findings } = run([ev(1), hb(2, 1), ev(3, 1), hb(4, 3), ev(5, 3)]);
    expect(findings).toEqual([]);
    expect(state.links.map((l) => l.seq)).toEqual([1, 3, 5]);
    expect(state.open).toEqual([]);
  });

  it('R1, R7: a device that lost the report it sent as its journal wrote it (power cut) forks once, without a fault', () => {
    // Report 3 reached the hub; the device lost it and, after the reserved block, points at event 1 again.
    const { state, findings } = run([ev(1), report(3, 1), hb(70, 1), ev(71, 1), hb(72, 71), ev(73, 71)]);
    expect(findings.map((f) => [f.kind, f.seq])).toEqual([['report-kept', 70]]);
    expect(state.links.map((l) => l.seq)).toEqual([1, 71, 73]);
    expect(state.counts).toEqual({ gaps: 0, breaks: 0 });
  });

  it('R7: the same fork past a locker event, or past more than the newest report, is still a break', () => {
    // A locker event is only sent once the device holds it: losing one is not a power cut's doing.
    expect(run([ev(1), ev(3, 1), ev(70, 1)]).findings.map((f) => f.kind)).toEqual(['break']);
    // Two links abandoned (a report and the event after it).
    expect(run([ev(1), report(3, 1), ev(4, 3), ev(70, 1)]).findings.map((f) => f.kind)).toEqual(['break']);
    // Pointing further back than the report's own predecessor.
    expect(run([ev(1), ev(2, 1), report(3, 2), ev(70, 1)]).findings.map((f) => f.kind)).toEqual(['break']);
  });

  it('lost heartbeats and a skipped block of seqs after a power cut are not gaps', () => {
    // seq 2, 4 (heartbeats) lost; seqs 6..69 skipped by a power cut; the chain is intact.
    const { state, findings } = run([ev(1), ev(3, 1), ev(70, 3), hb(71, 70)]);
    expect(findings).toEqual([]);
    expect(expire(state, 10 * 60_000).findings).toEqual([]);
  });

  it('trusts the first message it sees (hub without history for this device)', () => {
    const { findings, state } = run([ev(40, 39), ev(41, 40)]);
    expect(findings).toEqual([]);
    expect(state.open).toEqual([]);
  });

  it('an event that arrives late but within the window closes its gap', () => {
    const first = run([ev(1), ev(3, 2)]);
    expect(first.state.open).toHaveLength(1);
    const second = run([ev(2, 1)], 30_000, first.state);
    expect(second.findings).toEqual([]);
    expect(second.state.open).toEqual([]);
    expect(expire(second.state, 10 * 60_000).findings).toEqual([]);
  });

  it('R7: an event that never arrives is a gap once the window has passed, counted once', () => {
    const { state } = run([ev(1), ev(3, 2)]);
    expect(expire(state, 59_999).findings).toEqual([]);
    const expired = expire(state, 60_000);
    expect(expired.findings).toEqual([
      { kind: 'gap', seq: 3, reason: expect.stringMatching(/before seq 3 missing/) },
    ]);
    expect(expired.state.counts.gaps).toBe(1);
    expect(expire(expired.state, 120_000).findings).toEqual([]);
  });

  it('a heartbeat pointing at an unknown event opens a gap; queued > 0 keeps it open while the device delivers', () => {
    // The device was offline: events 2 and 3 are in its journal; it reconnects and heartbeats first.
    const a = run([ev(1), hb(4, 3, 2)], 0);
    expect(a.state.open).toHaveLength(1);
    const b = run([hb(5, 3, 2)], 50_000, a.state); // still delivering: window extended
    expect(expire(b.state, 100_000).findings).toEqual([]);
    const c = run([ev(2, 1), ev(3, 2)], 100_000, b.state);
    expect(c.findings).toEqual([]);
    expect(c.state.open).toEqual([]);
  });

  it('a heartbeat that confirms the last known event raises nothing even when its seq jumps', () => {
    expect(run([ev(1), hb(9, 1)]).findings).toEqual([]);
  });

  it('R7: an event whose prev skips a known event is a break', () => {
    const { findings, state } = run([ev(1), ev(2, 1), ev(3, 1)]);
    expect(findings).toEqual([{ kind: 'break', seq: 3, reason: expect.stringMatching(/skipping seq 2/) }]);
    expect(state.counts.breaks).toBe(1);
  });

  it('R7: a sequence number resent with different content is a break; an identical resend is not', () => {
    const base = run([ev(1), ev(2, 1)]).state;
    const same = observe(base, ev(2, 1), 0, opts);
    expect(same.findings).toEqual([]);
    expect(same.changed).toBe(false);
    const forged = observe(base, { kind: 'event', seq: 2, hash: 'forged', prev: h(1) }, 0, opts);
    expect(forged.findings).toEqual([
      { kind: 'break', seq: 2, reason: 'seq 2 resent with different content' },
    ]);
  });

  it('R7: a chain that restarts (no prev after known events) is a break: journal reset or impostor', () => {
    const { findings } = run([ev(1), ev(2, 1), ev(3)]);
    expect(findings.map((f) => f.kind)).toEqual(['break']);
    expect(findings[0]?.reason).toMatch(/new chain/);
  });

  it('R7: an event inserted out of order that the known chain skips is a break', () => {
    // 3 points at 1, so a late "event 2" is not part of the chain.
    const { findings } = run([ev(1), ev(3, 1), ev(2, 1)]);
    expect(findings).toEqual([{ kind: 'break', seq: 2, reason: expect.stringMatching(/not in the chain/) }]);
  });

  it('R7: a heartbeat pointing behind a known event is a break', () => {
    const { findings } = run([ev(1), ev(2, 1), hb(3, 1)]);
    expect(findings).toEqual([{ kind: 'break', seq: 3, reason: expect.stringMatching(/skipping seq 2/) }]);
  });

  it('keeps memory bounded: links and open gaps', () => {
    const events = Array.from({ length: 20 }, (_, i) => ev(i + 1, i === 0 ? undefined : i));
    expect(run(events).state.links).toHaveLength(opts.keep);
    const gaps = [ev(1), ...[10, 20, 30, 40, 50, 60].map((s) => ev(s, s - 1))];
    const result = run(gaps);
    expect(result.state.open).toHaveLength(opts.maxOpen);
    expect(result.findings.filter((f) => f.kind === 'gap')).toHaveLength(2);
    expect(result.state.counts.gaps).toBe(2);
  });

  it('does not mutate the state it is given', () => {
    const { state } = run([ev(1), ev(3, 2)]);
    const before = JSON.stringify(state);
    observe(state, ev(4, 2), 0, opts);
    observe(state, hb(5, 2, 1), 1000, opts);
    expect(JSON.stringify(state)).toBe(before);
  });
});
