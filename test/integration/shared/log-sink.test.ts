/**
 * The default logger with standard output in a file on a real full disk (a tmpfs filled to the last byte): the
 * process keeps answering while every line fails, counts what it dropped, and writes again once there is room. With
 * pino's default destination the same process stopped answering for as long as the disk was full (shared/log-sink.ts).
 * Needs root for `mount -t tmpfs`; elsewhere the test is skipped and says why.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { closeSync, openSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fillDisk, tmpfsForTests } from '../../support/full-disk.js';

interface Tally {
  lines: number;
  dropped: number;
  lastError: string | null;
}

/** One IPC round trip; rejects when the child does not answer within `ms` (it is blocked, not slow). */
function ask(child: ChildProcess, ms = 5_000): Promise<Tally> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer within ${ms} ms: the process is blocked`)),
      ms,
    );
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as Tally);
    });
    child.send('tally');
  });
}

async function until(child: ChildProcess, ok: (t: Tally) => boolean, what: string): Promise<Tally> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const t = await ask(child);
    if (ok(t)) return t;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(t)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('logging onto a full disk', () => {
  const disk = tmpfsForTests('pa-logfull-', '4m');
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('R1: the process keeps answering, counts the lines it could not write, and writes again once there is room', async (ctx) => {
    const notMounted = disk.notMounted();
    if (notMounted) return ctx.skip(`cannot mount a tmpfs here (${notMounted})`);
    const logFile = join(disk.dir, 'hub.log');
    const out = openSync(logFile, 'a');
    child = fork(join(import.meta.dirname, '../../support/log-writer-entry.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', out, 'inherit', 'ipc'],
    });
    closeSync(out);
    await until(child, (t) => t.lines > 1_000, 'the first lines');
    const filler = fillDisk(disk.dir);

    const full = await until(child, (t) => t.dropped > 1_000, 'lines dropped on the full disk');
    expect(full.lastError).toBe('ENOSPC');
    // Still answering, round after round, while every line fails.
    for (let i = 0; i < 5; i++) await ask(child);
    const sizeWhileFull = statSync(logFile).size;

    unlinkSync(filler);
    const before = await ask(child);
    const after = await until(child, (t) => t.lines > before.lines + 2_000, 'more lines once there is room');
    expect(after.dropped).toBe(before.dropped); // nothing dropped once the disk has room
    expect(statSync(logFile).size).toBeGreaterThan(sizeWhileFull);
  }, 60_000);
});
