// The `npm run sim` command as users run it: a real process, its stdout, its exit status.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const SUMMARY = /^seeds=(\d+) from=(\d+) violations=(\d+) linearizability_failures=(\d+) elapsed_s=(\d+\.\d)$/;

function sim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

test('passing seeds: exit 0, no FAIL line, the summary line last', () => {
  const run = sim('--seeds', '3', '--from', '10', '--nodes', '5', '--steps', '300');
  assert.equal(run.status, 0, run.stderr);
  assert.doesNotMatch(run.stdout, /FAIL/);
  const match = SUMMARY.exec(lastLine(run.stdout));
  assert.ok(match, `summary line: ${lastLine(run.stdout)}`);
  assert.deepEqual(match.slice(1, 5), ['3', '10', '0', '0']);
});

test('a failing seed: exit 1, one FAIL line whose replay command reproduces it', () => {
  const run = sim('--seeds', '2', '--from', '1', '--mutation', 'readWithoutReadIndex');
  assert.equal(run.status, 1, run.stderr);
  const fails = run.stdout.split('\n').filter((l) => l.startsWith('FAIL '));
  assert.equal(fails.length, 2);
  assert.match(lastLine(run.stdout), /^seeds=2 from=1 violations=0 linearizability_failures=2 elapsed_s=/);
  const replay = / \| replay: npm run sim -- (.*)$/.exec(fails[0]!);
  assert.ok(replay, fails[0]);
  const again = sim(...replay[1]!.split(' '));
  assert.equal(again.status, 1);
  const first = (line: string): string => line.replace(/ \| replay: .*/, '');
  assert.equal(first(again.stdout.split('\n').find((l) => l.startsWith('FAIL '))!), first(fails[0]!));
});

test('--trace writes the same event stream twice for one seed', () => {
  const a = sim('--seeds', '1', '--from', '3', '--steps', '200', '--trace');
  const b = sim('--seeds', '1', '--from', '3', '--steps', '200', '--trace');
  assert.equal(a.status, 0);
  assert.ok(a.stderr.split('\n').length > 500);
  assert.equal(a.stderr, b.stderr);
});

test('bad flags: exit 2 with a message that says what is allowed', () => {
  const nodes = sim('--nodes', '4');
  assert.equal(nodes.status, 2);
  assert.match(nodes.stderr, /3 or 5 voters, got '4'/);
  const mutation = sim('--mutation', 'nope');
  assert.equal(mutation.status, 2);
  assert.match(mutation.stderr, /Allowed choices are commitPreviousTermByCounting/);
  const seeds = sim('--seeds', '0');
  assert.equal(seeds.status, 2);
  assert.match(seeds.stderr, /--seeds must be a whole number >= 1, got '0'/);
  const trace = sim('--seeds', '2', '--trace');
  assert.equal(trace.status, 2);
  assert.match(trace.stderr, /add --seeds 1/);
});

test('--help teaches with examples', () => {
  const run = sim('--help');
  assert.equal(run.status, 0);
  assert.match(run.stdout, /Examples:/);
  assert.match(run.stdout, /--mutation <name>/);
});
