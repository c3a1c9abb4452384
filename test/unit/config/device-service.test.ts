/**
 * The device's systemd unit runs what the fleet updater switches (`current`) through the boot guard, restarts it
 * whatever its exit (the updater exits to be restarted; a crashing new version must come back into the guard), and
 * keeps the journal and secrets private.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEVICE_ENTRY } from '../../../cli/release-files.js';

const unit = readFileSync(new URL('../../../config/phones-away-device.service', import.meta.url), 'utf8');

describe('config/phones-away-device.service', () => {
  it('S8: starts the release `current` points at through its boot guard, and restarts it on any exit', () => {
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(' ') ?? [];
    expect(exec[0]).toMatch(/node$/);
    expect(exec[1]).toMatch(new RegExp(`/current/${DEVICE_ENTRY.replaceAll('.', '\\.')}$`));
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^StartLimitIntervalSec=0$/m);
  });

  it('S3: sets UMask=0077 so the journal and device secret are private to its user', () => {
    expect(unit).toMatch(/^UMask=0077$/m);
  });
});
