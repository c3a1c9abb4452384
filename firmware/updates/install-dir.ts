/**
 * The device's install directory and update state on disk:
 *
 *   <installDir>/releases/<version>/   one directory per unpacked release
 *   <installDir>/current -> releases/<version>   what the service runs; switched by rename(2), which is atomic
 *   <dataDir>/update/pending.json      a version on trial (boot-guard.ts)
 *   <dataDir>/update/outcome.json      how the last offer ended, until the hub has been told
 *   <dataDir>/update/refused.json      offers refused or rolled back, so a retained offer is not retried in a loop
 *
 * The update state sits beside the journal under dataDir, outside releases/: every version reads the same files.
 *
 * Every step is on the disk before the next begins (shared/durable-file.ts): the release's files and directories, its
 * rename into place, the pending trial, then the switch. A power cut after the switch otherwise left `current` pointing
 * at a release of empty files (the device program's own fsyncs commit ext4's journal, with the new names and sizes but
 * not the bytes): its boot.js, the boot guard itself, ran as an empty program, so no roll-back ever came and the
 * classroom's device stayed down (test/faults/update-power-cut.test.ts).
 */
import { mkdir, readdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { UpdateProgress } from '../../schemas/messages.js';
import { syncDir, writeDurably, writeSynced } from '../../shared/durable-file.js';
import type { PendingUpdate } from './boot-guard.js';

export interface InstallLayout {
  releases: string;
  current: string;
  state: string;
}

export function layoutOf(installDir: string, dataDir: string): InstallLayout {
  return {
    releases: join(installDir, 'releases'),
    current: join(installDir, 'current'),
    state: join(dataDir, 'update'),
  };
}

export class InstallError extends Error {
  readonly code = 'E_INSTALL';
}

/** Where a release is written before it is renamed into place. */
const INCOMING = '.incoming-';

/** Writes the files into releases/.incoming-…, then renames the directory into place: no half-unpacked release. */
export async function unpackRelease(
  layout: InstallLayout,
  version: string,
  files: readonly { path: string; mode: number; data: Buffer }[],
): Promise<string> {
  const target = join(layout.releases, version);
  if ((await currentVersion(layout)) === version)
    throw new InstallError(`version ${version} is the one running`);
  const incoming = join(layout.releases, `${INCOMING}${version}-${process.pid}`);
  // Any install cut short before (a crash or power cut: another process, another name) goes first. One install runs
  // at a time, and on a nearly full card its leftovers would fail every retry.
  for (const name of await readdir(layout.releases).catch(() => [] as string[]))
    if (name.startsWith(INCOMING)) await rm(join(layout.releases, name), { recursive: true, force: true });
  await mkdir(incoming, { recursive: true, mode: 0o755 });
  const dirs = new Set([incoming]);
  try {
    for (const file of files) {
      const full = resolve(incoming, file.path);
      // The bundle's paths were checked (isSafePath); this is the second lock on the same door.
      if (!full.startsWith(incoming + sep))
        throw new InstallError(`'${file.path}' leaves the release directory`);
      await mkdir(dirname(full), { recursive: true, mode: 0o755 });
      for (let dir = dirname(full); dir.startsWith(incoming); dir = dirname(dir)) dirs.add(dir);
      // Never group- or world-writable, whatever the bundle says (as a umask of 022 would have it).
      await writeSynced(full, file.data, file.mode & 0o755);
    }
    // Deepest first: each directory's entries, then the entry that names it in its parent.
    for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await syncDir(dir);
  } catch (error) {
    // A release that does not fit (a full card) must not keep what it wrote: the journal, on the same card, needs it.
    await rm(incoming, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  await rm(target, { recursive: true, force: true });
  await rename(incoming, target);
  await syncDir(layout.releases);
  return target;
}

/** Points `current` at releases/<version> atomically (a new symlink renamed over the old one). */
export async function switchTo(layout: InstallLayout, version: string): Promise<void> {
  const next = `${layout.current}.next`;
  await rm(next, { force: true });
  await symlink(join(basename(layout.releases), version), next);
  await rename(next, layout.current);
  await syncDir(dirname(layout.current));
}

/** The version `current` points at, or null before the first install. */
export async function currentVersion(layout: InstallLayout): Promise<string | null> {
  try {
    return basename(await readlink(layout.current));
  } catch {
    return null;
  }
}

/** Removes every release but the ones named (the running one and the one to switch back to). */
export async function pruneReleases(layout: InstallLayout, keep: readonly string[]): Promise<void> {
  for (const name of await readdir(layout.releases).catch(() => [] as string[]))
    if (!keep.includes(name)) await rm(join(layout.releases, name), { recursive: true, force: true });
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeDurably(file, JSON.stringify(value), 0o600);
}

export type Outcome = Omit<UpdateProgress, 'v' | 'ts'>;
const REFUSED_KEPT = 20;

export const updateState = (layout: InstallLayout) => ({
  pending: () => readJson<PendingUpdate>(join(layout.state, 'pending.json')),
  setPending: (p: PendingUpdate) => writeJson(join(layout.state, 'pending.json'), p),
  clearPending: () => rm(join(layout.state, 'pending.json'), { force: true }),
  outcome: () => readJson<Outcome>(join(layout.state, 'outcome.json')),
  setOutcome: (o: Outcome) => writeJson(join(layout.state, 'outcome.json'), o),
  clearOutcome: () => rm(join(layout.state, 'outcome.json'), { force: true }),
  refused: async () => (await readJson<Outcome[]>(join(layout.state, 'refused.json'))) ?? [],
  addRefused: async (o: Outcome) => {
    const list = (await readJson<Outcome[]>(join(layout.state, 'refused.json'))) ?? [];
    await writeJson(
      join(layout.state, 'refused.json'),
      [...list.filter((x) => x.offer !== o.offer), o].slice(-REFUSED_KEPT),
    );
  },
});
