#!/usr/bin/env node
/**
 * `npm test`: every tier with the real servers it needs. Installs missing Debian packages first (influxdb, chromium,
 * mosquitto, openssl, socat), runs the standing checks (lint, types, schema freshness), then vitest's unit, integration, end-to-end
 * and fault tiers. Ends with one plain line: "tests: N passed, N failed".
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { ensureSystemPackages } from './ensure-system-deps.mjs';

const projects = (process.env.PHONES_AWAY_TEST_PROJECTS ?? 'unit,integration,e2e,faults').split(',');

function run(cmd, args) {
  const started = Date.now();
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  console.log(
    `[test] ${cmd} ${args.join(' ')}: exit ${result.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return result.status ?? 1;
}

await ensureSystemPackages(['influxdb', 'chromium', 'mosquitto', 'openssl', 'socat']);

if (run('npm', ['run', 'check']) !== 0) {
  console.log('tests: 0 passed, 1 failed');
  process.exit(1);
}

mkdirSync('artifacts', { recursive: true });
// One vitest run per tier, in order: integration, e2e and fault tests start real servers, emulated boards and Chromium,
// and on a 2-core machine they must not compete with the unit tier's workers (johnny-five gives up on a board that
// has not answered within 10 s).
let passed = 0;
let failed = 0;
let skipped = 0;
let status = 0;
for (const project of projects) {
  const resultsFile = `artifacts/vitest-${project}.json`;
  const code = run('npx', [
    'vitest',
    'run',
    '--project',
    project,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultsFile}`,
  ]);
  let counted = false;
  try {
    const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
    passed += results.numPassedTests;
    failed += results.numFailedTests;
    skipped += results.numPendingTests + results.numTodoTests;
    counted = results.numFailedTests > 0 || code === 0;
  } catch {}
  // A tier that failed without a failing test (a crash, a failed hook) still counts as a failure.
  if (code !== 0 && !counted) failed += 1;
  if (code !== 0) status = code;
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status);
