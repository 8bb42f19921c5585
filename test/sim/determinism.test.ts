// The same seed always produces the same run: byte-identical trace, same stats, same result.
// This is what makes a printed replay command worth anything.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSeed } from './simulation.ts';
import type { SeedResult, SimOptions } from './simulation.ts';

function traced(options: SimOptions): { lines: string[]; result: SeedResult } {
  const lines: string[] = [];
  const result = runSeed({ ...options, onTrace: (line) => lines.push(line) });
  return { lines, result };
}

/** Everything but the wall-clock time the checker took. */
function comparable(result: SeedResult): unknown {
  return { ...result, linearizability: { ...result.linearizability, elapsedMs: 0 } };
}

for (const nodeCount of [3, 5]) {
  test(`same seed, ${nodeCount} nodes: byte-identical trace, stats and verdict`, () => {
    const options = { seed: 4242, nodeCount, steps: 600 };
    const first = traced(options);
    const second = traced(options);
    assert.ok(first.lines.length > 1000, `a real run has many events, got ${first.lines.length}`);
    assert.equal(Buffer.compare(Buffer.from(first.lines.join('\n')), Buffer.from(second.lines.join('\n'))), 0, 'traces differ');
    assert.deepEqual(comparable(second.result), comparable(first.result));
    // The digest folds the same records without keeping them: runs without a sink agree with it.
    assert.equal(runSeed(options).traceDigest, first.result.traceDigest);
  });
}

test('a failing run (planted bug) replays to the same failure at the same step', () => {
  const options: SimOptions = { seed: 56, nodeCount: 3, steps: 1000, mutation: 'commitPreviousTermByCounting' };
  const first = traced(options);
  const second = traced(options);
  assert.ok(first.result.violation, 'seed 56 catches commitPreviousTermByCounting (see mutations.test.ts)');
  assert.deepEqual(second.result.violation, first.result.violation);
  assert.deepEqual(second.lines, first.lines);
});

test('different seeds, node counts or step counts give different runs', () => {
  const base = runSeed({ seed: 7, nodeCount: 3, steps: 300 }).traceDigest;
  assert.notEqual(runSeed({ seed: 8, nodeCount: 3, steps: 300 }).traceDigest, base);
  assert.notEqual(runSeed({ seed: 7, nodeCount: 5, steps: 300 }).traceDigest, base);
  assert.notEqual(runSeed({ seed: 7, nodeCount: 3, steps: 301 }).traceDigest, base);
});
