/**
 * A power cut just after a new hub's first start (S5, S7): the technician starts `phones-away hub` under systemd
 * (stdout piped), it makes the administrator's account and puts the generated password in a 0600 file, and the Pi is
 * unplugged. After the boot someone must still be able to sign in: the account without its password would lock the
 * school out for good, as no first run comes once an account exists. The password file is synced before the account
 * is stored (UserStore.ensureFirstRunAdmin, cli/first-run-notice.ts). The disk is ext4 on a loop device
 * (test/support/crash-disk.ts), its image copied at the cut. InfluxDB is "external" at a closed port: this is about
 * the first start, not metrics. Needs root for losetup and mount; elsewhere the test is skipped and says why.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIRST_RUN_FILE } from '../../cli/first-run-notice.js';
import { CrashDisk } from '../support/crash-disk.js';
import { demoSchool, hubConfig, repoRoot, waitFor } from '../support/hub-fixture.js';

const CLI = join(repoRoot, 'cli', 'main.ts');

interface RunningCli {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

/** `phones-away hub` with stdout piped, as systemd runs it. */
function startCli(configFile: string): RunningCli {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', configFile], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  return { child, output: () => output, exited };
}

async function dashboardUrl(hub: RunningCli): Promise<string> {
  const match = await waitFor(
    () => /Dashboard: (http:\/\/\S+)/.exec(hub.output()),
    'the hub to start',
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; its output:\n${hub.output()}`);
  });
  return match[1] as string;
}

describe('faults: a power cut after the first start', () => {
  let disk: CrashDisk | undefined;
  const running: RunningCli[] = [];

  afterAll(async () => {
    for (const hub of running) {
      if (hub.child.exitCode === null && hub.child.signalCode === null) hub.child.kill('SIGTERM');
      await hub.exited;
    }
    disk?.dispose();
  });

  it('S5, S7: a power cut right after the first start: the administrator can still sign in with the password given', async (ctx) => {
    const made = CrashDisk.create(64);
    if (typeof made === 'string') return ctx.skip(`cannot make a loop disk here (${made})`);
    disk = made;
    // The configuration was put on the card before the first start (it is on the disk); the data directory is new.
    const dataDir = join(made.dir, 'data');
    const schoolFile = join(made.dir, 'school.json');
    writeFileSync(schoolFile, JSON.stringify(demoSchool()));
    const configFile = join(made.dir, 'hub.json');
    writeFileSync(
      configFile,
      JSON.stringify(
        hubConfig(dataDir, {
          influx: { mode: 'external', url: 'http://127.0.0.1:9', database: 'phones-away' },
        }),
      ),
    );
    made.settle();

    const first = startCli(configFile);
    running.push(first);
    await dashboardUrl(first);
    expect(first.output()).toContain(FIRST_RUN_FILE);
    // The power goes as soon as the hub says it is up.
    first.child.kill('SIGKILL');
    await first.exited;
    made.powerCut();

    const second = startCli(configFile);
    running.push(second);
    const url = await dashboardUrl(second);
    const file = join(dataDir, FIRST_RUN_FILE);
    const password = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    expect(
      password,
      `the first-run password file after the cut (${existsSync(file) ? 'empty' : 'missing'})`,
    ).not.toBe('');
    const reply = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(
      ((await reply.json()) as { data?: Record<string, unknown> }).data,
      'signing in as admin with the password in the file',
    ).toMatchObject({ needsTotpEnrolment: true });
  }, 180_000);
});
