/**
 * The broker's persistence after a write fails on a real full disk (a tmpfs): like the hub's database
 * (test/integration/hub/db/log-fault.test.ts), LevelDB would append later writes after the failed one's torn record
 * and drop them at its next open, so commands queued for an offline classroom, sessions and retained messages written
 * after a full disk would be gone after a restart. The persistence refuses writes from the failure until it has
 * reopened its database, and every write it acknowledged is there after a close and open (R1).
 * Needs root for `mount -t tmpfs`; elsewhere the test is skipped and says so.
 */
import { unlinkSync } from 'node:fs';
import { Level } from 'level';
import { describe, expect, it } from 'vitest';
import { LevelPersistence, type StoredPacket } from '../../../../hub/broker/level-persistence.js';
import { StorageFaultError } from '../../../../hub/db/log-fault.js';
import { fillDisk, tmpfsForTests } from '../../../support/full-disk.js';
import { waitFor } from '../../../support/hub-fixture.js';

const { dir, notMounted } = tmpfsForTests('pa-broker-full-', '8m');

const client = { id: 'room-1-locker' };
/** A command queued for the offline device, about 2 KB, so a few fill the full disk's last pages. */
const command = (n: number): StoredPacket => ({
  cmd: 'publish',
  topic: 'demo-school/room-1/room-1-locker/set/lock',
  payload: Buffer.from(`lock ${n} ${'x'.repeat(2000)}`),
  qos: 1,
  retain: false,
  brokerId: 'broker-1',
  brokerCounter: n,
});

async function open(): Promise<LevelPersistence> {
  const level = new Level<string, Buffer>(dir);
  await level.open();
  const persistence = new LevelPersistence(level);
  await persistence.setup({ id: 'broker-1', counter: 0 });
  return persistence;
}

async function queued(persistence: LevelPersistence): Promise<number[]> {
  const out: number[] = [];
  for await (const packet of persistence.outgoingStream(client))
    out.push((packet as StoredPacket).brokerCounter ?? -1);
  return out;
}

describe("the broker's persistence on a full disk", () => {
  it('R1: refuses writes from a failed one until reopened, and keeps every queued command it acknowledged', async (ctx) => {
    const mountError = notMounted();
    if (mountError) return ctx.skip(`cannot mount a tmpfs here (${mountError})`);
    let persistence = await open();
    const acknowledged: number[] = [];
    let filler = '';
    try {
      let n = 0;
      for (; n < 10; n++) {
        await persistence.outgoingEnqueue({ clientId: client.id }, command(n));
        acknowledged.push(n);
      }
      filler = fillDisk(dir);
      let failure: unknown;
      for (; n < 1000 && failure === undefined; n++) {
        await persistence.outgoingEnqueue({ clientId: client.id }, command(n)).then(
          () => acknowledged.push(n),
          (error: unknown) => {
            failure = error;
          },
        );
      }
      expect((failure as { code?: string }).code).toBe('LEVEL_IO_ERROR');
      expect(persistence.logFault).toMatchObject({ refusing: true, faults: 1 });
      await expect(persistence.outgoingEnqueue({ clientId: client.id }, command(n))).rejects.toBeInstanceOf(
        StorageFaultError,
      );
      // Wills and retained messages go through the coalesced writes: refused the same way.
      await expect(
        persistence.storeRetained({ ...command(n), topic: 'demo-school/room-1/status', retain: true }),
      ).rejects.toBeInstanceOf(StorageFaultError);
      expect(await queued(persistence)).toEqual(acknowledged);

      unlinkSync(filler);
      filler = '';
      await waitFor(() => !persistence.logFault.refusing, 'writes accepted again', 15_000);
      for (let k = 0; k < 10; k++, n++) {
        await persistence.outgoingEnqueue({ clientId: client.id }, command(n));
        acknowledged.push(n);
      }
      await persistence.storeRetained({ ...command(n), topic: 'demo-school/room-1/status', retain: true });
    } finally {
      if (filler) unlinkSync(filler);
      await persistence.destroy();
    }

    // A restart: everything acknowledged, before and after the fault, is read back from LevelDB's log.
    persistence = await open();
    try {
      expect(await queued(persistence)).toEqual(acknowledged);
      const retained: StoredPacket[] = [];
      for await (const packet of persistence.createRetainedStream('demo-school/room-1/status'))
        retained.push(packet as StoredPacket);
      expect(retained).toHaveLength(1);
    } finally {
      await persistence.destroy();
    }
  }, 60_000);
});
