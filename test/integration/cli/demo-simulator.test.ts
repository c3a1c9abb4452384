/**
 * `phones-away demo` (what `npm start` runs) prints `Classroom simulator: <url>`, and that page drives the demo's own
 * classrooms: one per device of the school model, each on its emulated Uno, each report light read back as ready.
 * The real command in its own process, with its private influxd, on a fresh data directory; stopped with SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClassroomView } from '../../../cli/simulator/classroom.js';
import { demoSchool, repoRoot, waitFor } from '../../support/hub-fixture.js';

describe('the demo serves the classroom simulator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-demo-sim-'));
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('R1: prints "Classroom simulator: <url>" and the page shows every classroom of the school', async () => {
    let output = '';
    child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'cli', 'main.ts'), 'demo', '--data-dir', dir, '--http-port', '0'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const running = child;
    exited = new Promise((resolve) => running.once('exit', (code) => resolve(code)));
    running.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    running.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const url = (
      await waitFor(
        () => /^Classroom simulator: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(output),
        'the demo to print its simulator URL',
        240_000,
      )
    )[1] as string;
    const devices = demoSchool().devices.map((d) => d.id);
    const views = await waitFor(
      async () => {
        const { classrooms } = (await (await fetch(new URL('/api/classrooms', url))).json()) as {
          classrooms: ClassroomView[];
        };
        return classrooms.every((c) => c.button.light === 'ready') ? classrooms : undefined;
      },
      "every classroom's report light to read ready",
      30_000,
    );
    expect(views.map((v) => v.device).sort()).toEqual([...devices].sort());

    running.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 300_000);
});
