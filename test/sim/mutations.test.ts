// The simulator has teeth: each deliberately broken Raft variant (src/raft TestingMutations)
// is caught within a bounded run of seeds, by the checker one would expect. The hunt starts at
// seed 1 and stops at the first failure; the bound is a few times the seed that catches it
// today, so a change that blunts a fault or an invariant turns this red. The catching seed is
// printed as a diagnostic (and in test/sim/README.md).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_STEPS, describeFailure, failureKind, runBatch } from './batch.ts';
import type { InvariantName } from './invariants.ts';
import type { MutationName, SeedResult } from './simulation.ts';

interface Hunt {
  mutation: MutationName;
  nodeCount: number;
  maxSeeds: number;
  checkPersistBeforeSend?: boolean;
  /** Acceptable ways to be caught: invariant names, or 'linearizability'. */
  caughtBy: readonly (InvariantName | 'linearizability')[];
}

function caughtBy(result: SeedResult): InvariantName | 'linearizability' | 'liveness' {
  if (result.violation !== null) return result.violation.invariant;
  const kind = failureKind(result);
  return kind === 'linearizability' ? 'linearizability' : 'liveness';
}

const LOST_COMMITTED: InvariantName[] = ['leader-completeness', 'acked-write-lost', 'state-machine-safety', 'log-matching'];

const HUNTS: Hunt[] = [
  // Raft Figure 8: needs competing uncommitted tails from different terms (the leader-churn fault).
  { mutation: 'commitPreviousTermByCounting', nodeCount: 3, maxSeeds: 300, caughtBy: LOST_COMMITTED },
  // With 5 voters the old-term tail must reach two followers and the newer tail win three votes.
  { mutation: 'commitPreviousTermByCounting', nodeCount: 5, maxSeeds: 600, caughtBy: LOST_COMMITTED },
  { mutation: 'grantVoteWithoutLogCheck', nodeCount: 3, maxSeeds: 60, caughtBy: LOST_COMMITTED },
  { mutation: 'grantVoteWithoutLogCheck', nodeCount: 5, maxSeeds: 60, caughtBy: LOST_COMMITTED },
  { mutation: 'sendBeforePersist', nodeCount: 3, maxSeeds: 20, caughtBy: ['persist-before-send'] },
  { mutation: 'sendBeforePersist', nodeCount: 5, maxSeeds: 20, caughtBy: ['persist-before-send'] },
  // Without the direct check, the consequence must show: a node that acked an entry it then
  // lost in a crash is told a commit index beyond its log, or a vote is cast twice.
  {
    mutation: 'sendBeforePersist',
    nodeCount: 3,
    maxSeeds: 100,
    checkPersistBeforeSend: false,
    caughtBy: ['core-error', 'election-safety', ...LOST_COMMITTED, 'commit-monotonic', 'linearizability'],
  },
  // Reads never enter the log: only the linearizability checker can see a stale read.
  { mutation: 'readWithoutReadIndex', nodeCount: 3, maxSeeds: 20, caughtBy: ['linearizability'] },
  { mutation: 'readWithoutReadIndex', nodeCount: 5, maxSeeds: 20, caughtBy: ['linearizability'] },
];

describe('mutations: every planted Raft bug is caught within a bounded number of seeds', () => {
  for (const hunt of HUNTS) {
    const direct = hunt.checkPersistBeforeSend === false ? ', persist-before-send check off' : '';
    test(`${hunt.mutation}, ${hunt.nodeCount} nodes${direct}: caught within ${hunt.maxSeeds} seeds by ${hunt.caughtBy.join(' | ')}`, (t) => {
      const summary = runBatch({
        from: 1,
        seeds: hunt.maxSeeds,
        nodeCount: hunt.nodeCount,
        steps: DEFAULT_STEPS,
        mutation: hunt.mutation,
        ...(hunt.checkPersistBeforeSend === false ? { checkPersistBeforeSend: false } : {}),
        stopAtFirstFailure: true,
      });
      const caught = summary.failures[0];
      assert.ok(caught, `${hunt.mutation} survived seeds 1..${hunt.maxSeeds}: the simulator lost its teeth`);
      t.diagnostic(describeFailure(caught));
      assert.ok(
        (hunt.caughtBy as readonly string[]).includes(caughtBy(caught)),
        `caught by ${caughtBy(caught)}, expected ${hunt.caughtBy.join(' | ')}: ${describeFailure(caught)}`,
      );
    });
  }

  test('without a mutation the same seeds pass (the failures above are the bugs, not the simulator)', () => {
    const summary = runBatch({ from: 1, seeds: 60, nodeCount: 3, steps: DEFAULT_STEPS, checkPersistBeforeSend: false });
    assert.equal(summary.failures.length, 0, summary.failures.map(describeFailure).join('\n'));
  });
});
