/**
 * The outbox's disk full: the hub's LevelDB (incident log, dedupe keys and the outbox) lives on a small tmpfs that a
 * filler file then fills. Events arriving meanwhile must not be lost: reports are not acknowledged, so devices keep
 * them and resend; once space returns everything is stored exactly once and nothing is corrupt. Needs root for
 * `mount -t tmpfs` (this CI runs as root); elsewhere the test is skipped and says so.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubProcess } from '../support/hub-process.js';
import { publishFaultTable, settle, startDevices, stream, verify } from './fault-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tryMount(dir: string, size: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return (error as Error).message.split('\n')[0] ?? 'mount failed';
  }
}

/** Writes zeros until ENOSPC; returns the filler's path. */
function fill(dir: string): string {
  const file = join(dir, 'filler.bin');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return file;
}

describe('faults: outbox disk full (LevelDB on a full tmpfs)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'phones-away-diskfull-'));
  const dbDir = join(dataDir, 'hub-db');
  let mountError: string | null = 'not tried';
  let hub: HubProcess | undefined;

  beforeAll(async () => {
    mkdirSync(dbDir, { recursive: true });
    mountError = tryMount(dbDir, '16m');
    if (!mountError) hub = await HubProcess.start({ dataDir });
  });

  afterAll(async () => {
    await hub?.dispose();
    if (!mountError) execFileSync('umount', ['-l', dbDir]);
    rmSync(dataDir, { recursive: true, force: true });
    publishFaultTable('disk-full', 'outbox disk full');
  });

  // aedes 1.x writes a QoS 1 PUBACK before its `published` hook, so the hub ingests in `authorizePublish`: while
  // the disk is full the store fails, the hub withholds the PUBACK and drops the connection, and each device keeps
  // its events in its journal and resends them when it reconnects.
  it('R1, R3: with the disk full nothing is lost; after space returns all is stored exactly once', async (ctx) => {
    if (!hub) return ctx.skip(`cannot mount a tmpfs here (${mountError})`);
    const devices = await startDevices(hub, 'diskfull', 4);
    let filler = '';
    await stream(devices, 120, 10, async () => {
      filler = fill(dbDir);
    });
    await sleep(1_500);
    // The hub is still up and answering while its disk is full, and the devices still hold what it could not store.
    await hub.stats();
    const unconfirmed = devices.reduce((n, d) => n + d.pending.size, 0);
    expect(unconfirmed).toBeGreaterThan(0);
    unlinkSync(filler);
    await settle(devices, 60_000);
    const v = await verify(
      hub,
      devices,
      'outbox disk full, then space returns',
      `${unconfirmed} held on devices while full`,
    );
    await Promise.all(devices.map((d) => d.stop()));
    expect(v.missingInIncidents).toEqual([]);
    expect(v.duplicatedInIncidents).toEqual([]);
    expect(v.missingInInflux).toEqual([]);
  });
});
