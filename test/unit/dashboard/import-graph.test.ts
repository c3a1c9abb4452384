/**
 * The dashboard's module graph stays a tree of layers: no import cycle under dashboard/src, and no page imports
 * another page (shared words and helpers live in dashboard/src/*.ts, shared UI in components/). A page is a file
 * directly under pages/ or the folder of the same name that holds its parts (pages/Settings.tsx and pages/settings/).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../dashboard/src');

type Graph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Static imports and re-exports, type-only ones included, and dynamic import() of relative paths. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/** Every module under `root` → the modules under `root` it imports (paths relative to root). */
function importGraph(root: string): Graph {
  const files = sourceFiles(root);
  const known = new Set(files);
  const graph: Graph = new Map();
  for (const file of files) {
    const targets: string[] = [];
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = resolve(dirname(file), (match[1] ?? '').replace(/\.js$/, ''));
      const target = [`${spec}.ts`, `${spec}.tsx`].find((candidate) => known.has(candidate));
      if (target) targets.push(relative(root, target));
    }
    graph.set(relative(root, file), targets);
  }
  return graph;
}

/** The cycles found by a depth-first walk, each as the path that closes it. */
function cycles(graph: Graph): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

/** The page a module belongs to ('settings' for pages/Settings.tsx and pages/settings/*), or null outside pages/. */
function pageOf(module: string): string | null {
  const [top, name, rest] = module.split('/');
  if (top !== 'pages' || name === undefined) return null;
  return (rest === undefined ? name.replace(/\.tsx?$/, '') : name).replaceAll('-', '').toLowerCase();
}

function pageToPage(graph: Graph): string[] {
  return [...graph].flatMap(([from, targets]) =>
    targets
      .filter((to) => pageOf(from) !== null && pageOf(to) !== null && pageOf(from) !== pageOf(to))
      .map((to) => `${from} → ${to}`),
  );
}

describe('dashboard import graph', () => {
  const graph = importGraph(SRC);

  it('reads the real graph (the shell imports its pages and the live context)', () => {
    expect(graph.get('main.tsx')).toEqual(expect.arrayContaining(['pages/Today.tsx', 'live.ts']));
    expect(graph.get('pages/Settings.tsx')).toEqual(expect.arrayContaining(['school.ts']));
  });

  it('has no import cycle under dashboard/src', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has no page importing another page', () => {
    expect(pageToPage(graph)).toEqual([]);
  });

  it('has no module importing the entry main.tsx', () => {
    expect([...graph].filter(([, targets]) => targets.includes('main.tsx')).map(([from]) => from)).toEqual(
      [],
    );
  });
});

describe('the checks themselves', () => {
  it('find a cycle, including one through several modules', () => {
    const graph: Graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    expect(
      cycles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('tell a page from its own parts and from another page', () => {
    expect(pageOf('pages/Settings.tsx')).toBe('settings');
    expect(pageOf('pages/settings/Accounts.tsx')).toBe('settings');
    expect(pageOf('pages/report-detail/NoteForm.tsx')).toBe('reportdetail');
    expect(pageOf('pages/ReportDetail.tsx')).toBe('reportdetail');
    expect(pageOf('components/Field.tsx')).toBeNull();
    const graph: Graph = new Map([
      ['pages/Settings.tsx', ['pages/settings/Accounts.tsx', 'components/Field.tsx']],
      ['pages/ReportDetail.tsx', ['pages/Reports.tsx']],
    ]);
    expect(pageToPage(graph)).toEqual(['pages/ReportDetail.tsx → pages/Reports.tsx']);
  });
});
