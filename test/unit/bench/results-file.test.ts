import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FAULT_RESULTS_FILE,
  RESULTS_FILE,
  readSection,
  replaceSection,
  resultsFileFor,
} from '../../../bench/results-file.js';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'results-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** git check-ignore exits 0 for an ignored path, 1 for one git would track. */
function ignoredByGit(file: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '-q', relative(root, file)], { cwd: root });
    return true;
  } catch {
    return false;
  }
}

describe('results files', () => {
  it('the fault suite writes where git does not track, so a test run leaves the tree clean', () => {
    expect(resultsFileFor('faults-delivery')).toBe(FAULT_RESULTS_FILE);
    expect(ignoredByGit(FAULT_RESULTS_FILE)).toBe(true);
    expect(resultsFileFor('bench')).toBe(RESULTS_FILE);
    expect(ignoredByGit(RESULTS_FILE)).toBe(false);
  });

  it('rewrites only its own section, creating the file and its folder', () => {
    const file = join(dir, 'nested', 'results.md');
    replaceSection('faults-a', '## A\n\none', file);
    replaceSection('faults-b', '## B\n\ntwo', file);
    replaceSection('faults-a', '## A\n\nthree', file);
    expect(readSection('faults-a', file)).toBe('## A\n\nthree');
    expect(readSection('faults-b', file)).toBe('## B\n\ntwo');
    expect(readFileSync(file, 'utf8').match(/faults-a:start/g)).toHaveLength(1);
  });

  it('puts the bench section before the fault sections', () => {
    const file = join(dir, 'order.md');
    replaceSection('faults-a', 'fault', file);
    replaceSection('bench', 'bench', file);
    const text = readFileSync(file, 'utf8');
    expect(text.indexOf('bench:start')).toBeLessThan(text.indexOf('faults-a:start'));
  });
});
