#!/usr/bin/env node
// Runs every *.test.ts under the given folders (default: all of test/) with Node's built-in
// runner. Node 20 cannot expand globs itself, so the file list is built here.
//
// BRAMBLE_TEST_LOAD=N runs N CPU hogs (busy Node processes) for the whole run, so the suite is
// tried on a busy machine; they are killed when the run ends, fails or is interrupted, and each
// also exits by itself once this script is gone (even after a kill -9 of it).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { constants } from 'node:os';
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

/** The number of CPU hogs asked for in BRAMBLE_TEST_LOAD (0 when unset). */
function loadFromEnv() {
  const raw = process.env.BRAMBLE_TEST_LOAD ?? '';
  if (raw === '' || raw === '0') return 0;
  if (!/^\d+$/.test(raw) || Number(raw) > 64) {
    console.error(`run-tests: BRAMBLE_TEST_LOAD must be a number of CPU hogs from 0 to 64, got "${raw}"`);
    process.exit(2);
  }
  return Number(raw);
}

// Spins in 100 ms slices and leaves as soon as its parent (this script) is gone.
const HOG = `const parent = Number(process.argv[1]);
for (;;) {
  const until = Date.now() + 100;
  while (Date.now() < until);
  try { process.kill(parent, 0); } catch { process.exit(0); }
}`;

function startHogs(count) {
  const hogs = [];
  for (let i = 0; i < count; i++) hogs.push(spawn(process.execPath, ['-e', HOG, String(process.pid)], { stdio: 'ignore' }));
  if (count > 0) console.log(`run-tests: ${count} CPU hog(s) running for the duration (BRAMBLE_TEST_LOAD=${count}), pids ${hogs.map((h) => h.pid).join(' ')}`);
  return hogs;
}

function stopHogs(hogs) {
  for (const hog of hogs) if (hog.exitCode === null && hog.signalCode === null) hog.kill('SIGKILL');
}

const files = [];
// Default folders that hold no test yet are absent from a git clone; named paths must exist.
for (const root of searchRoots) if (roots.length > 0 || existsSync(root)) collect(root, files);
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${searchRoots.join(', ')}`);
  process.exit(2);
}

const hogs = startHogs(loadFromEnv());
const runner = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files.map((f) => relative(process.cwd(), f))], { stdio: 'inherit' });

// Ctrl-C reaches the runner too (same process group); a TERM sent to this script alone is passed on.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stopHogs(hogs);
    if (runner.exitCode === null) runner.kill(signal);
  });
}
runner.on('error', (error) => {
  console.error(`run-tests: cannot start the test runner: ${error.message}`);
  stopHogs(hogs);
  process.exit(1);
});
runner.on('exit', (code, signal) => {
  stopHogs(hogs);
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
});
