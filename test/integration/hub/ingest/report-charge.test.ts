/**
 * A report counts against its device's report rate once per press, not once per attempt to store it (R1, R7). While
 * the hub cannot write (a full disk), a device resends its report on every reconnect; when each failed attempt took
 * a token, the report that finally went through was judged a flood and collapsed into a "report flood" tamper
 * incident, so the pupil's report had no incident of its own (found by the disk-full fault test). Here the hub's
 * database refuses the first attempts of one report (the refusal a full disk gives, StorageFaultError), and the
 * report must still become its own incident, with rate left for the next presses.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { BatchOp } from '../../../../hub/db/hub-db.js';
import { StorageFaultError } from '../../../../hub/db/log-fault.js';
import { type HubFixture, provision, startTestHub, waitFor } from '../../../support/hub-fixture.js';
import { SimDevice } from '../../../support/sim-device.js';

const address = { site: 'demo-school', room: 'room-3', device: 'charge-1' };
const secret = 'report-charge-device-secret-01';
const BURST = 3;
const FAILED_ATTEMPTS = 6;
const config = { limits: { reports: { perDevicePerMinute: 1, burst: BURST } } };

describe('report rate across failed writes (real aedes, real LevelDB)', () => {
  let fixture: HubFixture | undefined;
  let device: SimDevice | undefined;

  afterAll(async () => {
    await device?.stop();
    await fixture?.dispose();
  });

  it('R1, R7: a report whose writes failed several times is still its own incident, charged once', async () => {
    fixture = await startTestHub({ config });
    const { hub } = fixture;
    await provision(hub, address, secret);
    // Refuse every write that stores an incident, FAILED_ATTEMPTS times: nothing of those attempts is stored.
    const db = hub.db;
    const batch = db.batch.bind(db);
    let refused = 0;
    db.batch = (ops: BatchOp[], options?: Parameters<typeof batch>[1]) => {
      if (refused < FAILED_ATTEMPTS && ops.some((op) => op.sublevel === 'incidents')) {
        refused += 1;
        options?.taken?.();
        return Promise.reject(new StorageFaultError('refused for the test, as after a full disk'));
      }
      return batch(ops, options);
    };
    device = new SimDevice({
      port: hub.mqttPort,
      address,
      secret,
      resendAfterMs: 200,
      reconnectPeriodMs: 50,
    });
    await device.start();
    const first = device.report();
    await waitFor(() => device?.acks.get(first), 'the report acknowledged after its failed attempts', 30_000);
    expect(refused).toBe(FAILED_ATTEMPTS);

    // The rest of the burst is still there for the next presses: each its own incident.
    const next = [device.report(), device.report()];
    await waitFor(() => next.every((id) => device?.acks.has(id)), 'the next presses acknowledged', 30_000);
    const incidents = await hub.incidents.list({ limit: 100 });
    expect(incidents.map((i) => i.kind)).toEqual(['report', 'report', 'report']);
    expect((await hub.incidents.findByEvent(first))?.ref).toBe(device.acks.get(first)?.ref);
    // Beyond the burst, a flood as before.
    const beyond = device.report();
    await waitFor(() => device?.acks.has(beyond), 'the press beyond the burst acknowledged', 30_000);
    const flood = (await hub.incidents.list({ limit: 100 })).find((i) => i.kind === 'tamper');
    expect(flood?.tamperReason).toBe('report-flood');
  }, 60_000);
});
