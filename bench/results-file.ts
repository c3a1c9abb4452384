/**
 * Results files, each made of marked sections that one program rewrites without touching the others:
 * - bench/RESULTS.md (committed): the benchmark's section, written by `npm run bench`, and the fault suite's tables as
 *   last copied in by hand from a run;
 * - artifacts/fault-results.md (not committed): written by the fault suite on every run (`npm test` included), so a
 *   test run leaves the working tree as it found it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const RESULTS_FILE = join(import.meta.dirname, 'RESULTS.md');
export const FAULT_RESULTS_FILE = join(import.meta.dirname, '..', 'artifacts', 'fault-results.md');

const HEADER = `# phones-away: benchmark and fault-suite results

Generated file: the benchmark section by \`npm run bench\`; the fault sections are copied from
\`artifacts/fault-results.md\`, which \`npm run test:faults\` writes. Do not edit by hand; rerun the command.
`;

const FAULT_HEADER = `# phones-away: fault-suite results of the last run

Written by \`npm run test:faults\` (and \`npm test\`). Not committed: copy a section into bench/RESULTS.md to publish it.
`;

/** 'bench', or 'faults-<file>': each fault test file owns its own section. */
export type SectionName = 'bench' | `faults-${string}`;

/** Where a section is written unless told otherwise: the fault suite's never goes to the committed file. */
export function resultsFileFor(name: SectionName): string {
  return name === 'bench' ? RESULTS_FILE : FAULT_RESULTS_FILE;
}

export function replaceSection(name: SectionName, markdown: string, file = resultsFileFor(name)): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  mkdirSync(dirname(file), { recursive: true });
  let text = existsSync(file)
    ? readFileSync(file, 'utf8')
    : file === FAULT_RESULTS_FILE
      ? FAULT_HEADER
      : HEADER;
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
export function readSection(name: SectionName, file = resultsFileFor(name)): string | null {
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
