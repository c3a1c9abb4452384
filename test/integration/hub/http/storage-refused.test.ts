/**
 * A change made from the dashboard while the hub's database refuses writes (a full disk, hub/db/log-fault.ts): the
 * member of staff gets a 503 in plain words saying nothing was changed, not a bare "internal error", and the same
 * change goes through once the database writes again. The refusal is HubDb's own StorageFaultError, thrown here
 * from the database's write methods (a real full disk under HubDb: test/integration/hub/db/log-fault.test.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { HubDb } from '../../../../hub/db/hub-db.js';
import { StorageFaultError } from '../../../../hub/db/log-fault.js';
import { type HubFixture, startTestHub } from '../../../support/hub-fixture.js';
import { StaffClient } from '../../../support/staff-client.js';

const PASSWORD = 'storage-refused-password-01';
const NEW_PASSWORD = 'storage-refused-password-02';

/** Makes the database's writes fail as HubDb's guard fails them, until the returned function is called. */
function refuseWrites(db: HubDb): () => void {
  const { batch, put, del } = db;
  const refused = () => Promise.reject(new StorageFaultError('storage refuses writes until it is reopened'));
  db.batch = refused;
  db.put = refused;
  db.del = refused;
  return () => {
    db.batch = batch;
    db.put = put;
    db.del = del;
  };
}

describe('a dashboard change while the database refuses writes', () => {
  let fixture: HubFixture | undefined;

  afterAll(async () => {
    await fixture?.dispose();
  });

  it('R1: answers 503 with plain words and changes nothing; the same change succeeds once writes are back', async () => {
    fixture = await startTestHub();
    const { hub } = fixture;
    await hub.users.add('coord1', PASSWORD, ['coordinator'], Date.now());
    const staff = new StaffClient(hub.httpUrl, 'coord1', PASSWORD);
    expect((await staff.signIn()).status).toBe(200);
    const change = { current: PASSWORD, password: NEW_PASSWORD };
    const restore = refuseWrites(hub.db);
    const refused = await staff.post('/api/session/password', change);
    restore();
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({
      error: { code: 'E_STORAGE', message: expect.stringMatching(/Nothing was changed/) },
    });
    expect(JSON.stringify(refused.body)).not.toMatch(/IO error|LevelDB|STORAGE_FAULT/);
    // Nothing changed: the old password is still the one.
    expect(await hub.users.verify('coord1', PASSWORD)).not.toBeNull();

    const done = await staff.post('/api/session/password', change);
    expect(done.status).toBe(200);
    expect(await hub.users.verify('coord1', NEW_PASSWORD)).not.toBeNull();
    expect(await hub.users.verify('coord1', PASSWORD)).toBeNull();
  });
});
