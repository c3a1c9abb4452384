/**
 * What a durable write killed between its write and its rename leaves behind (shared/durable-file.ts): a process is
 * killed -9 in the middle of writing a large file (as a hub dies, or loses power, while storing an uploaded release
 * bundle), and the next durable write into that directory, by another process, removes its temporary file. A
 * temporary file of a writer still running is kept, and so are files of any other name. Without the clean-up nothing
 * ever removed them: one more dead copy of a bundle on a small card after each such crash (R1).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeLeftoverTemps, writeDurably, writeFileDurably } from '../../../shared/durable-file.js';

const DURABLE_FILE = join(import.meta.dirname, '../../../shared/durable-file.ts');
/** Big enough that writing and fsyncing it takes far longer than the kill that follows its creation. */
const BUNDLE_BYTES = 256 * 1024 * 1024;

const temps = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));

/** A child writing `name` into `dir` with writeDurably (or writeFileDurably), killed -9 as its temporary file appears. */
async function killedMidWrite(dir: string, name: string, sync: boolean): Promise<string> {
  const appeared = new Promise<string>((resolve) => {
    const watcher = watch(dir, (_event, file) => {
      if (file?.startsWith(`.${name}.`) && file.endsWith('.tmp')) {
        watcher.close();
        resolve(file);
      }
    });
  });
  const call = sync ? 'writeFileDurably' : 'writeDurably';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import(${JSON.stringify(DURABLE_FILE)}).then((m) => m.${call}(${JSON.stringify(join(dir, name))}, Buffer.alloc(${BUNDLE_BYTES}, 7), 0o600))`,
    ],
    { stdio: 'inherit' },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, s) => resolve(s)));
  const temp = await appeared;
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  // Killed before its rename: the file itself was never made, and its temporary file is there.
  expect(existsSync(join(dir, name))).toBe(false);
  expect(temps(dir)).toContain(temp);
  return temp;
}

describe('durable writes: what a killed writer left is removed (R1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phones-away-leftovers-'));
  let sleeper: ChildProcess | undefined;
  afterAll(() => {
    sleeper?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('R1: a bundle write killed -9 mid-way leaves its temporary file, and the next durable write removes it', async () => {
    const asyncTemp = await killedMidWrite(dir, 'phones-away-1.2.0.bundle', false);
    // The second writer, another process, starts with the first's leftover: removed before it writes.
    const syncTemp = await killedMidWrite(dir, 'school.json', true);
    expect(temps(dir)).toEqual([syncTemp]);
    // And this process stores the next bundle, of another version.
    await writeDurably(join(dir, 'phones-away-1.2.1.bundle'), 'bundle', 0o600);
    expect(temps(dir)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(['phones-away-1.2.1.bundle']);
    expect(readFileSync(join(dir, 'phones-away-1.2.1.bundle'), 'utf8')).toBe('bundle');
    expect([asyncTemp, syncTemp].every((t) => !existsSync(join(dir, t)))).toBe(true);
  });

  it("keeps a running writer's temporary file, this process's writes in flight and files of other names", async () => {
    sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    const running = sleeper.pid as number;
    const kept = [
      `.school.json.${running}.tmp`, // another process, still running, writing school.json
      `.phones-away-1.3.0.bundle.${running}.0badf00d.tmp`,
      '.school.json.tmp', // no pid: not a name durable writes give
      'notes.12345.tmp', // not a dot-file
      '.school.json.12345.tmp.bak',
    ];
    for (const name of kept) writeFileSync(join(dir, name), 'x');
    // A running writer's name, but written before this boot: a pid reused after a power cut, so a leftover.
    const beforeBoot = `.school.json.${running}.c0ffee00.tmp`;
    writeFileSync(join(dir, beforeBoot), 'x');
    utimesSync(join(dir, beforeBoot), new Date(86_400_000), new Date(86_400_000));
    // An earlier process of this one's pid (a pid reused): its name, not being written now, is a leftover.
    const samePid = `.school.json.${process.pid}.tmp`;
    writeFileSync(join(dir, samePid), 'x');
    // Writes overlapping in this process: a large one under way (its temporary file made, being written and synced)
    // while ten others start, of the same file and of others; none may remove another's temporary file.
    const large = writeDurably(join(dir, 'shared.json'), Buffer.alloc(64 * 1024 * 1024, 1));
    while (!temps(dir).some((n) => n.startsWith(`.shared.json.${process.pid}.`)))
      await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([
      large,
      ...Array.from({ length: 10 }, (_, i) =>
        writeDurably(join(dir, i % 2 ? 'shared.json' : `own-${i}.json`), `${i}`),
      ),
    ]);
    writeFileDurably(join(dir, 'school.json'), '{}');
    expect(
      readdirSync(dir)
        .filter((n) => n.startsWith('.') || n.endsWith('.tmp'))
        .sort(),
    ).toEqual([...kept].sort());
    expect(existsSync(join(dir, beforeBoot))).toBe(false);
    expect(existsSync(join(dir, samePid))).toBe(false);
    sleeper.kill('SIGKILL');
    await new Promise((resolve) => sleeper?.once('exit', resolve));
    // Its writer gone: now a leftover too.
    expect(removeLeftoverTemps(dir).sort()).toEqual(
      [`.phones-away-1.3.0.bundle.${running}.0badf00d.tmp`, `.school.json.${running}.tmp`].sort(),
    );
  });
});
