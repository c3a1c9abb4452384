/**
 * S7 (secrets never logged): the real `phones-away hub` command on a fresh data directory shows the first-run
 * password only on a terminal. With stdout piped (as systemd pipes it to the journal) the password goes to a 0600 file
 * under dataDir and only the path is printed; under a pseudo-terminal (`script`) it is printed and no file is written.
 * InfluxDB is "external" at a closed port: this test is about start-up output, not metrics.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIRST_RUN_FILE } from '../../../cli/first-run-notice.js';
import { demoSchool, hubConfig, repoRoot, waitFor } from '../../support/hub-fixture.js';

const CLI = join(repoRoot, 'cli', 'main.ts');

function setUp(): { dir: string; dataDir: string; configFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pa-first-run-'));
  const dataDir = join(dir, 'data');
  writeFileSync(join(dir, 'school.json'), JSON.stringify(demoSchool()));
  const config = hubConfig(dataDir, {
    influx: { mode: 'external', url: 'http://127.0.0.1:9', database: 'phones-away' },
  });
  const configFile = join(dir, 'hub.json');
  writeFileSync(configFile, JSON.stringify(config));
  return { dir, dataDir, configFile };
}

describe('first-run password (S7)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  function run(command: string, args: string[]): { child: ChildProcess; output: () => string } {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    });
    return { child, output: () => output };
  }

  it('S7: piped (the journal): written to a 0600 file under dataDir, only its path printed', async () => {
    const { dir, dataDir, configFile } = setUp();
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const hub = run(process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', configFile]);
    const url = (
      await waitFor(() => /Dashboard: (http:\/\/\S+)/.exec(hub.output()), 'the hub to start', 60_000)
    )[1] as string;
    const file = join(dataDir, FIRST_RUN_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const password = readFileSync(file, 'utf8').trim();
    expect(password.length).toBeGreaterThanOrEqual(12);
    expect(hub.output()).toContain(file);
    expect(hub.output()).not.toContain(password);
    // It is the real password: the hub accepts it (and asks for the second factor's enrolment).
    const reply = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(((await reply.json()) as { data: Record<string, unknown> }).data).toMatchObject({
      needsTotpEnrolment: true,
    });
  });

  it('S7: on a terminal: printed there, and no file written', async () => {
    const { dir, dataDir, configFile } = setUp();
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    // `script` gives the hub a pseudo-terminal for stdout, as an operator's shell would.
    const command = `exec ${process.execPath} --import tsx ${CLI} hub --config ${configFile}`;
    const hub = run('script', ['-qefc', command, '/dev/null']);
    cleanups.unshift(async () => {
      hub.child.stdin?.write('\x03'); // Ctrl-C on the terminal: the hub stops cleanly
    });
    await waitFor(() => /Dashboard: http/.test(hub.output()), 'the hub to start', 60_000);
    expect(hub.output()).toMatch(/First run: sign in as 'admin' with password \S{12,}/);
    expect(existsSync(join(dataDir, FIRST_RUN_FILE))).toBe(false);
  });
});
