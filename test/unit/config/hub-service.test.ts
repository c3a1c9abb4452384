/**
 * The example systemd unit runs the hub with exactly the node flags the benchmark measures (cli/hub-node-flags.ts),
 * so the memory figure in bench/RESULTS.md is the one a school gets.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HUB_NODE_FLAGS } from '../../../cli/hub-node-flags.js';

describe('config/phones-away-hub.service', () => {
  it('starts the compiled hub with HUB_NODE_FLAGS', () => {
    const unit = readFileSync(new URL('../../../config/phones-away-hub.service', import.meta.url), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(' ') ?? [];
    expect(exec[0]).toMatch(/node$/);
    expect(exec.slice(1, 1 + HUB_NODE_FLAGS.length)).toEqual([...HUB_NODE_FLAGS]);
    expect(exec.slice(1 + HUB_NODE_FLAGS.length, 3 + HUB_NODE_FLAGS.length)).toEqual([
      'dist/cli/main.js',
      'hub',
    ]);
  });

  it('S3: sets UMask=0077 so everything the hub writes is private to its user', () => {
    const unit = readFileSync(new URL('../../../config/phones-away-hub.service', import.meta.url), 'utf8');
    expect(unit).toMatch(/^UMask=0077$/m);
  });
});
