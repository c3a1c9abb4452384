/**
 * Our Aedes persistence (hub/broker/level-persistence.ts) passes aedes-persistence's official abstract test suite,
 * unmodified. The suite is written for node:test, so it runs in a child node (test/support/aedes-persistence-suite.ts)
 * and this test reads its TAP summary: every test passed, none failed, skipped or cancelled, and as many ran as the
 * suite defines (so a suite that silently ran nothing cannot pass).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..', '..');
const require = createRequire(import.meta.url);

/** How many tests the suite defines: its source's top-level `test('...')` calls, once per mode we run it in. */
function definedTests(): number {
  const source = readFileSync(require.resolve('aedes-persistence/abstract.js'), 'utf8');
  return (source.match(/^ {2}test\('/gm) ?? []).length;
}

function runSuite(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=tap', 'test/support/aedes-persistence-suite.ts'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

const count = (output: string, name: string): number =>
  Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(output)?.[1] ?? Number.NaN);

describe('LevelPersistence', () => {
  it('passes the aedes-persistence abstract suite, directly (as aedes 1.x calls it) and through its callback layer', async () => {
    const perMode = definedTests();
    expect(perMode).toBeGreaterThanOrEqual(40);
    const { code, output } = await runSuite();
    const failures = output.split('\n').filter((line) => /^\s*not ok /.test(line));
    expect(failures, output.slice(-4000)).toEqual([]);
    expect(count(output, 'fail')).toBe(0);
    expect(count(output, 'cancelled')).toBe(0);
    expect(count(output, 'skipped')).toBe(0);
    expect(count(output, 'todo')).toBe(0);
    expect(count(output, 'pass')).toBe(2 * perMode);
    expect(code).toBe(0);
  });
});
