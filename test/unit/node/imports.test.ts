// The layering of ARCHITECTURE.md, checked on the real source: imports point down only, and no
// module imports itself through others (the assembly once lived in cli/ in a circle of three).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

/** Higher imports lower; equal ranks are siblings that must not import each other. */
const rank: Record<string, number> = { cli: 9, node: 8, control: 7, agent: 7, net: 7, web: 7, discovery: 7, client: 6, api: 5, store: 4, raftnode: 3, raft: 2, identity: 1, image: 1 };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each file's relative imports and re-exports (type-only ones too: they tie the modules as much). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/^(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/gm)].map((match) => resolve(dirname(file), match[1]!));
    graph.set(file, targets);
  }
  return graph;
}

const folder = (file: string): string => relative(src, file).split('/')[0]!;

test('imports point down the layers only (cli -> node -> control/agent/net/web/discovery -> client -> api -> store -> raftnode -> raft)', () => {
  const graph = importGraph();
  assert.ok(graph.size > 100, `found only ${graph.size} source files under ${src}`);
  const upward: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const from = folder(file);
      const to = folder(target);
      if (from === to) continue;
      assert.ok(from in rank && to in rank, `${relative(src, file)} -> ${relative(src, target)}: a folder without a layer; add it to this test and to ARCHITECTURE.md`);
      if (rank[from]! <= rank[to]!) upward.push(`${relative(src, file)} -> ${relative(src, target)}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('no import cycles among the modules', () => {
  const graph = importGraph();
  const cycles: string[] = [];
  // Tarjan's strongly connected components: a component of more than one module is a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(relative(src, member));
    } while (member !== file);
    if (component.length > 1) cycles.push(component.sort().join(' <-> '));
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  assert.deepEqual(cycles, []);
});
