/** Figures a test measured, written under artifacts/ (not committed) for the README and the report to quote. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export function writeArtifact(name: string, text: string): string {
  const dir = join(ROOT, 'artifacts', 'faults');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
  process.stdout.write(`\n${text}\n(written to ${file})\n`);
  return file;
}

/** p-th percentile (0–100) of a list of numbers, by nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
