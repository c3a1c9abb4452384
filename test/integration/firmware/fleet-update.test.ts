/**
 * Fleet updates end to end with real parts: a real hub (aedes, LevelDB, HTTP), the device program as its own process
 * on the emulated Uno, run from `<install>/current` by a small supervisor standing in for systemd (it starts the
 * program again whenever it exits), real release bundles compiled from this tree, real files and symlinks.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutOf, switchTo, unpackRelease } from '../../../firmware/updates/install-dir.js';
import type { ReleaseRecord } from '../../../hub/updates/release-store.js';
import type { SchoolModel } from '../../../schemas/config.js';
import type { UpdateProgress } from '../../../schemas/messages.js';
import { topics } from '../../../schemas/topics.js';
import {
  generateReleaseKeys,
  hostTarget,
  parseBundle,
  signBundle,
  verifyBundle,
} from '../../../shared/release-bundle.js';
import { allDayLessonSchool, provisionDevice, ROOM1 } from '../../support/device-fixture.js';
import { type HubFixture, repoRoot, startTestHub, waitFor } from '../../support/hub-fixture.js';
import { bundleOf, compileDeviceTree } from '../../support/release-tree.js';

/** Every day one long break: the timetable never locks the locker, so a test locks it when it wants a lesson. */
function neverLockedSchool(): SchoolModel {
  const school = allDayLessonSchool();
  return {
    ...school,
    timetable: {
      ...school.timetable,
      periods: [{ id: 'all-day', name: 'All day', kind: 'break', start: '00:00', end: '23:59' }],
    },
  };
}

