/**
 * S4 from the device's side: a device with only an enrolment token makes its own secret, enrols, is refused while
 * pending, and connects once an admin approves it; after that it uses its plain secret. The real device program
 * (runDevice: config file, emulated Uno, journal, hub link) against a real hub.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeviceProgram, runDevice } from '../../../firmware/main.js';
import { deviceConfig } from '../../support/device-fixture.js';
import { type HubFixture, startTestHub, waitFor } from '../../support/hub-fixture.js';

const ADDRESS = { site: 'demo-school', room: 'room-2', device: 'new-locker' };

describe('device enrolment (S4)', () => {
  let fixture: HubFixture;
  let dir: string;
  let configFile: string;
  let program: DeviceProgram | undefined;
  const lines: string[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phones-away-enrol-'));
    fixture = await startTestHub();
    const { token } = await fixture.hub.devices.issueToken({ maxUses: 1, ttlMinutes: 10, who: 'test-admin' });
    writeFileSync(join(dir, 'enrol.token'), `${token}\n`);
    const base = deviceConfig(fixture.hub, dir, {}, ADDRESS);
    configFile = join(dir, 'device.json');
    writeFileSync(
      configFile,
      JSON.stringify({ ...base, hub: { ...base.hub, enrolTokenFile: join(dir, 'enrol.token') } }),
    );
  });

  afterAll(async () => {
    await program?.stop();
    await fixture?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('S4: enrols with its own secret, waits while pending, connects once approved', async () => {
    const { hub } = fixture;
    const passwordFile = join(dir, 'device.secret');
    expect(existsSync(passwordFile)).toBe(false);
    program = await runDevice(configFile, { log, handleSignals: false });

    // Pending at the hub, refused by the broker: the device keeps trying and says why.
    const pending = await waitFor(async () => {
      const device = await hub.registry.get(ADDRESS.device);
      return device?.status === 'pending' ? device : undefined;
    }, 'pending device');
    expect(pending.id).toBe(ADDRESS.device);
    await waitFor(() => lines.some((l) => l.includes('waiting for approval')), 'waiting-for-approval log');
    expect(program.device.connected()).toBe(false);
    // Its own secret, kept where only it can read it.
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    const secret = readFileSync(passwordFile, 'utf8');
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(lines.join('')).not.toContain(secret); // S7: never logged

    await hub.devices.approve(ADDRESS.device, { room: ADDRESS.room, lockerMode: 'lesson' }, 'test-admin');
    await waitFor(() => program?.device.connected(), 'connected after approval', 20_000);
    // Recorded on disk, so a restart does not enrol again; and the token file is deleted (S7: a copied SD card
    // carries no token that might still have uses left).
    await waitFor(
      () => readFileSync(join(dir, 'data', 'enrolment.json'), 'utf8').includes('"approved"'),
      'approval recorded',
    );
    await waitFor(() => !existsSync(join(dir, 'enrol.token')), 'enrolment token file deleted');
  });

  it('S4: once approved it connects with its plain secret: the token is no longer needed', async () => {
    await program?.stop();
    program = undefined;
    // A token file put back (an older version left it, or a power cut came between recording and deleting) goes at
    // the next start.
    writeFileSync(join(dir, 'enrol.token'), 'left-over-token\n');
    program = await runDevice(configFile, { log, handleSignals: false });
    expect(existsSync(join(dir, 'enrol.token'))).toBe(false);
    await waitFor(() => program?.device.connected(), 'reconnected with the plain secret');
    expect((await fixture.hub.registry.get(ADDRESS.device))?.status).toBe('approved');
  });
});
