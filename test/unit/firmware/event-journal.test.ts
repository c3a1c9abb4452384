import { readdirSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, EventJournal, eventHash, JournalError } from '../../../firmware/event-journal.js';
import { parse } from '../../../schemas/validate.js';

const DEVICE = 'room-1-locker';
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const open = (extra: { maxPending?: number; seqBlock?: number; deviceId?: string } = {}) =>
  EventJournal.open({ dir, deviceId: DEVICE, ...extra });

describe('event journal: sequence numbers', () => {
  it('allocates 1, 2, 3 … and continues without a gap after a clean close', async () => {
    const j = await open();
    const a = await j.appendReport({ urgency: 'normal', pressMs: 120 }, 1_000);
    const b = await j.appendLockerEvent({ kind: 'door-opened', phones: 3 }, 1_001);
    const hb = await j.nextEnvelope(1_002);
    expect([a.seq, b.seq, hb.seq]).toEqual([1, 2, 3]);
    expect(a.id).toBe(`${DEVICE}:1`);
    await j.close();
    const again = await open();
    expect((await again.nextEnvelope(2_000)).seq).toBe(4);
    await again.close();
  });

  it('never repeats a seq after a power cut (reopen without close), skipping at most one reserved block', async () => {
    const j = await open({ seqBlock: 16 });
    const issued: number[] = [];
    for (let i = 0; i < 20; i++) issued.push((await j.nextEnvelope(i)).seq); // heartbeats: seq only, no files
    // Power cut: the process vanishes, `j` is simply abandoned.
    const after = await open({ seqBlock: 16 });
    const next = (await after.appendReport({ urgency: 'urgent', pressMs: 2_000 }, 99)).seq;
    expect(next).toBeGreaterThan(Math.max(...issued));
    expect(next - Math.max(...issued)).toBeLessThanOrEqual(16);
    await after.close();
  });

  it('gives concurrent appends distinct seqs in call order', async () => {
    const j = await open();
    const events = await Promise.all(
      Array.from({ length: 20 }, (_, i) => j.appendLockerEvent({ kind: 'phones-changed', phones: i }, i)),
    );
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await j.close();
  });
});

describe('event journal: hash chain', () => {
  it('links each durable event to the previous one: prev = sha256 of its canonical JSON', async () => {
    const j = await open();
    const first = await j.appendLockerEvent({ kind: 'locked', phones: 0 }, 10);
    const second = await j.appendReport({ urgency: 'normal', pressMs: 80 }, 20);
    const third = await j.appendLockerEvent(
      { kind: 'tamper', phones: 1, reason: 'door-opened-while-locked' },
      30,
    );
    expect(first.prev).toBeUndefined();
    expect(second.prev).toBe(eventHash(first));
    expect(third.prev).toBe(eventHash(second));
    // Every sealed event is schema-valid as it stands.
    parse('locker-event', first);
    parse('report', second);
    parse('locker-event', third);
    await j.close();
  });

  it('heartbeats carry the chain head but are not links; the chain continues across reopen', async () => {
    const j = await open();
    const a = await j.appendReport({ urgency: 'normal', pressMs: 80 }, 20);
    const hb = await j.nextEnvelope(25);
    expect(hb.prev).toBe(eventHash(a));
    const b = await j.appendLockerEvent({ kind: 'unlocked', phones: 0 }, 30);
    expect(b.prev).toBe(eventHash(a));
    await j.close();
    const again = await open();
    const c = await again.appendLockerEvent({ kind: 'locked', phones: 0 }, 40);
    expect(c.prev).toBe(eventHash(b));
    await again.close();
  });

  it('the hash ignores queuedMs (it changes on every resend) and key order', () => {
    const report = parse('report', {
      v: 1,
      id: `${DEVICE}:5`,
      seq: 5,
      ts: 1,
      urgency: 'normal',
      pressMs: 10,
      queuedMs: 0,
    });
    expect(eventHash({ ...report, queuedMs: 60_000 })).toBe(eventHash(report));
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 1 }] })).toBe('{"a":[{"c":1,"d":2}],"b":1}');
  });

  it('repairs the head after a power cut between writing an event and writing meta', async () => {
    const j = await open();
    await j.appendLockerEvent({ kind: 'locked', phones: 0 }, 10);
    const metaBefore = await readFile(join(dir, 'meta.json'), 'utf8');
    const last = await j.appendLockerEvent({ kind: 'unlocked', phones: 0 }, 20);
    await writeFile(join(dir, 'meta.json'), metaBefore); // meta as it was before the second event
    const again = await open();
    const next = await again.appendReport({ urgency: 'normal', pressMs: 50 }, 30);
    expect(next.seq).toBeGreaterThan(last.seq);
    expect(next.prev).toBe(eventHash(last));
    await again.close();
  });
  it('keeps the head when the event that carried it is acknowledged and the power is cut', async () => {
    // An append resolves before meta.json has its head; the ack must bring meta up to date before removing the file.
    const j = await open();
    const report = await j.appendReport({ urgency: 'normal', pressMs: 80 }, 10);
    expect(await j.ack(report.id)).toBe(true);
    expect(await readdir(join(dir, 'pending'))).toEqual([]);
    // no close: power cut
    const again = await open();
    const next = await again.appendLockerEvent({ kind: 'locked', phones: 0 }, 20);
    expect(next.prev).toBe(eventHash(report));
    await again.close();
  });
});

