/**
 * bench/RESULTS.md is written by two programs: the benchmark (`npm run bench`) and the fault suite
 * (`npm run test:faults`). Each owns one marked section and rewrites only that, so neither erases the other.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RESULTS_FILE = join(import.meta.dirname, 'RESULTS.md');

const HEADER = `# phones-away: benchmark and fault-suite results

Generated files: the benchmark section by \`npm run bench\`, the fault section by \`npm run test:faults\`.
Do not edit by hand; rerun the command.
`;

/** 'bench', or 'faults-<file>': each fault test file owns its own section. */
export type SectionName = 'bench' | `faults-${string}`;

export function replaceSection(name: SectionName, markdown: string, file = RESULTS_FILE): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) text = text.slice(0, from) + block + text.slice(to + end.length);
  else {
    // bench first, faults after it, whatever order they were first run in
    const other = name === 'bench' ? text.indexOf('<!-- faults-') : -1;
    text =
      other >= 0
        ? `${text.slice(0, other)}${block}\n\n${text.slice(other)}`
        : `${text.trimEnd()}\n\n${block}\n`;
  }
  writeFileSync(file, text);
}

/** The current text of a section (without its markers), or null if the file or section is missing. */
export function readSection(name: SectionName, file = RESULTS_FILE): string | null {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(`<!-- ${name}:end -->`);
  return from >= 0 && to > from ? text.slice(from + start.length, to).trim() : null;
}

/** A Markdown table from a header row and data rows. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
