/** D5: compliance per room per lesson, against timelines whose figures are worked out by hand in each comment. */
import { describe, expect, it } from 'vitest';
import {
  type LessonInput,
  lessonCompliance,
  rollUp,
  type TimelineEvent,
} from '../../../../hub/compliance/compliance.js';

const M = 60_000;
const T = Date.parse('2026-09-02T08:00:00Z'); // Period 1, 09:00 BST
const lesson = (events: TimelineEvent[], exempt: LessonInput['exempt'] = []) =>
  lessonCompliance({ start: T, end: T + 60 * M, graceMs: 5 * M, events, exempt });
const lockedClosed = (ts: number): TimelineEvent => ({ ts, locked: true, doorOpen: false, online: true });
const unlocked = (ts: number): TimelineEvent => ({ ts, locked: false, doorOpen: false, online: true });

describe('lesson compliance', () => {
  it('P1: locked and closed before the bell and all lesson: 60 of 60, within grace', () => {
    expect(lesson([lockedClosed(T - 10 * M)])).toEqual({
      scheduledMin: 60,
      lockedClosedMin: 60,
      exemptMin: 0,
      offlineMin: 0,
      breachMin: 0,
      tamperCount: 0,
      lockedWithinGrace: true,
      lockDelayMin: 0,
      ratio: 1,
    });
  });

  it('P1: locked 3 minutes in is within the 5-minute grace: 57 locked, 3 breach', () => {
    expect(lesson([unlocked(T - M), { ts: T + 3 * M, locked: true }])).toMatchObject({
      lockedClosedMin: 57,
      breachMin: 3,
      lockedWithinGrace: true,
      lockDelayMin: 3,
      ratio: 0.95,
    });
  });

  it('P1: a late lock at 7 minutes misses grace: 53 locked, 7 breach, ratio 53/60', () => {
    expect(lesson([unlocked(T - M), { ts: T + 7 * M, locked: true }])).toMatchObject({
      lockedClosedMin: 53,
      breachMin: 7,
      lockedWithinGrace: false,
      ratio: 0.883,
    });
  });

  it('locked with the door open is not compliant until the door shuts (at 4 min)', () => {
    expect(
      lesson([
        { ts: T - M, locked: true, doorOpen: true, online: true },
        { ts: T + 4 * M, doorOpen: false },
      ]),
    ).toMatchObject({
      lockedClosedMin: 56,
      breachMin: 4,
      lockedWithinGrace: true,
    });
  });

  it('R7: a forced door at 20 min (tamper), shut again at 25: 5 breach, 1 tamper', () => {
    expect(
      lesson([
        lockedClosed(T - M),
        { ts: T + 20 * M, doorOpen: true, tamper: true },
        { ts: T + 25 * M, doorOpen: false },
      ]),
    ).toMatchObject({ lockedClosedMin: 55, breachMin: 5, tamperCount: 1, ratio: 0.917 });
  });

  it('D5: an offline gap 30–45 min is unknown, never compliant: 15 offline, 45 locked, ratio 0.75', () => {
    expect(
      lesson([lockedClosed(T - M), { ts: T + 30 * M, online: false }, { ts: T + 45 * M, online: true }]),
    ).toMatchObject({
      lockedClosedMin: 45,
      offlineMin: 15,
      breachMin: 0,
      ratio: 0.75,
    });
  });

  it('D5: with no state at all the whole lesson is unknown', () => {
    expect(lesson([])).toMatchObject({
      offlineMin: 60,
      lockedClosedMin: 0,
      ratio: 0,
      lockedWithinGrace: false,
      lockDelayMin: null,
    });
  });

  it('P6: a whole-lesson exemption is exempt, not a breach; ratio and grace do not apply', () => {
    expect(lesson([unlocked(T - M)], [{ start: T, end: T + 60 * M }])).toMatchObject({
      exemptMin: 60,
      breachMin: 0,
      ratio: null,
      lockedWithinGrace: null,
    });
  });

  it('P6: an exemption revoked at 40 min, locker left open after: 40 exempt, 20 breach, ratio 0', () => {
    expect(lesson([unlocked(T - M)], [{ start: T, end: T + 40 * M }])).toMatchObject({
      exemptMin: 40,
      breachMin: 20,
      lockedClosedMin: 0,
      ratio: 0,
    });
  });

  it('events in any order, and tamper outside the lesson not counted', () => {
    const events = [
      { ts: T + 70 * M, tamper: true },
      { ts: T + 10 * M, locked: true },
      unlocked(T - 5 * M),
      { ts: T - 2 * M, tamper: true },
    ];
    expect(lesson(events)).toMatchObject({ lockedClosedMin: 50, breachMin: 10, tamperCount: 0 });
  });

  it('scheduled always equals the sum of the four buckets', () => {
    const r = lesson(
      [
        lockedClosed(T + 2 * M),
        { ts: T + 10 * M, online: false },
        { ts: T + 12 * M, online: true },
        { ts: T + 50 * M, locked: false },
      ],
      [{ start: T + 30 * M, end: T + 35 * M }],
    );
    // unknown 0–2, locked 2–10, offline 10–12, locked 12–30, exempt 30–35, locked 35–50, breach 50–60
    expect(r).toMatchObject({ offlineMin: 4, lockedClosedMin: 41, exemptMin: 5, breachMin: 10 });
    expect(r.offlineMin + r.lockedClosedMin + r.exemptMin + r.breachMin).toBe(r.scheduledMin);
  });
});

describe('roll-ups', () => {
  it('D5: sums minutes (a long lesson weighs more) and counts grace met of grace due', () => {
    const a = lesson([unlocked(T - M), { ts: T + 3 * M, locked: true }]); // 57/60, grace met
    const b = lesson([unlocked(T - M), { ts: T + 7 * M, locked: true }]); // 53/60, grace missed
    const c = lesson([unlocked(T - M)], [{ start: T, end: T + 60 * M }]); // exempt
    expect(rollUp([a, b, c])).toEqual({
      lessons: 3,
      scheduledMin: 180,
      lockedClosedMin: 110,
      exemptMin: 60,
      offlineMin: 0,
      breachMin: 10,
      tamperCount: 0,
      graceMet: 1,
      graceDue: 2,
      ratio: 0.917,
    });
    expect(rollUp([]).ratio).toBeNull();
  });
});
