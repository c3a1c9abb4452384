import { describe, expect, it } from 'vitest';
import { incidentAccess, mayApply, restrictedView } from '../../../../hub/incidents/visibility.js';
import type { StaffRole } from '../../../../hub/users/roles.js';

const report = (over: { routeTo?: 'coordinator' | 'dsl' | 'head' | 'governor'; status?: string } = {}) => ({
  kind: 'report' as const,
  status: (over.status ?? 'reported') as 'reported',
  ...(over.routeTo ? { routeTo: over.routeTo } : {}),
});

describe('incident visibility (R4, R6, S5)', () => {
  it('R6, S5: a concern about the head is hidden from the head, even one who is also DSL', () => {
    const aboutHead = report({ routeTo: 'governor', status: 'acknowledged' });
    expect(incidentAccess(['governor'], aboutHead)).toBe('full');
    expect(incidentAccess(['dsl'], aboutHead)).toBe('full');
    expect(incidentAccess(['head'], aboutHead)).toBe('none');
    expect(incidentAccess(['head', 'dsl'], aboutHead)).toBe('none');
    expect(incidentAccess(['admin'], aboutHead)).toBe('none');
  });

  it('R4, R6: until the coordinator or DSL acknowledges a report, the head sees only that it exists', () => {
    expect(incidentAccess(['head'], report())).toBe('exists');
    expect(incidentAccess(['head'], report({ routeTo: 'dsl' }))).toBe('exists');
    expect(incidentAccess(['head'], report({ status: 'acknowledged' }))).toBe('full');
    // A concern about other staff is routed to the head: theirs to read at once.
    expect(incidentAccess(['head'], report({ routeTo: 'head' }))).toBe('full');
    // A tamper alert names a device, not a person.
    expect(incidentAccess(['head'], { kind: 'tamper', status: 'reported' })).toBe('full');
    // A head who is also the DSL reads it as the DSL.
    expect(incidentAccess(['head', 'dsl'], report())).toBe('full');
    expect(incidentAccess(['coordinator'], report())).toBe('full');
  });

  it('S5: governors see only what is routed to them; office, teacher and admin see no incident', () => {
    expect(incidentAccess(['governor'], report({ status: 'acknowledged' }))).toBe('none');
    expect(incidentAccess(['governor'], report({ routeTo: 'head', status: 'acknowledged' }))).toBe('none');
    for (const role of ['office', 'teacher', 'admin'] as StaffRole[])
      expect(incidentAccess([role], report({ routeTo: 'head', status: 'acknowledged' }))).toBe('none');
  });

  it('R6: once with the governors, only a governor routes or closes it; nobody pulls it back', () => {
    const withGovernors = report({ routeTo: 'governor', status: 'acknowledged' });
    const routeBack = { type: 'route', to: 'coordinator' } as const;
    const close = { type: 'close', outcome: 'x' } as const;
    expect(mayApply(['coordinator'], withGovernors, routeBack).ok).toBe(false);
    expect(mayApply(['dsl'], withGovernors, close).ok).toBe(false);
    expect(mayApply(['dsl'], withGovernors, { type: 'note', text: 'spoke to LADO' }).ok).toBe(true);
    expect(mayApply(['governor'], withGovernors, routeBack).ok).toBe(true);
    expect(mayApply(['governor'], withGovernors, close).ok).toBe(true);
    expect(mayApply(['head'], report(), { type: 'close', outcome: 'x' }).ok).toBe(false);
    expect(mayApply(['head'], report(), { type: 'acknowledge' }).ok).toBe(false);
  });

  it('R4: the restricted view carries no room, device, urgency or category', () => {
    const view = restrictedView({
      id: 'i',
      ref: 'AB7K',
      kind: 'report',
      room: 'room-1',
      device: 'd',
      urgency: 'urgent',
      reportedAt: 1,
      receivedAt: 2,
      status: 'reported',
      category: 'bullying',
    });
    expect(Object.keys(view).sort()).toEqual(['id', 'receivedAt', 'restricted', 'status']);
  });
});
