#!/usr/bin/env node
// Runs every *.test.ts under the given folders (default: all of test/) with Node's built-in
// runner. Node 20 cannot expand globs itself, so the file list is built here.
//
// Two lanes run side by side, each one file at a time: the integration and end-to-end files
// (real processes, real Docker, network namespaces: they wait on timers and engines most of the
// time) print live, and the in-process unit and simulator files use the CPU they leave idle. The
// second lane runs at a lower CPU priority (nice 5), so its work gives way to the first lane's
// processes; its report is printed once both lanes are done. A lane alone (a run of test/unit
// only, say) prints live. The closing line adds up the counts of both lanes.
//
// BRAMBLE_TEST_LOAD=N runs N CPU hogs (busy Node processes) for the whole run, so the suite is
// tried on a busy machine; they are killed when the run ends, fails or is interrupted, and each
// also exits by itself once this script is gone (even after a kill -9 of it).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { constants, setPriority, tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

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

/** In-process files: they share no engine, namespace or fixed port with the multi-process ones. */
const SIDE_ROOTS = ['test/unit', 'test/sim'].map((root) => root.split('/').join(sep) + sep);
const SIDE_NICE = 5;
const relFiles = files.map((f) => relative(process.cwd(), f));
const lanes = [
  { name: 'integration and e2e', files: relFiles.filter((f) => !SIDE_ROOTS.some((root) => f.startsWith(root))), nice: 0 },
  { name: 'unit and sim', files: relFiles.filter((f) => SIDE_ROOTS.some((root) => f.startsWith(root))), nice: SIDE_NICE },
].filter((lane) => lane.files.length > 0);

const work = mkdtempSync(join(tmpdir(), 'bramble-run-tests-'));
const hogs = startHogs(loadFromEnv());
const started = Date.now();

/** Starts one lane's `node --test`; the first lane reports to the terminal, a second one to a file. */
function startLane(lane, index) {
  lane.summaryFile = join(work, `summary-${index}.json`);
  lane.reportFile = index === 0 ? null : join(work, `report-${index}.txt`);
  const reporters = ['--test-reporter=spec', `--test-reporter-destination=${lane.reportFile ?? 'stdout'}`, `--test-reporter=${join(import.meta.dirname, 'test-summary-reporter.mjs')}`, `--test-reporter-destination=${lane.summaryFile}`];
  lane.child = spawn(process.execPath, ['--import', 'tsx', '--test', ...reporters, ...lane.files], { stdio: 'inherit' });
  // Set before the runner starts its first file: the file processes inherit the priority.
  if (lane.nice !== 0) {
    try {
      setPriority(lane.child.pid, lane.nice);
    } catch {
      // Not permitted here: the lane runs at normal priority, only slower to give way.
    }
  }
  lane.done = new Promise((resolve) => {
    lane.child.on('error', (error) => {
      console.error(`run-tests: cannot start the test runner: ${error.message}`);
      resolve(1);
    });
    lane.child.on('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

function readSummary(lane) {
  try {
    return JSON.parse(readFileSync(lane.summaryFile, 'utf8'));
  } catch {
    return {};
  }
}

lanes.forEach(startLane);

// Ctrl-C reaches the runners too (same process group); a TERM sent to this script alone is passed on.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stopHogs(hogs);
    for (const lane of lanes) if (lane.child.exitCode === null) lane.child.kill(signal);
  });
}

const codes = await Promise.all(lanes.map((lane) => lane.done));
stopHogs(hogs);
for (const lane of lanes.slice(1)) {
  console.log(`\nrun-tests: the ${lane.name} lane (${lane.files.length} files, run beside the ${lanes[0].name} lane at nice ${lane.nice}):`);
  try {
    process.stdout.write(readFileSync(lane.reportFile, 'utf8'));
  } catch {
    console.log('run-tests: (no report)');
  }
}
if (lanes.length > 1) {
  const total = {};
  for (const lane of lanes) for (const [key, value] of Object.entries(readSummary(lane))) if (key !== 'duration_ms') total[key] = (total[key] ?? 0) + value;
  const counts = Object.entries(total).map(([key, value]) => `${key} ${value}`).join(', ');
  console.log(`\nrun-tests: both lanes: ${counts}; ${((Date.now() - started) / 1000).toFixed(1)} s wall`);
}
rmSync(work, { recursive: true, force: true });
process.exit(codes.find((code) => code !== 0) ?? 0);
