/**
 * The hub's data directory is private to its user: directories 0700, files 0600, whatever the umask the hub was
 * started under (Debian's default 022 would leave password hashes, incident notes and broker state readable by every
 * local account). The process umask is set to 077 so files made from now on (LevelDB, aedes persistence, influxd,
 * which inherits it) are private, and what already exists is tightened.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_UMASK = 0o077;

/** Sets the process umask; false where Node does not allow it (worker threads), where tightenTree still applies. */
export function setPrivateUmask(): boolean {
  try {
    process.umask(PRIVATE_UMASK);
    return true;
  } catch {
    return false;
  }
}

/** chmods every directory under root (and root) to 0700 and every file to 0600; symlinks are left alone. */
export function tightenTree(root: string): { changed: number } {
  let changed = 0;
  const fix = (path: string, want: number, mode: number) => {
    if ((mode & 0o777) !== want) {
      chmodSync(path, want);
      changed += 1;
    }
  };
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      let stat: ReturnType<typeof lstatSync>;
      try {
        stat = lstatSync(path);
      } catch {
        continue; // removed meanwhile (a LevelDB compaction)
      }
      if (stat.isDirectory()) {
        fix(path, 0o700, stat.mode);
        walk(path);
      } else if (stat.isFile()) fix(path, 0o600, stat.mode);
    }
  };
  mkdirSync(root, { recursive: true, mode: 0o700 });
  fix(root, 0o700, lstatSync(root).mode);
  walk(root);
  return { changed };
}
