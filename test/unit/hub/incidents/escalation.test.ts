import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../../hub/audit/audit-log.js';
import { HubDb } from '../../../../hub/db/hub-db.js';
import { EventBus, type HubEvents } from '../../../../hub/event-bus.js';
import { Escalation } from '../../../../hub/incidents/escalation.js';
import { IncidentService } from '../../../../hub/incidents/incident-service.js';
import { IncidentStore } from '../../../../hub/incidents/incident-store.js';
import { silentLogger } from '../../../../hub/log.js';

describe('same-day escalation (R2) with a fake clock', () => {
  let dir: string;
  let db: HubDb;
  let clock: number;
  let store: IncidentStore;
  let service: IncidentService;
  let escalation: Escalation;
  const updates: HubEvents['incident.updated'][] = [];

  async function report(at: number) {
    const { incident, ops } = await store.prepare({
      kind: 'report',
      site: 'demo-school',
      room: 'room-1',
      device: 'room-1-locker',
      eventId: `room-1-locker:${at}`,
      urgency: 'normal',
      reportedAt: at,
      receivedAt: at,
    });
    await db.batch(ops);
    return incident;
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pa-esc-'));
    db = await HubDb.open(dir);
    clock = Date.parse('2026-06-10T09:00:00Z');
    const bus = new EventBus(silentLogger);
    bus.on('incident.updated', (u) => {
      updates.push(u);
    });
    store = new IncidentStore(db);
    const audit = new AuditLog(db, () => clock, silentLogger);
    service = new IncidentService(store, audit, bus, () => clock);
    escalation = new Escalation({
      incidents: service,
      timetable: { timezone: 'Europe/London', homeTime: '15:15' },
      now: () => clock,
      log: silentLogger,
    });
    updates.length = 0;
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('R2: escalates to the DSL at home time (14:15 UTC in June), not a minute before', async () => {
    const waiting = await report(clock);
    const acked = await report(clock + 1);
    await service.apply(acked.id, { type: 'acknowledge' }, 'user:coord');

    expect(await escalation.tick(Date.parse('2026-06-10T14:14:00Z'))).toEqual([]);
    clock = Date.parse('2026-06-10T14:15:00Z');
    expect(await escalation.tick(clock)).toEqual([waiting.ref]);

    const after = await store.get(waiting.id);
    expect(after).toMatchObject({ status: 'reported', routeTo: 'dsl', escalatedAt: clock });
    expect(after?.steps.at(-1)).toMatchObject({
      action: 'escalated',
      by: 'system:escalation',
      routeTo: 'dsl',
    });
    expect(updates.at(-1)).toMatchObject({ incident: { ref: waiting.ref }, step: { action: 'escalated' } });
    expect((await store.get(acked.id))?.steps.map((s) => s.action)).toEqual(['reported', 'acknowledged']);
  });

  it('R2: escalates only once', async () => {
    await report(clock);
    clock = Date.parse('2026-06-10T16:00:00Z');
    expect(await escalation.tick(clock)).toHaveLength(1);
    expect(await escalation.tick(clock + 60_000)).toEqual([]);
  });
});