describe('event journal: pending until acknowledged', () => {
  it('R1: pending reports survive a power cut and come back in seq order', async () => {
    const j = await open();
    const r1 = await j.appendReport({ urgency: 'normal', pressMs: 100 }, 1);
    const e2 = await j.appendLockerEvent({ kind: 'door-opened', phones: 2 }, 2);
    const r3 = await j.appendReport({ urgency: 'urgent', pressMs: 1_800 }, 3);
    expect(j.queued).toBe(3);
    // no close: power cut
    const again = await open();
    expect(again.queued).toBe(3);
    expect(again.pending()).toEqual([
      { type: 'report', event: r1 },
      { type: 'locker', event: e2 },
      { type: 'report', event: r3 },
    ]);
    await again.close();
  });

  it('R1: hands a report over to be sent before its file is written; an ack that arrives meanwhile waits for the file', async () => {
    const j = await open();
    let filesAtSend: string[] | undefined;
    let ackedEarly: Promise<boolean> | undefined;
    const report = await j.appendReport({ urgency: 'normal', pressMs: 100 }, 1, (sealed) => {
      filesAtSend = readdirSync(join(dir, 'pending'));
      // The hub may answer before the write finishes: the ack queues behind the write instead of missing the file.
      ackedEarly = j.ack(sealed.id);
    });
    expect(filesAtSend).toEqual([]);
    expect(report.id).toBe(`${DEVICE}:1`);
    expect(await ackedEarly).toBe(true);
    expect(j.queued).toBe(0);
    expect(await readdir(join(dir, 'pending'))).toEqual([]);
    // The chain goes on from the sent report, which is what the hub holds.
    const next = await j.appendLockerEvent({ kind: 'locked', phones: 0 }, 2);
    expect(next.prev).toBe(eventHash(report));
    await j.close();
  });

  it('R1: a report is still written when sending it from onSealed throws', async () => {
    const j = await open();
    const report = await j.appendReport({ urgency: 'normal', pressMs: 90 }, 1, () => {
      throw new Error('link exploded');
    });
    expect(j.pending()).toEqual([{ type: 'report', event: report }]);
    await j.close();
  });

  it('R1: a report handed over from onSealed is on disk once appendReport resolves (survives a power cut)', async () => {
    const j = await open();
    const report = await j.appendReport({ urgency: 'urgent', pressMs: 2_000 }, 1, () => {});
    const again = await open(); // power cut after the append resolved, before any ack
    expect(again.pending()).toEqual([{ type: 'report', event: report }]);
    await again.close();
  });

  it('R1: ack removes an item for good; unknown or repeated acks return false', async () => {
    const j = await open();
    const r1 = await j.appendReport({ urgency: 'normal', pressMs: 100 }, 1);
    const r2 = await j.appendReport({ urgency: 'normal', pressMs: 100 }, 2);
    expect(await j.ack(r1.id)).toBe(true);
    expect(await j.ack(r1.id)).toBe(false);
    expect(await j.ack('other-device:2')).toBe(false);
    expect(await j.ack(`${DEVICE}:999`)).toBe(false);
    expect(j.has(r1.id)).toBe(false);
    expect(j.has(r2.id)).toBe(true);
    const again = await open();
    expect(again.pending().map((p) => p.event.id)).toEqual([r2.id]);
    await again.close();
  });

  it('ignores and removes torn temp files, and sets aside a damaged pending file without stopping', async () => {
    const j = await open();
    const good = await j.appendReport({ urgency: 'normal', pressMs: 100 }, 1);
    await j.close();
    await writeFile(join(dir, 'pending', '0000000000000002.json.tmp-dead'), '{"type":"rep');
    await writeFile(join(dir, 'meta.json.tmp-beef'), '{"v":1,"devi');
    await writeFile(join(dir, 'pending', '0000000000000003.json'), 'not json at all');
    const again = await open();
    expect(again.pending().map((p) => p.event.id)).toEqual([good.id]);
    const files = await readdir(join(dir, 'pending'));
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(files).toContain('0000000000000003.json.bad');
    expect(await readdir(dir)).not.toContain('meta.json.tmp-beef');
    await again.close();
  });

  it('R1: is bounded by dropping the oldest locker events, never reports', async () => {
    const j = await open({ maxPending: 3 });
    const r1 = await j.appendReport({ urgency: 'normal', pressMs: 100 }, 1);
    await j.appendLockerEvent({ kind: 'door-opened', phones: 0 }, 2);
    const e3 = await j.appendLockerEvent({ kind: 'door-closed', phones: 0 }, 3);
    const e4 = await j.appendLockerEvent({ kind: 'locked', phones: 0 }, 4);
    expect(j.pending().map((p) => p.event.id)).toEqual([r1.id, e3.id, e4.id]);
    expect(j.dropped).toBe(1);
    const r5 = await j.appendReport({ urgency: 'normal', pressMs: 100 }, 5);
    const r6 = await j.appendReport({ urgency: 'normal', pressMs: 100 }, 6);
    const r7 = await j.appendReport({ urgency: 'normal', pressMs: 100 }, 7);
    // Only reports are left: the bound gives way rather than lose a pupil's report.
    expect(j.pending().map((p) => p.event.id)).toEqual([r1.id, r5.id, r6.id, r7.id]);
    expect(j.queued).toBe(4);
    expect((await readdir(join(dir, 'pending'))).length).toBe(4);
    await j.close();
  });
});

