// The CI share of the simulator: 500 seeds with 3 voters and 100 with 5, each a fault phase of
// DEFAULT_STEPS ticks and a quiet period that must end with an acknowledged write, every
// history checked for linearizability. A failure prints the replay command of its seed.
//
// The coverage assertions keep the simulator honest: a change that quietly stopped crashing
// nodes, losing unsynced writes or changing membership would otherwise leave this green.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_STEPS, describeFailure, runBatch } from './batch.ts';
import type { BatchSummary } from './batch.ts';
import { FAULT_KINDS } from './profile.ts';
import type { SeedResult } from './simulation.ts';

interface Coverage {
  faults: Record<string, number>;
  crashes: number;
  lostWrites: number;
  confChanges: number;
  snapshotsInstalled: number;
  ackedWrites: number;
  operations: number;
  openOperations: number;
}

function emptyCoverage(): Coverage {
  return { faults: {}, crashes: 0, lostWrites: 0, confChanges: 0, snapshotsInstalled: 0, ackedWrites: 0, operations: 0, openOperations: 0 };
}

function addCoverage(coverage: Coverage, result: SeedResult): void {
  const s = result.stats;
  for (const [kind, count] of Object.entries(s.faults)) coverage.faults[kind] = (coverage.faults[kind] ?? 0) + count;
  coverage.crashes += s.crashes;
  coverage.lostWrites += s.lostWrites;
  coverage.confChanges += s.confChangesApplied;
  coverage.snapshotsInstalled += s.snapshotsInstalled;
  coverage.ackedWrites += s.ackedWrites;
  coverage.operations += result.linearizability.operations;
  coverage.openOperations += s.opsOpen;
}

function runChunk(from: number, seeds: number, nodeCount: number, coverage: Coverage): BatchSummary {
  const summary = runBatch({ from, seeds, nodeCount, steps: DEFAULT_STEPS, onResult: (r) => addCoverage(coverage, r) });
  assert.equal(summary.failures.length, 0, summary.failures.map(describeFailure).join('\n'));
  return summary;
}

const CHUNK = 100;

function seedRange(label: string, nodeCount: number, total: number, minimums: Omit<Coverage, 'faults'>): void {
  describe(`${label}: ${total} seeds, ${nodeCount} voters, no violation and every history linearizable`, () => {
    const coverage = emptyCoverage();
    for (let from = 1; from <= total; from += CHUNK) {
      const seeds = Math.min(CHUNK, total - from + 1);
      test(`seeds ${from}..${from + seeds - 1}`, (t) => {
        const summary = runChunk(from, seeds, nodeCount, coverage);
        t.diagnostic(`elapsed ${summary.elapsedS.toFixed(1)} s`);
      });
    }
    test('the faults the simulator promises did happen', (t) => {
      t.diagnostic(JSON.stringify(coverage));
      for (const kind of FAULT_KINDS) assert.ok((coverage.faults[kind] ?? 0) > 0, `no '${kind}' fault in ${total} seeds`);
      for (const [key, minimum] of Object.entries(minimums) as [keyof typeof minimums, number][]) {
        assert.ok(coverage[key] >= minimum, `${key}: ${coverage[key]} < ${minimum}`);
      }
    });
  });
}

// Minimums are far below what the runs reach (see the diagnostics); they catch a simulator
// that stopped doing something, not a change of a few percent.
seedRange('3 nodes', 3, 500, {
  crashes: 1000,
  lostWrites: 200,
  confChanges: 1000,
  snapshotsInstalled: 200,
  ackedWrites: 20_000,
  operations: 50_000,
  openOperations: 100,
});
seedRange('5 nodes', 5, 200, {
  crashes: 200,
  lostWrites: 40,
  confChanges: 200,
  snapshotsInstalled: 40,
  ackedWrites: 4000,
  operations: 10_000,
  openOperations: 20,
});
