#!/usr/bin/env node
// Runs every *.test.ts under the given folders (default: all of test/) with Node's built-in
// runner. Node 20 cannot expand globs itself, so the file list is built here.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const roots = process.argv.slice(2);
const searchRoots = roots.length > 0 ? roots : ['test/unit', 'test/sim', 'test/integration', 'test/e2e'];

function collect(path, out) {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    console.error(`run-tests: no such file or folder: ${path}`);
    process.exit(2);
  }
  if (stats.isFile()) {
    if (path.endsWith('.test.ts')) out.push(path);
    return;
  }
  for (const name of readdirSync(path).sort()) collect(join(path, name), out);
}

const files = [];
// Default folders that hold no test yet are absent from a git clone; named paths must exist.
for (const root of searchRoots) if (roots.length > 0 || existsSync(root)) collect(root, files);
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${searchRoots.join(', ')}`);
  process.exit(2);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...files.map((f) => relative(process.cwd(), f))],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