describe('event journal: tamper events under backlog (R7)', () => {
  it('R7: pending tamper events are never dropped, whatever the backlog; routine events give way', async () => {
    const j = await open({ maxPending: 4 });
    const tampers: string[] = [];
    for (let i = 0; i < 30; i++) {
      if (i % 3 === 0)
        tampers.push((await j.appendLockerEvent({ kind: 'tamper', phones: 0, reason: 'forced' }, i)).id);
      else await j.appendLockerEvent({ kind: 'door-opened', phones: 0 }, i);
    }
    const pending = j.pending();
    expect(
      pending.filter((p) => p.event.id.length > 0 && tampers.includes(p.event.id)).map((p) => p.event.id),
    ).toEqual(tampers);
    expect(pending).toHaveLength(tampers.length);
    expect(j.dropped).toBe(30 - tampers.length);
    await j.close();
    const again = await open({ maxPending: 4 });
    expect(again.pending().map((p) => p.event.id)).toEqual(tampers);
    await again.close();
  });
});

describe('event journal: housekeeping', () => {
  it('refuses a journal that belongs to another device', async () => {
    const j = await open();
    await j.appendReport({ urgency: 'normal', pressMs: 100 }, 1);
    await j.close();
    await expect(open({ deviceId: 'room-2-locker' })).rejects.toMatchObject({ code: 'E_JOURNAL_DEVICE' });
  });

  it('fails with E_JOURNAL_CLOSED after close', async () => {
    const j = await open();
    await j.close();
    const error = await j.appendReport({ urgency: 'normal', pressMs: 100 }, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JournalError);
    expect(error).toMatchObject({ code: 'E_JOURNAL_CLOSED' });
  });

  it('P1: keeps small documents (the offline schedule) across reopen', async () => {
    const j = await open();
    expect(await j.loadDoc('schedules')).toBeUndefined();
    await j.saveDoc('schedules', [{ date: '2026-06-15' }]);
    const again = await open();
    expect(await again.loadDoc('schedules')).toEqual([{ date: '2026-06-15' }]);
    await again.close();
  });

  it('measures: durable append and ack throughput (write-temp, fsync, rename, fsync dir; meta.json queued behind)', async () => {
    const j = await open();
    const n = 100;
    const started = performance.now();
    for (let i = 0; i < n; i++) await j.appendReport({ urgency: 'normal', pressMs: 100 }, i);
    const perAppendMs = (performance.now() - started) / n;
    const ackStarted = performance.now();
    for (const item of j.pending()) await j.ack(item.event.id);
    const perAckMs = (performance.now() - ackStarted) / n;
    process.stdout.write(
      `journal: append ${perAppendMs.toFixed(2)} ms, ack ${perAckMs.toFixed(2)} ms (${dir})\n`,
    );
    expect(j.queued).toBe(0);
    await j.close();
  });
});
