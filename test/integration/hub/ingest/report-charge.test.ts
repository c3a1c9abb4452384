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

  it('R1, R7: a report whose writes failed several times is its own incident, charged once; a flooded one counts once', async () => {
    fixture = await startTestHub({ config });
    const { hub } = fixture;
    await provision(hub, address, secret);
    // Refuse every write that stores a report (its dedupe key, in its own incident or a flood's), up to a count:
    // nothing of those attempts is stored.
    const db = hub.db;
    const batch = db.batch.bind(db);
    let refused = 0;
    let refuseUpTo = FAILED_ATTEMPTS;
    db.batch = (ops: BatchOp[], options?: Parameters<typeof batch>[1]) => {
      if (refused < refuseUpTo && ops.some((op) => op.sublevel === 'dedupe')) {
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
    expect((await hub.incidents.get(flood?.id ?? ''))?.flood?.reports).toBe(1);

    // A flooded report whose writes fail counts once in the flood's tally, when it is stored.
    refuseUpTo = refused + 3;
    const flooded = device.report();
    await waitFor(() => device?.acks.has(flooded), 'the flooded report acknowledged', 30_000);
    expect(refused).toBe(refuseUpTo);
    expect((await hub.incidents.get(flood?.id ?? ''))?.flood?.reports).toBe(2);
  }, 60_000);
});
