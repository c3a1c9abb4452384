/**
 * The outbox's disk full: the hub's LevelDB (incident log, dedupe keys and the outbox) lives on a small tmpfs that a
 * filler file then fills. Events arriving meanwhile must not be lost: reports are not acknowledged, so devices keep
 * them and resend; once space returns everything is stored exactly once and nothing is corrupt, and it is all still
 * there after a restart (a failed write once left LevelDB's log torn, and what was stored after it, acknowledged
 * reports included, was gone at the next open: hub/db/log-fault.ts). Each report keeps its own incident: its failed
 * attempts do not count against the device's report rate. The devices chain their events as real ones do (R7), so
 * the hub's chain state must survive the failed writes too: after a restart, each device's next event finds the one
 * it points at. Needs root for `mount -t tmpfs` (this CI runs as root); elsewhere the test is skipped and says so.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillDisk, mountTmpfs, unmount } from '../support/full-disk.js';
import { HubProcess } from '../support/hub-process.js';
import {
  expectExactlyOnce,
  expectWholeAfterRestart,
  publishFaultTable,
  settle,
  startDevices,
  stream,
  verify,
} from './fault-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('faults: outbox disk full (LevelDB on a full tmpfs)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'phones-away-diskfull-'));
  const dbDir = join(dataDir, 'hub-db');
  let mountError: string | null = 'not tried';
  let hub: HubProcess | undefined;

  beforeAll(async () => {
    mkdirSync(dbDir, { recursive: true });
    mountError = mountTmpfs(dbDir, '16m');
    if (!mountError) hub = await HubProcess.start({ dataDir });
  });

  afterAll(async () => {
    await hub?.dispose();
    if (!mountError) unmount(dbDir);
    rmSync(dataDir, { recursive: true, force: true });
    publishFaultTable('disk-full', 'outbox disk full');
  });

  // aedes 1.x writes a QoS 1 PUBACK before its `published` hook, so the hub ingests in `authorizePublish`: while
  // the disk is full the store fails, the hub withholds the PUBACK and drops the connection, and each device keeps
  // its events in its journal and resends them when it reconnects.
  it('R1, R3, R7: with the disk full nothing is lost; after space returns all is stored exactly once, chains whole', async (ctx) => {
    if (!hub) return ctx.skip(`cannot mount a tmpfs here (${mountError})`);
    const devices = await startDevices(hub, 'diskfull', 4, { chained: true });
    let filler = '';
    await stream(devices, 120, 10, async () => {
      filler = fillDisk(dbDir);
    });
    await sleep(1_500);
    // The hub is still up and answering while its disk is full, refusing writes, and the devices still hold what it
    // could not store.
    expect((await hub.stats()).storage).toMatchObject({ refusing: true, recoveries: 0 });
    const unconfirmed = devices.reduce((n, d) => n + d.pending.size, 0);
    expect(unconfirmed).toBeGreaterThan(0);
    unlinkSync(filler);
    await settle(devices, 60_000);
    // Reopened by itself once the disk had room: nothing to do for a technician but free space.
    expect((await hub.stats()).storage.refusing).toBe(false);
    expect((await hub.stats()).storage.recoveries).toBeGreaterThanOrEqual(1);
    const v = await verify(
      hub,
      devices,
      'outbox disk full, then space returns',
      `${unconfirmed} held on devices while full`,
    );
    expectExactlyOnce(v);

    // R7 after the fault: a restarted hub reads each device's chain from disk, and each device's next event points at
    // its newest, stored only when a resend went through after the disk was full. None may be missing: no gap open
    // (a chain fault is declared once an awaited event is overdue; an open gap is what would become one).
    await expectWholeAfterRestart(
      hub,
      devices,
      'outbox disk full, space returns, then a hub restart',
      'what was stored after the fault, read again from disk',
    );
  });
});
