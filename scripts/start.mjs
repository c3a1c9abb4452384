#!/usr/bin/env node
/**
 * `npm start`: the whole demo on this machine. Makes sure InfluxDB is installed (installs it as root, otherwise says
 * what to run), builds if needed, then runs `phones-away demo`: hub + broker + private influxd + simulated classrooms +
 * dashboard, all on loopback with free ports.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureSystemPackages } from './ensure-system-deps.mjs';

try {
  await ensureSystemPackages(['influxdb']);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
if (!existsSync('dist/cli/main.js') || !existsSync('dashboard/dist/index.html')) {
  const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const demo = spawnSync(process.execPath, ['dist/cli/main.js', 'demo', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(demo.status ?? 0);
