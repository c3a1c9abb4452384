import { describe, expect, it } from 'vitest';
import type { Incident } from '../../../../hub/incidents/incident-store.js';
import { transition, type WorkflowCommand } from '../../../../hub/incidents/workflow.js';

const T0 = Date.UTC(2026, 9, 5, 9, 0);

function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'i-1',
    ref: 'AB7K',
    kind: 'report',
    site: 'demo-school',
    room: 'room-1',
    device: 'room-1-locker',
    eventId: 'room-1-locker:1',
    urgency: 'normal',
    reportedAt: T0,
    receivedAt: T0,
    status: 'reported',
    steps: [{ at: T0, by: 'device:room-1-locker', action: 'reported' }],
    ...overrides,
  };
}

function run(start: Incident, ...commands: WorkflowCommand[]): Incident {
  let current = start;
  commands.forEach((command, i) => {
    const result = transition(current, command, 'user:coord', T0 + (i + 1) * 60_000);
    if (!result.ok) throw new Error(result.message);
    current = result.incident;
  });
  return current;
}

const ack: WorkflowCommand = { type: 'acknowledge' };
const note: WorkflowCommand = { type: 'note', text: 'Spoke to class teacher.' };
const close: WorkflowCommand = { type: 'close', outcome: 'Resolved in class.', category: 'bullying' };

describe('incident workflow (pure)', () => {
  it('R3: reported → acknowledged → action noted → closed, each step appended, timed and attributed', () => {
    const done = run(
      incident(),
      ack,
      note,
      { type: 'note', text: 'Referred.', referral: { agency: 'ceop', date: '2026-10-05' } },
      close,
    );
    expect(done.status).toBe('closed');
    expect(done.category).toBe('bullying');
    expect(done.steps.map((s) => s.action)).toEqual([
      'reported',
      'acknowledged',
      'action-noted',
      'action-noted',
      'closed',
    ]);
    expect(done.steps.every((s, i) => i === 0 || (s.by === 'user:coord' && s.at > T0))).toBe(true);
    expect(done.steps[3]?.referral).toEqual({ agency: 'ceop', date: '2026-10-05' });
  });

  it('R3: never changes or drops an earlier step', () => {
    const start = run(incident(), ack);
    const next = run(start, note);
    expect(next.steps.slice(0, start.steps.length)).toEqual(start.steps);
    expect(start.steps).toHaveLength(2); // the input is not mutated
  });

  it.each([
    ['note before acknowledge', incident(), note],
    ['close before acknowledge', incident(), close],
    ['acknowledge twice', run(incident(), ack), ack],
    ['anything after close', run(incident(), ack, close), note],
    ['reopen by acknowledging a closed one', run(incident(), ack, close), ack],
    ['escalate an acknowledged one', run(incident(), ack), { type: 'escalate', to: 'dsl' } as const],
    [
      'escalate twice',
      run(incident(), { type: 'escalate', to: 'dsl' }),
      { type: 'escalate', to: 'dsl' } as const,
    ],
    ['route to where it already is', incident(), { type: 'route', to: 'coordinator' } as const],
  ])('R3: forbids %s', (_name, start, command) => {
    const result = transition(start, command as WorkflowCommand, 'user:coord', T0 + 1);
    expect(result).toMatchObject({ ok: false, code: 'E_TRANSITION' });
  });

  it.each([
    ['empty note', { type: 'note', text: '   ' }],
    ['note over the limit', { type: 'note', text: 'x'.repeat(4001) }],
    ['control characters', { type: 'note', text: 'a\u0000b' }],
    ['unknown agency', { type: 'note', text: 'x', referral: { agency: 'fbi', date: '2026-10-05' } }],
    ['bad referral date', { type: 'note', text: 'x', referral: { agency: 'iwf', date: '05/10/2026' } }],
    ['unknown category', { type: 'close', outcome: 'x', category: 'gossip' }],
    ['empty outcome', { type: 'close', outcome: '', category: 'other' }],
  ])('R3: validates free text and fields: %s', (_name, command) => {
    const result = transition(run(incident(), ack), command as WorkflowCommand, 'user:coord', T0 + 1);
    expect(result).toMatchObject({ ok: false, code: 'E_VALIDATION' });
  });

  it('R2: escalation appends a step, routes a coordinator report to the DSL, and keeps the status', () => {
    const result = transition(incident(), { type: 'escalate', to: 'dsl' }, 'system:escalation', T0 + 5);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.incident).toMatchObject({ status: 'reported', routeTo: 'dsl', escalatedAt: T0 + 5 });
    expect(result.step).toMatchObject({ action: 'escalated', by: 'system:escalation' });
    // A concern about the head stays with the governors when it escalates.
    const governed = transition(incident({ routeTo: 'governor' }), { type: 'escalate', to: 'dsl' }, 's', T0);
    expect(governed.ok && governed.incident.routeTo).toBe('governor');
  });

  it('R6: routing records the route as a step', () => {
    const routed = run(incident(), { type: 'route', to: 'head', text: 'Concern about a member of staff.' });
    expect(routed.routeTo).toBe('head');
    expect(routed.steps.at(-1)).toMatchObject({ action: 'routed', routeTo: 'head' });
  });

  it('R4, R6: acknowledgement may set the category and route a concern about staff at once', () => {
    const aboutHead = run(incident(), { type: 'acknowledge', category: 'bullying', aboutStaff: 'head' });
    expect(aboutHead).toMatchObject({ status: 'acknowledged', category: 'bullying', routeTo: 'governor' });
    expect(aboutHead.steps.at(-1)).toMatchObject({
      action: 'acknowledged',
      routeTo: 'governor',
      category: 'bullying',
    });
    const aboutStaff = run(incident(), { type: 'acknowledge', aboutStaff: 'staff' });
    expect(aboutStaff.routeTo).toBe('head');
    const plain = run(incident(), { type: 'acknowledge' });
    expect(plain.routeTo).toBeUndefined();
    expect(plain.category).toBeUndefined();
  });

  it('R4: the category changes later only with a reason, recorded as its own step; close keeps it', () => {
    const acked = run(incident(), { type: 'acknowledge', category: 'bullying' });
    const noReason = transition(
      acked,
      { type: 'categorise', category: 'contact', reason: '  ' },
      'user:c',
      T0,
    );
    expect(noReason).toMatchObject({ ok: false, code: 'E_VALIDATION' });
    const same = transition(acked, { type: 'categorise', category: 'bullying', reason: 'x' }, 'user:c', T0);
    expect(same).toMatchObject({ ok: false, code: 'E_TRANSITION' });
    const changed = run(acked, {
      type: 'categorise',
      category: 'contact',
      reason: 'Adult stranger involved.',
    });
    expect(changed.category).toBe('contact');
    expect(changed.steps.at(-1)).toMatchObject({
      action: 'categorised',
      category: 'contact',
      note: 'Adult stranger involved.',
    });
    const closed = run(changed, { type: 'close', outcome: 'Referred.' });
    expect(closed).toMatchObject({ status: 'closed', category: 'contact' });
    // With no category set at any point, closing still asks for one.
    const uncategorised = run(incident(), { type: 'acknowledge' });
    expect(transition(uncategorised, { type: 'close', outcome: 'Done.' }, 'user:c', T0)).toMatchObject({
      ok: false,
      code: 'E_VALIDATION',
    });
  });
});
