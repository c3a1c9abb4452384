#!/usr/bin/env node
/**
 * Makes sure the Debian packages the project shells out to are installed. Plain Node ESM with no dependencies
 * because it runs before `npm run build` (scripts/start.mjs and scripts/test.mjs import it).
 *
 *   node scripts/ensure-system-deps.mjs influxdb chromium mosquitto socat
 *
 * Note: the Debian influxdb package may start its own system service on :8086. We never use it (the hub runs a
 * private influxd on free loopback ports), so it is harmless and left alone.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Debian package name -> a binary whose presence proves the package is installed. */
export const PACKAGE_BINARIES = Object.freeze({
  influxdb: '/usr/bin/influxd',
  chromium: '/usr/bin/chromium',
  mosquitto: '/usr/sbin/mosquitto',
  openssl: '/usr/bin/openssl', // `phones-away certs` and the TLS tests
  socat: '/usr/bin/socat', // the emulated Uno behind a pty (firmware/board/uno-pty.ts): the firmata-serial tests, the bench
});

export class SystemDepsError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {string[]} missing
   */
  constructor(code, message, missing) {
    super(message);
    this.name = 'SystemDepsError';
    this.code = code;
    this.missing = missing;
  }
}

/** @param {string} file */
function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** @param {string} name */
function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && isExecutable(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<void>}
 */
function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    // Inherit stdio so apt's progress streams straight to the user.
    const child = spawn(cmd, args, { stdio: 'inherit', env });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

/**
 * Returns the packages (of `names`) whose binary is missing.
 * @param {string[]} names
 */
export function missingSystemPackages(names) {
  return names.filter((name) => {
    const bin = PACKAGE_BINARIES[/** @type {keyof typeof PACKAGE_BINARIES} */ (name)];
    if (!bin) throw new SystemDepsError('E_UNKNOWN_PACKAGE', `unknown system package "${name}"`, [name]);
    return !isExecutable(bin);
  });
}

/**
 * Installs any of `names` that are missing. Runs `apt-get update` at most once per call, and only when something
 * actually needs installing. When not root (or without apt-get) it throws a SystemDepsError whose message is the
 * exact command to run.
 * @param {string[]} names Debian package names, keys of PACKAGE_BINARIES
 * @param {{ log?: (msg: string) => void }} [options]
 * @returns {Promise<{ installed: string[] }>}
 */
export async function ensureSystemPackages(names, { log = (msg) => console.error(msg) } = {}) {
  const missing = missingSystemPackages([...new Set(names)]);
  if (missing.length === 0) return { installed: [] };

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const aptGet = findOnPath('apt-get');
  if (!isRoot || !aptGet) {
    const cmd = `sudo apt-get install -y ${missing.join(' ')}`;
    const why = aptGet ? 'not running as root' : 'apt-get not found (not a Debian-based system?)';
    throw new SystemDepsError(
      'E_SYSTEM_DEPS_MISSING',
      `Missing system packages: ${missing.join(', ')} (${why}). Please run:\n  ${cmd}`,
      missing,
    );
  }

  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log(`Installing system packages: ${missing.join(' ')}`);
  // With recommends, as the packages were installed and tested here (Chromium's fonts among them). One retry: a
  // fresh machine's first apt run can meet a mirror mid-sync.
  const install = async () => {
    await run(aptGet, ['update'], env);
    await run(aptGet, ['install', '-y', ...missing], env);
  };
  await install().catch((error) => {
    log(`${error.message}; retrying once in 10 s`);
    return new Promise((resolve) => setTimeout(resolve, 10_000)).then(install);
  });

  const stillMissing = missingSystemPackages(missing);
  if (stillMissing.length > 0) {
    throw new SystemDepsError(
      'E_SYSTEM_DEPS_MISSING',
      `apt-get finished but these are still missing: ${stillMissing.map((n) => PACKAGE_BINARIES[/** @type {keyof typeof PACKAGE_BINARIES} */ (n)]).join(', ')}`,
      stillMissing,
    );
  }
  return { installed: missing };
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const names = process.argv.slice(2);
  if (names.length === 0 || names.includes('--help') || names.includes('-h')) {
    console.log(`usage: node scripts/ensure-system-deps.mjs <${Object.keys(PACKAGE_BINARIES).join('|')}>...`);
    process.exit(names.length === 0 ? 2 : 0);
  }
  try {
    const { installed } = await ensureSystemPackages(names);
    console.log(
      installed.length ? `Installed: ${installed.join(' ')}` : `Already installed: ${names.join(' ')}`,
    );
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