describe('fleet updates: signed bundles installed on an emulated classroom device (ETSI 5.3, S8)', () => {
  let root: string;
  let fixture: HubFixture;
  let installDir: string;
  let tree: string;
  const school = generateReleaseKeys();
  const stranger = generateReleaseKeys();
  const progress: UpdateProgress[] = [];
  const software: string[] = [];
  let child: ChildProcess | undefined;
  let supervising = false;
  const exits: (number | null)[] = [];
  let output = '';

  /** systemd's part (Restart=always): run `current`'s entry, and again whenever it exits. */
  const superviseFrom = (configFile: string) => {
    supervising = true;
    const start = () => {
      const proc = spawn(
        process.execPath,
        [join(installDir, 'current', 'dist', 'firmware', 'boot.js'), configFile],
        {
          cwd: root,
          env: { ...process.env, PHONES_AWAY_LOG_LEVEL: 'info' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      proc.stdout?.on('data', (d: Buffer) => {
        output += d.toString();
      });
      proc.stderr?.on('data', (d: Buffer) => {
        output += d.toString();
      });
      proc.on('exit', (code) => {
        exits.push(code);
        // As systemd's StartLimitBurst does: a program that keeps dying is left stopped.
        if (supervising && exits.length < 15) start();
      });
      child = proc;
    };
    start();
  };

  const running = () => readlinkSync(join(installDir, 'current'));
  const stagesOf = (offer: string) => progress.filter((p) => p.offer === offer).map((p) => p.stage);
  const until = (offer: string, stage: UpdateProgress['stage'], timeoutMs = 60_000) =>
    waitFor(
      () => progress.find((p) => p.offer === offer && p.stage === stage),
      `${stage} for ${offer}`,
      timeoutMs,
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}; stages ${stagesOf(offer).join(', ')}; device output:\n${output.slice(-3000)}`,
      );
    });

  /** Puts a bundle into the hub's store without the hub's own check: a hub (or a path to it) that cannot be trusted. */
  const smuggle = async (bytes: Buffer) => {
    const { manifest } = parseBundle(bytes);
    writeFileSync(join(fixture.dataDir, 'releases', `${manifest.version}.bundle`), bytes);
    const record: ReleaseRecord = {
      version: manifest.version,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      keyId: 'smuggled',
      target: manifest.target,
      builtAt: manifest.builtAt,
      addedAt: Date.now(),
      addedBy: 'test',
    };
    await fixture.hub.db.put('releases', manifest.version, record);
  };

  /** Begins a roll-out of `version` and offers it to room 1 (a finished or stopped earlier one is set aside). */
  const offer = async (version: string) => {
    const { fleet } = fixture.hub.updates;
    if ((await fleet.current())?.status === 'running') await fleet.halt('admin');
    const rollout = await fleet.begin({ version, downgrade: false, maxRollbacks: 0 }, 'admin');
    await fleet.widen({ kind: 'room', room: ROOM1.room }, 'admin');
    return rollout.id;
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'phones-away-fleet-'));
    // Releases resolve their dependencies up the tree, as `--no-deps` bundles do on a device that has them.
    symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
    tree = compileDeviceTree(join(root, 'tree'));
    installDir = join(root, 'device');
    writeFileSync(join(root, 'school.pub'), school.publicKeyPem);
    fixture = await startTestHub({
      school: neverLockedSchool(),
      config: { updates: { publicKeys: [join(root, 'school.pub')] } },
    });
    fixture.hub.bus.on('device.update-progress', ({ progress: p }) => {
      progress.push(p);
    });
    fixture.hub.bus.on('device.heartbeat', ({ heartbeat }) => {
      software.push(heartbeat.software);
    });
    // What the device is provisioned with: release 1.0.0, unpacked and made current.
    const first = verifyBundle(signBundle(bundleOf(tree, '1.0.0'), school.privateKeyPem), [
      school.publicKeyPem,
    ]);
    const layout = layoutOf(installDir, join(root, 'data'));
    await unpackRelease(layout, '1.0.0', first.files);
    await switchTo(layout, '1.0.0');
    const deviceDir = join(root, 'config');
    mkdirSync(deviceDir);
    const { configFile } = await provisionDevice(fixture.hub, deviceDir, {
      dataDir: join(root, 'data'),
      updates: {
        publicKeys: [join(root, 'school.pub')],
        hubHttpUrl: fixture.hub.httpUrl,
        installDir,
        selfCheckS: 60,
        maxStarts: 2,
      },
    });
    superviseFrom(configFile);
    await waitFor(() => software.includes('1.0.0'), 'a heartbeat from version 1.0.0', 60_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}; device output:\n${output.slice(-3000)}`);
      },
    );
  }, 180_000);

  afterAll(async () => {
    supervising = false;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await fixture?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('S8: the hub accepts only bundles signed with a configured key and intact', async () => {
    const { releases } = fixture.hub.updates;
    const good = signBundle(bundleOf(tree, '1.1.0'), school.privateKeyPem);
    await expect(
      releases.add(signBundle(bundleOf(tree, '1.1.0'), stranger.privateKeyPem), 'admin'),
    ).rejects.toMatchObject({
      code: 'E_RELEASE_REFUSED',
      message: expect.stringContaining('not from a trusted key'),
    });
    const tampered = Buffer.from(good);
    tampered[tampered.length - 10] = (tampered[tampered.length - 10] ?? 0) ^ 0x01;
    await expect(releases.add(tampered, 'admin')).rejects.toMatchObject({ code: 'E_RELEASE_REFUSED' });
    await expect(releases.add(bundleOf(tree, '1.1.0'), 'admin')).rejects.toMatchObject({
      code: 'E_RELEASE_REFUSED',
    });
    const record = await releases.add(good, 'admin');
    expect(record).toMatchObject({ version: '1.1.0', target: hostTarget() });
    const audit = await fixture.hub.audit.list({ limit: 5 });
    expect(audit.find((e) => e.action === 'release.add')).toMatchObject({ actor: 'admin', target: '1.1.0' });
  });

  it('S8: a newer signed version is fetched, verified, installed beside the old one and switched to', async () => {
    const id = await offer('1.1.0');
    await until(id, 'installed');
    expect(stagesOf(id)).toEqual(['downloading', 'verifying', 'restarting', 'installed']);
    expect(running()).toBe(join('releases', '1.1.0'));
    await waitFor(() => software.at(-1) === '1.1.0', 'heartbeats from 1.1.0', 60_000);
    expect(exits).toContain(75);
    // The hub records progress as it arrives (after this test's own listener saw it).
    const rollout = await waitFor(async () => {
      const r = await fixture.hub.updates.fleet.current();
      return r?.devices[ROOM1.device]?.stage === 'installed' ? r : null;
    }, 'the hub to record the install');
    expect(rollout.devices[ROOM1.device]).toMatchObject({ stage: 'installed', running: '1.1.0' });
    const audit = await fixture.hub.audit.list({ limit: 10 });
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(['update.begin', 'update.widen', 'update.installed']),
    );
  }, 180_000);

  it('S8: a bundle signed with a key the device does not trust is refused; the device stays on its version', async () => {
    await smuggle(signBundle(bundleOf(tree, '1.3.0'), stranger.privateKeyPem));
    const id = await offer('1.3.0');
    const refused = await until(id, 'refused');
    expect(refused.reason).toContain('not from a trusted key');
    expect(running()).toBe(join('releases', '1.1.0'));
    expect(refused.running).toBe('1.1.0');
  }, 60_000);

  it('S8: a bundle with one byte changed is refused; the device stays on its version', async () => {
    const good = signBundle(bundleOf(tree, '1.4.0'), school.privateKeyPem);
    const tampered = Buffer.from(good);
    tampered[tampered.length - 100] = (tampered[tampered.length - 100] ?? 0) ^ 0x01;
    await smuggle(tampered);
    const id = await offer('1.4.0');
    const refused = await until(id, 'refused');
    expect(refused.reason).toContain('does not match its checksum');
    expect(running()).toBe(join('releases', '1.1.0'));
  }, 60_000);

  it('S8: a version that crashes at start is switched back by itself, the reason reported, the roll-out stopped', async () => {
    const crashing = bundleOf(tree, '1.2.0', (files) => {
      const device = files.find((f) => f.path === 'dist/firmware/device.js');
      if (!device) throw new Error('no device.js in the tree');
      device.data = Buffer.concat([
        device.data,
        Buffer.from("\nthrow new Error('crash at start (test release)');\n"),
      ]);
    });
    await fixture.hub.updates.releases.add(signBundle(crashing, school.privateKeyPem), 'admin');
    const exitsBefore = exits.length;
    const id = await offer('1.2.0');
    const rolledBack = await until(id, 'rolled-back', 90_000);
    expect(rolledBack.reason).toBe('version 1.2.0 did not start (2 attempts)');
    expect(rolledBack.running).toBe('1.1.0');
    expect(running()).toBe(join('releases', '1.1.0'));
    // The old version exited to restart, then the new one failed twice, then the guard switched back.
    expect(exits.slice(exitsBefore)).toEqual([75, 1, 1, 75]);
    await waitFor(() => software.at(-1) === '1.1.0', 'heartbeats from 1.1.0 again', 60_000);
    const rollout = await waitFor(async () => {
      const r = await fixture.hub.updates.fleet.current();
      return r?.status !== 'running' ? r : null;
    }, 'the roll-out to stop');
    expect(rollout).toMatchObject({
      status: 'halted',
      haltReason: '1 devices rolled back (more than 0 allowed)',
    });
    expect(rollout.devices[ROOM1.device]).toMatchObject({ stage: 'rolled-back', running: '1.1.0' });
    const audit = await fixture.hub.audit.list({ limit: 10 });
    expect(audit.find((e) => e.action === 'update.halted')).toMatchObject({ actor: 'hub', target: '1.2.0' });
  }, 180_000);

  it('P1, S8: an update offered while a lesson has the locker locked waits, and installs once it is unlocked', async () => {
    const lock = (locked: boolean) =>
      fixture.hub.broker.publish(
        topics.set(ROOM1, 'lock'),
        JSON.stringify({
          v: 1,
          id: `test-lock-${locked}`,
          ts: Date.now(),
          kind: 'lock',
          locked,
          reason: 'timetable',
        }),
        { qos: 1, retain: true },
      );
    await lock(true);
    await waitFor(
      () => fixture.hub.grid.all().find((v) => v.device === ROOM1.device)?.locker?.locked === true,
      'the locker locked',
      20_000,
    );
    await fixture.hub.updates.releases.add(
      signBundle(bundleOf(tree, '1.5.0'), school.privateKeyPem),
      'admin',
    );
    const id = await offer('1.5.0');
    const waiting = await until(id, 'waiting');
    expect(waiting.reason).toBe('the locker is locked for a lesson');
    expect(stagesOf(id)).toEqual(['waiting']);
    expect(running()).toBe(join('releases', '1.1.0'));
    await lock(false);
    await until(id, 'installed');
    expect(stagesOf(id)).toEqual(['waiting', 'downloading', 'verifying', 'restarting', 'installed']);
    expect(running()).toBe(join('releases', '1.5.0'));
  }, 180_000);
});
