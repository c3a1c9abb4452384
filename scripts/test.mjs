#!/usr/bin/env node
/**
 * `npm test`: every tier with the real servers it needs. Installs missing Debian packages first (influxdb, chromium,
 * mosquitto), runs the standing checks (lint, types, schema freshness), then vitest's unit, integration, end-to-end
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

await ensureSystemPackages(['influxdb', 'chromium', 'mosquitto', 'openssl']);

if (run('npm', ['run', 'check']) !== 0) {
  console.log('tests: 0 passed, 1 failed');
  process.exit(1);
}

mkdirSync('artifacts', { recursive: true });
const status = run('npx', [
  'vitest',
  'run',
  ...projects.flatMap((p) => ['--project', p]),
  '--reporter=default',
  '--reporter=json',
  '--outputFile.json=artifacts/vitest-results.json',
]);
let passed = 0;
let failed = status === 0 ? 0 : 1;
try {
  const results = JSON.parse(readFileSync('artifacts/vitest-results.json', 'utf8'));
  passed = results.numPassedTests;
  failed = results.numFailedTests + (status !== 0 && results.numFailedTests === 0 ? 1 : 0);
} catch {}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(status);
