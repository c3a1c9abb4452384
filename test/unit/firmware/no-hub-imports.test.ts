/**
 * The device program runs on a classroom Pi without the hub's code: nothing under firmware/ imports hub/ (the logger
 * and other shared utilities come from shared/).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/** Every import of `file` that resolves into hub/. */
function hubImports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(SPECIFIER)]
    .map((m) => m[1] ?? '')
    .filter((spec) => spec.startsWith('.') && resolve(dirname(file), spec).startsWith(join(ROOT, 'hub')));
}

describe('firmware imports', () => {
  const files = sourceFiles(join(ROOT, 'firmware'));

  it('reads the device program (device.ts and the board adapters are among the files)', () => {
    expect(files).toContain(join(ROOT, 'firmware', 'device.ts'));
    expect(files.some((f) => f.includes(join('firmware', 'board')))).toBe(true);
    // The check itself sees a hub import when there is one.
    expect(hubImports(join(ROOT, 'hub', 'main.ts')).length).toBeGreaterThan(0);
  });

  it('no firmware module imports hub/', () => {
    expect(files.flatMap((f) => hubImports(f).map((spec) => `${f}: ${spec}`))).toEqual([]);
  });
});
