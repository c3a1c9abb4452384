import { describe, expect, it } from 'vitest';
import { HISTORY_DAYS, historyPlan } from '../../../cli/history/history-plan.js';
import { addDays, dayStatus } from '../../../hub/policy/calendar.js';
import { demoSchool } from '../../support/hub-fixture.js';

describe('the demo history plan', () => {
  const school = demoSchool();
  const today = '2026-12-04';
  const plan = historyPlan(school, today);

  it('covers the open school days of the last four weeks, and only those', () => {
    expect((plan.dates[0] ?? '') >= addDays(today, -(HISTORY_DAYS - 1))).toBe(true);
    expect(plan.dates.at(-1)).toBe(today);
    expect(plan.dates).toHaveLength(20);
    for (const d of plan.dates) expect(dayStatus(school.timetable, d)).toBe('open');
  });

  it('P1: lock misses fall where phones go in (a lesson after break or lunch), on past school days', () => {
    const lockMisses = plan.misses.filter((m) => m.kind !== 'offline');
    expect(lockMisses.length).toBeGreaterThan(0);
    for (const m of lockMisses) {
      expect(plan.dates).toContain(m.date);
      expect(m.date < today).toBe(true);
      if ('period' in m) expect(['p3', 'p4']).toContain(m.period);
    }
  });

  it('P6, R3: plans exemptions for lesson periods and reports with their workflow in order', () => {
    for (const e of plan.exemptions)
      expect(school.timetable.periods.find((p) => p.id === e.period)?.kind).toBe('lesson');
    expect(plan.reports.map((r) => r.steps[0]?.command.type)).toEqual([
      'acknowledge',
      'acknowledge',
      'acknowledge',
    ]);
    for (const r of plan.reports)
      expect(r.steps.map((s) => s.after)).toEqual([...r.steps.map((s) => s.after)].sort((a, b) => a - b));
  });

  it('is the same plan for the same school and date', () => {
    expect(historyPlan(school, today)).toEqual(plan);
  });

  it('plans no misses when the school has no lesson lockers', () => {
    const offices = { ...school, devices: school.devices.filter((d) => d.lockerMode !== 'lesson') };
    const bare = historyPlan(offices, today);
    expect(bare.dates).toHaveLength(20);
    expect([...bare.misses, ...bare.exemptions, ...bare.reports]).toEqual([]);
  });
});
