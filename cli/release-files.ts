/**
 * What goes into a device release: the compiled device program (dist/firmware, and the dist/schemas and dist/shared it
 * imports; never the hub), package.json with the release's version (the version the device reports, S8), and the
 * production dependencies as installed in node_modules for this machine's platform (native addons such as serialport's
 * are built per platform, so a release is built on the platform it targets, e.g. a Pi).
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export const DEVICE_DIRS = ['dist/firmware', 'dist/schemas', 'dist/shared'];
export const DEVICE_ENTRY = 'dist/firmware/boot.js';

export interface ReleaseFile {
  path: string;
  mode: number;
  data: Buffer;
}

function walk(root: string, dir: string, out: ReleaseFile[], skip: (name: string) => boolean): void {
  for (const name of readdirSync(dir).sort()) {
    if (skip(name)) continue;
    const full = join(dir, name);
    const stat = lstatSync(full);
    // Symlinks (node_modules/.bin) are left out: a bundle holds plain files only, so unpacking cannot escape.
    if (stat.isSymbolicLink()) continue;
    if (stat.isDirectory()) walk(root, full, out, skip);
    else if (stat.isFile())
      out.push({
        path: relative(root, full).split(sep).join('/'),
        mode: stat.mode & 0o111 ? 0o755 : 0o644,
        data: readFileSync(full),
      });
  }
}

/** The production packages of `root`'s package-lock.json (lockfile v2/v3), as node_modules paths. */
export function productionPackages(root: string): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, { dev?: boolean; devOptional?: boolean; link?: boolean }>;
  };
  return Object.entries(lock.packages ?? {})
    .filter(([path, p]) => path.startsWith('node_modules/') && !p.dev && !p.devOptional && !p.link)
    .map(([path]) => path);
}

export function collectReleaseFiles(
  root: string,
  options: { version: string; deps: boolean },
): ReleaseFile[] {
  const files: ReleaseFile[] = [];
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const { devDependencies: _dev, scripts: _scripts, ...rest } = pkg;
  files.push({
    path: 'package.json',
    mode: 0o644,
    data: Buffer.from(`${JSON.stringify({ ...rest, version: options.version }, null, 2)}\n`),
  });
  for (const dir of DEVICE_DIRS) walk(root, join(root, dir), files, (name) => name.endsWith('.map'));
  if (options.deps) {
    for (const pkgPath of productionPackages(root)) {
      const full = join(root, ...pkgPath.split('/'));
      let exists = false;
      try {
        exists = lstatSync(full).isDirectory();
      } catch {}
      // Optional packages for other platforms are in the lockfile but not installed: nothing to take.
      if (!exists) continue;
      // Nested node_modules are packages of their own in the lockfile, taken (or not) on their own entry.
      walk(root, full, files, (name) => name === 'node_modules');
    }
  }
  return files;
}
