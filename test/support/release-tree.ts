/**
 * Builds a minimal, real device release from this tree for tests: firmware/, schemas/ and shared/ compiled to
 * JavaScript (TypeScript's own transpiler, one file at a time: seconds, where a full `tsc` build takes a minute), laid
 * out as `npm run build` lays out dist/, then bundled with the same code `phones-away release build` uses. The
 * production dependencies are left out (`--no-deps`): the test's install directory sits under a node_modules link.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { collectReleaseFiles, DEVICE_ENTRY } from '../../cli/release-files.js';
import { buildBundle, hostTarget } from '../../shared/release-bundle.js';
import { repoRoot } from './hub-fixture.js';

const SOURCE_DIRS = ['firmware', 'schemas', 'shared'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Compiles the device program into `<root>/dist` once; returns `root`, ready for collectReleaseFiles. */
export function compileDeviceTree(root: string): string {
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.ES2022,
    target: ts.ScriptTarget.ES2022,
    verbatimModuleSyntax: true,
  };
  for (const dir of SOURCE_DIRS)
    for (const file of sources(join(repoRoot, dir))) {
      const out = join(root, 'dist', relative(repoRoot, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(out), { recursive: true });
      const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
        compilerOptions: options,
        fileName: file,
      });
      writeFileSync(out, outputText);
    }
  writeFileSync(join(root, 'package.json'), readFileSync(join(repoRoot, 'package.json')));
  return root;
}

/**
 * An unsigned bundle of the compiled tree at `version`. `patch` may rewrite files first (a release that crashes at
 * start is the real tree with one line added).
 */
export function bundleOf(
  root: string,
  version: string,
  patch?: (files: { path: string; mode: number; data: Buffer }[]) => void,
): Buffer {
  const files = collectReleaseFiles(root, { version, deps: false });
  patch?.(files);
  return buildBundle({ version, target: hostTarget(), entry: DEVICE_ENTRY }, files);
}
