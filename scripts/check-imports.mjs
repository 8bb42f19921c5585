#!/usr/bin/env node
// Import direction check (ARCHITECTURE.md): imports between src/ folders point down only,
//   cli -> node -> {control, agent, net, web, discovery} -> client -> api -> store -> raftnode -> raft,
// and identity and image are leaves that anyone may import and that import no other folder.
// A folder may import any folder below it (not only the next one); the five folders of one layer
// may not import each other. Type-only imports count too: they are arrows of the design as well.
// Also: no modules import each other in a circle (the assembly of `bramble up` once did, in cli/).
// Run by `npm run lint`; prints every upward import and every circle, and exits 1 if there is one.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

/** Higher layers import lower ones. Folders of one layer are siblings and import none of each other. */
const layers = [['raft'], ['raftnode'], ['store'], ['api'], ['client'], ['control', 'agent', 'net', 'web', 'discovery'], ['node'], ['cli']];
const leaves = new Set(['identity', 'image']);
const layerOf = new Map(layers.flatMap((folders, level) => folders.map((folder) => [folder, level])));

function* typescriptFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typescriptFiles(path);
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) yield path;
  }
}

// Static `import ... from '…'`, `export ... from '…'`, side-effect `import '…'` and `import('…')`.
const specifiers = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

function folderOf(file) {
  return relative(src, file).split(sep)[0];
}

/** Why `from` may not import `to`, or null when the arrow points down (or stays in the folder). */
function violation(from, to) {
  if (from === to || leaves.has(to)) return null;
  if (leaves.has(from)) return `${from} is a leaf: it imports no other folder of src/`;
  const fromLevel = layerOf.get(from);
  const toLevel = layerOf.get(to);
  if (fromLevel === undefined) return `${from} is not a known layer (add it to scripts/check-imports.mjs and ARCHITECTURE.md)`;
  if (toLevel === undefined) return `${to} is not a known layer (add it to scripts/check-imports.mjs and ARCHITECTURE.md)`;
  if (toLevel === fromLevel) return `${from} and ${to} are siblings of one layer`;
  if (toLevel > fromLevel) return `${to} is above ${from}`;
  return null;
}

const problems = [];
/** file -> the src/ files it imports, for the circle check. */
const graph = new Map();
for (const file of typescriptFiles(src)) {
  const from = folderOf(file);
  const text = readFileSync(file, 'utf8');
  const targets = [];
  graph.set(file, targets);
  for (const match of text.matchAll(specifiers)) {
    const spec = match[1];
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(src + sep)) continue;
    targets.push(target);
    const why = violation(from, folderOf(target));
    if (why !== null) {
      const line = text.slice(0, match.index).split('\n').length;
      problems.push(`${relative(root, file)}:${line}: imports '${spec}': ${why}`);
    }
  }
}

/** Modules that import each other in a circle: the strongly connected components of more than one file (Tarjan). */
function circles() {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (file) => {
    index.set(file, index.size);
    low.set(file, index.get(file));
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file), low.get(target)));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file), index.get(target)));
    }
    if (low.get(file) !== index.get(file)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(relative(root, member));
    } while (member !== file);
    if (component.length > 1) found.push(component.sort().join(' <-> '));
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

const circular = circles();
if (problems.length > 0) console.error(`Imports that point up (ARCHITECTURE.md, "Arrows point down only"):\n${problems.join('\n')}`);
if (circular.length > 0) console.error(`Modules that import each other in a circle:\n${circular.join('\n')}`);
if (problems.length > 0 || circular.length > 0) process.exit(1);
