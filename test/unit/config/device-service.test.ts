/**
 * The example systemd unit runs the device program with exactly the node flags the benchmark measures
 * (cli/device-node-flags.ts), so the memory figure in bench/RESULTS.md is the one a classroom Pi gets.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEVICE_NODE_FLAGS } from '../../../cli/device-node-flags.js';
import { DEVICE_ENTRY } from '../../../cli/release-files.js';

describe('config/phones-away-device.service', () => {
  it('starts the installed release (current symlink) with DEVICE_NODE_FLAGS', () => {
    const unit = readFileSync(new URL('../../../config/phones-away-device.service', import.meta.url), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(' ') ?? [];
    expect(exec[0]).toMatch(/node$/);
    expect(exec.slice(1, 1 + DEVICE_NODE_FLAGS.length)).toEqual([...DEVICE_NODE_FLAGS]);
    // The boot entry of whichever signed release `current` points at (fleet updates switch it atomically).
    expect(exec[1 + DEVICE_NODE_FLAGS.length]).toBe(`/opt/phones-away/current/${DEVICE_ENTRY}`);
  });
});
