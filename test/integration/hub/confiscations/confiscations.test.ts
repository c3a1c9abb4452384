/** P7 against the real hub: record a confiscation into a locker slot, see it in the register, record its return. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Confiscation } from '../../../../hub/confiscations/confiscations.js';
import { type HubFixture, startTestHub } from '../../../support/hub-fixture.js';
import { data, StaffClient } from '../../../support/staff-client.js';

const PASSWORD = 'tulip lantern orbit 42';
const device = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };

describe('confiscation register (P7)', () => {
  let fixture: HubFixture;
  let teacher: StaffClient;
  let office: StaffClient;

  beforeAll(async () => {
    fixture = await startTestHub();
    const { hub } = fixture;
    await hub.registry.provision({
      id: device.device,
      address: device,
      secret: 'confiscation-test-secret-0123',
      lockerMode: 'lesson',
      now: Date.now(),
    });
    await hub.users.add('teacher1', PASSWORD, ['teacher'], Date.now());
    await hub.users.add('office1', PASSWORD, ['office'], Date.now());
    teacher = new StaffClient(hub.httpUrl, 'teacher1', PASSWORD);
    office = new StaffClient(hub.httpUrl, 'office1', PASSWORD);
    expect((await teacher.signIn()).status).toBe(200);
    expect((await office.signIn()).status).toBe(200);
  });

  afterAll(async () => {
    await fixture?.dispose();
  });

  it('P7: a teacher records a confiscation; it stays in the open register until returned', async () => {
    const recorded = data(
      await teacher.post<Confiscation>('/api/confiscations', {
        device: device.device,
        slot: 2,
        note: 'used during period 2',
      }),
    );
    expect(recorded).toMatchObject({ room: 'room-1', slot: 2, recordedBy: 'teacher1' });
    expect(recorded.returnedAt).toBeUndefined();

    const open = data(await office.get<Confiscation[]>('/api/confiscations?open=1'));
    expect(open.map((c) => c.id)).toEqual([recorded.id]);

    // The same slot cannot hold two confiscated phones.
    const twice = await teacher.post('/api/confiscations', { device: device.device, slot: 2, note: 'again' });
    expect(twice.status).toBe(409);

    const returned = data(await teacher.post<Confiscation>(`/api/confiscations/${recorded.id}/return`));
    expect(returned.returnedBy).toBe('teacher1');
    expect(data(await office.get<Confiscation[]>('/api/confiscations?open=1'))).toEqual([]);
    // Never deleted: the full register still has it.
    expect(data(await office.get<Confiscation[]>('/api/confiscations')).map((c) => c.id)).toContain(
      recorded.id,
    );
  });

  it('P7: office staff, who hand phones back at the end of the day, record a return', async () => {
    const recorded = data(
      await teacher.post<Confiscation>('/api/confiscations', {
        device: device.device,
        slot: 3,
        note: 'in P4',
      }),
    );
    const returned = data(await office.post<Confiscation>(`/api/confiscations/${recorded.id}/return`));
    expect(returned).toMatchObject({ id: recorded.id, returnedBy: 'office1' });
    expect(data(await office.get<Confiscation[]>('/api/confiscations?open=1'))).toEqual([]);
    const again = await office.post(`/api/confiscations/${recorded.id}/return`);
    expect(again.status).toBe(409);
    const audit = (await fixture.hub.audit.list({ limit: 10 })).find(
      (e) => e.action === 'confiscation.returned' && e.target === recorded.id,
    );
    expect(audit).toMatchObject({ actor: 'office1', after: { returnedBy: 'office1' } });
  });

  it('P7: twenty staff recording the same slot at once: exactly one succeeds, the rest are refused', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        teacher.post('/api/confiscations', { device: device.device, slot: 5, note: `race ${i}` }),
      ),
    );
    expect(attempts.map((a) => a.status).sort()).toEqual([200, ...Array(19).fill(409)]);
    const open = data(await office.get<Confiscation[]>('/api/confiscations?open=1'));
    expect(open.filter((c) => c.slot === 5)).toHaveLength(1);
  });

  it('S5: office staff can read the register but not record a confiscation', async () => {
    const attempt = await office.post('/api/confiscations', { device: device.device, slot: 1, note: 'x' });
    expect(attempt.status).toBe(403);
  });

  it('D1: the record has no field for the pupil, and bad input names the field', async () => {
    const bad = await teacher.post('/api/confiscations', {
      device: device.device,
      slot: 1,
      note: 'x',
      pupil: 'A',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.status === 'error' && bad.body.error.fields).toContain(
      "/: must NOT have additional properties 'pupil'",
    );
    const wrongSlot = await teacher.post('/api/confiscations', {
      device: device.device,
      slot: 40,
      note: 'x',
    });
    expect(wrongSlot.status).toBe(409);
  });

  it('S6: confiscations are written to the audit log', async () => {
    const entries = await fixture.hub.audit.list({ limit: 50 });
    expect(entries.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['confiscation.recorded', 'confiscation.returned']),
    );
  });
});

describe('a register of more than 500 records (P7)', () => {
  let fixture: HubFixture;
  let teacher: StaffClient;
  let office: StaffClient;
  const OLD_OPEN = [0, 1, 2]; // slots holding phones confiscated before the 597 later (returned) records
  const T0 = Date.parse('2026-09-02T08:00:00Z');

  beforeAll(async () => {
    // A hub with 600 records on disk, the three oldest still open; then restarted on the same data, as after a term.
    const first = await startTestHub();
    await first.hub.registry.provision({
      id: device.device,
      address: device,
      secret: 'confiscation-test-secret-0123',
      lockerMode: 'lesson',
      now: T0,
    });
    await first.hub.users.add('teacher1', PASSWORD, ['teacher'], T0);
    await first.hub.users.add('office1', PASSWORD, ['office'], T0);
    const records: Confiscation[] = Array.from({ length: 600 }, (_, i) => ({
      id: `c-${String(i).padStart(4, '0')}`,
      ...device,
      slot: i < OLD_OPEN.length ? (OLD_OPEN[i] as number) : 3 + (i % 9),
      note: `record ${i}`,
      recordedBy: 'teacher1',
      recordedAt: T0 + i * 60_000,
      ...(i < OLD_OPEN.length ? {} : { returnedBy: 'teacher1', returnedAt: T0 + i * 60_000 + 30_000 }),
    }));
    const key = (c: Confiscation) => `${c.recordedAt.toString().padStart(15, '0')}-${c.id}`;
    await first.hub.db.batch(
      records.flatMap((c) => [
        { type: 'put' as const, sublevel: 'confiscations' as const, key: key(c), value: c },
        { type: 'put' as const, sublevel: 'meta' as const, key: `confiscation/${c.id}`, value: key(c) },
      ]),
      { sync: true },
    );
    await first.stop();
    fixture = await startTestHub({ dataDir: first.dataDir });
    teacher = new StaffClient(fixture.hub.httpUrl, 'teacher1', PASSWORD);
    office = new StaffClient(fixture.hub.httpUrl, 'office1', PASSWORD);
    expect((await teacher.signIn()).status).toBe(200);
    expect((await office.signIn()).status).toBe(200);
  });

  afterAll(async () => {
    await fixture?.dispose();
  });

  it('P7: the three oldest open confiscations, behind 597 newer records, are all in the open register', async () => {
    const open = data(await office.get<Confiscation[]>('/api/confiscations?open=1'));
    expect(open.map((c) => c.id).sort()).toEqual(['c-0000', 'c-0001', 'c-0002']);
    // The full history is read newest first and capped; the cap never hides an open one (above).
    const all = data(await office.get<Confiscation[]>('/api/confiscations'));
    expect(all).toHaveLength(500);
    expect(all.some((c) => c.id === 'c-0000')).toBe(false);
  });

  it('P7: the same-slot check sees a phone confiscated 600 records ago', async () => {
    const taken = await teacher.post('/api/confiscations', { device: device.device, slot: 0, note: 'again' });
    expect(taken.status).toBe(409);
    expect(data(await office.post<Confiscation>('/api/confiscations/c-0000/return'))).toMatchObject({
      returnedBy: 'office1',
    });
    const free = await teacher.post('/api/confiscations', { device: device.device, slot: 0, note: 'new' });
    expect(free.status).toBe(200);
    const open = data(await office.get<Confiscation[]>('/api/confiscations?open=1'));
    expect(open.map((c) => c.note).sort()).toEqual(['new', 'record 1', 'record 2']);
  });
});
