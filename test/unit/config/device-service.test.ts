/**
 * The example systemd unit runs the device program with exactly the node flags the benchmark measures
 * (cli/device-node-flags.ts), so the memory figure in bench/RESULTS.md is the one a classroom Pi gets; it runs what
 * the fleet updater switches (`current`) through the boot guard, restarts it whatever its exit (the updater exits to
 * be restarted; a crashing new version must come back into the guard), and keeps the journal and secrets private.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEVICE_NODE_FLAGS } from '../../../cli/device-node-flags.js';
import { DEVICE_ENTRY } from '../../../cli/release-files.js';

const unit = readFileSync(new URL('../../../config/phones-away-device.service', import.meta.url), 'utf8');

describe('config/phones-away-device.service', () => {
  it('starts the installed release (current symlink) with DEVICE_NODE_FLAGS', () => {
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(' ') ?? [];
    expect(exec[0]).toMatch(/node$/);
    expect(exec.slice(1, 1 + DEVICE_NODE_FLAGS.length)).toEqual([...DEVICE_NODE_FLAGS]);
    // The boot entry of whichever signed release `current` points at (fleet updates switch it atomically).
    expect(exec[1 + DEVICE_NODE_FLAGS.length]).toBe(`/opt/phones-away/current/${DEVICE_ENTRY}`);
  });

  it('S8: restarts the program on any exit and never gives up, so an update or a failed start comes back', () => {
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^StartLimitIntervalSec=0$/m);
  });

  it('S3: sets UMask=0077 so the journal and device secret are private to its user', () => {
    expect(unit).toMatch(/^UMask=0077$/m);
  });
});
