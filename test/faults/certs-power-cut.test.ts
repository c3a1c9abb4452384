/**
 * A power cut just after `phones-away certs` made the school's certificate authority and the hub's certificate (S7):
 * openssl writes its files without syncing them, and anything else that syncs on the same disk (the hub's database,
 * a device journal) commits ext4's journal with their names and sizes but not their bytes. After the cut the names
 * would be there and empty: the hub could not start its TLS listener, and `certs` would never make the CA again over
 * its files (it reuses an existing CA, so the devices' trust in it holds). hub/devices/certificates.ts syncs them.
 * The disk is ext4 on a loop device (test/support/crash-disk.ts), its image copied at the cut. Needs root for losetup
 * and mount; elsewhere the test is skipped and says why.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeCertificates } from '../../hub/devices/certificates.js';
import { writeFileDurably } from '../../shared/durable-file.js';
import { CrashDisk } from '../support/crash-disk.js';

const openssl = (args: string[]) => {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  return run.status === 0 ? 'ok' : `openssl ${args[0]}: ${(run.stderr || run.stdout).trim().split('\n')[0]}`;
};

describe('faults: a power cut after the certificates are made', () => {
  let disk: CrashDisk | undefined;

  afterAll(() => disk?.dispose());

  it('S7: a power cut right after `certs`: the CA, the hub and device certificates and keys are whole and verify', async (ctx) => {
    const made = CrashDisk.create(64);
    if (typeof made === 'string') return ctx.skip(`cannot make a loop disk here (${made})`);
    disk = made;
    const dir = join(made.dir, 'pki');
    const files = await makeCertificates({ dir, hubHost: 'hub.school.example', devices: ['room-1-locker'] });
    // Something else on the same disk syncs (the hub's database would), then the power goes.
    writeFileDurably(join(made.dir, 'other.json'), '{}');
    made.powerCut();

    const device = files.devices[0];
    if (!device) throw new Error('no device certificate made');
    const all = [files.ca.key, files.ca.cert, files.hub.key, files.hub.cert, device.key, device.cert];
    const sizes = all.map((f) => `${f.slice(dir.length + 1)}: ${statSync(f).size} bytes`);
    expect(
      all.filter((f) => statSync(f).size === 0).map((f) => f.slice(dir.length + 1)),
      `empty after the cut (${sizes.join(', ')})`,
    ).toEqual([]);
    expect(openssl(['pkey', '-in', files.ca.key, '-noout'])).toBe('ok');
    expect(openssl(['pkey', '-in', files.hub.key, '-noout'])).toBe('ok');
    expect(openssl(['verify', '-CAfile', files.ca.cert, files.hub.cert, device.cert])).toBe('ok');
  }, 120_000);
});
