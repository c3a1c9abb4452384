/**
 * The hub's shape, kept true by a cheap walk over its imports (type-only imports included, as madge counts them):
 * no module outside hub/http/ and the composition root (hub/main.ts, hub/features/) imports hub/http/, so routes
 * import the domain and never the reverse; and no import cycle anywhere under hub/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const hubDir = join(root, 'hub');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Each hub module and the hub modules it imports (relative specifiers only; `.js` names resolved to `.ts`). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const specifier =
    /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  for (const file of sources(hubDir)) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const match of text.matchAll(specifier)) {
      const spec = (match[1] ?? match[2]) as string;
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (target.startsWith(`${hubDir}/`)) targets.push(relative(root, target));
    }
    graph.set(relative(root, file), targets);
  }
  return graph;
}

/** Every cycle's members (strongly connected components of more than one module, or a module importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node) as number, low.get(to) as number));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node) as number, index.get(to) as number));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const compositionRoot = (file: string) => file === 'hub/main.ts' || file.startsWith('hub/features/');

describe('hub import graph', () => {
  const graph = importGraph();

  it('is read: it sees the modules and the imports it checks', () => {
    expect(graph.get('hub/main.ts')).toContain('hub/http/http-server.ts');
    expect(graph.get('hub/http/routes/school-routes.ts')).toContain('hub/school/school-settings.ts');
  });

  it('no module outside hub/http/ and the composition root imports hub/http/', () => {
    const offenders = [...graph]
      .filter(([file]) => !file.startsWith('hub/http/') && !compositionRoot(file))
      .flatMap(([file, targets]) =>
        targets.filter((t) => t.startsWith('hub/http/')).map((t) => `${file} → ${t}`),
      );
    expect(offenders).toEqual([]);
  });

  it('has no import cycle under hub/', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('the cycle finder finds a cycle when there is one', () => {
    const looped = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['d']],
      ['e', ['a']],
    ]);
    expect(cycles(looped)).toEqual([['a', 'b', 'c'], ['d']]);
  });
});
