/** P7 against the real hub: record a confiscation into a locker slot, see it in the register, record its return. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Confiscation } from '../../../hub/confiscations/confiscations.js';
import { type HubFixture, startTestHub } from '../../support/hub-fixture.js';
import { data, StaffClient } from '../../support/staff-client.js';

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
