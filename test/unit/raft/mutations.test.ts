// The test-only mutation flags plant known bugs. Each scenario below passes the safety checks
// with the flag off and visibly breaks Raft with it on, so the flags are worth the simulator's
// time. (commitPreviousTermByCounting is exercised by the Figure 8 test in replication.test.ts.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TestingMutations } from '../../../src/raft/types.ts';
import { Cluster, text } from './harness.ts';

const SAFETY_VIOLATION = /two leaders in term|state machine safety|conflicts with committed|commit went back|log matching/;

function staleVoteScenario(testingMutations: TestingMutations): Cluster {
  const cluster = new Cluster({ voters: ['a', 'b', 'c'], config: { checkQuorum: false, testingMutations } });
  cluster.elect('a');
  cluster.isolate('c');
  cluster.propose('a', 'x');
  cluster.crash('a');
  cluster.heal();
  cluster.campaign('c');
  cluster.tickAll(40);
  return cluster;
}

/** b wins a term with a's vote; a crashes before that vote is durable and votes again for c. */
function doubleVoteScenario(testingMutations: TestingMutations): Cluster {
  const cluster = new Cluster({
    voters: ['a', 'b', 'c'],
    config: { preVote: false, checkQuorum: false, testingMutations },
  });
  cluster.partition(['a', 'b'], ['c']);
  cluster.node('b').raw.campaign();
  cluster.processReady('b');
  while (cluster.queue.some((m) => m.to === 'a')) cluster.deliverOne();
  cluster.processReady('a');
  cluster.crash('a');
  cluster.stabilize();
  assert.equal(cluster.status('b').role, 'leader');
  cluster.restart('a');
  cluster.partition(['a', 'c'], ['b']);
  cluster.campaign('c');
  return cluster;
}

function staleReadScenario(testingMutations: TestingMutations): { cluster: Cluster; writeIndex: number } {
  const cluster = new Cluster({ voters: ['a', 'b', 'c'], config: { checkQuorum: false, testingMutations } });
  cluster.elect('a');
  cluster.isolate('a');
  cluster.tickAll(40);
  const leader = cluster.leader();
  assert.ok(leader && leader !== 'a');
  cluster.propose(leader, 'w');
  const writeIndex = cluster.status(leader).commit;
  // The write is acknowledged; a read that starts now must observe it.
  cluster.node('a').raw.readIndex(text('after-write'));
  cluster.tickAll(3);
  return { cluster, writeIndex };
}

describe('testing mutations', () => {
  test('grantVoteWithoutLogCheck: off, a stale node cannot win; on, a committed entry is lost', () => {
    const cluster = staleVoteScenario({});
    assert.notEqual(cluster.leader(), 'c');
    assert.deepEqual(cluster.node('c').applied, ['x']);
    assert.throws(() => staleVoteScenario({ grantVoteWithoutLogCheck: true }), SAFETY_VIOLATION);
  });

  test('sendBeforePersist: off, a vote survives a crash; on, the node votes twice in a term', () => {
    const cluster = doubleVoteScenario({});
    assert.notEqual(cluster.status('c').role, 'leader');
    assert.throws(() => doubleVoteScenario({ sendBeforePersist: true }), /two leaders in term/);
  });

  test('readWithoutReadIndex: off, a deposed leader serves nothing; on, it serves a stale read', () => {
    const off = staleReadScenario({});
    assert.equal(off.cluster.node('a').readStates.length, 0);
    const on = staleReadScenario({ readWithoutReadIndex: true });
    const read = on.cluster.node('a').readStates[0];
    assert.ok(read, 'answered at once');
    assert.ok(read.index < on.writeIndex, `read index ${read.index} misses the write at ${on.writeIndex}`);
  });

  test('flags set to false change nothing: identical message traces', () => {
    const run = (testingMutations?: TestingMutations) => {
      const cluster = new Cluster({ voters: ['a', 'b', 'c'], seed: 3, config: testingMutations ? { testingMutations } : {} });
      cluster.tickAll(30);
      const leader = cluster.leader()!;
      cluster.propose(leader, 'x');
      cluster.node(leader).raw.readIndex(text('r'));
      cluster.isolate(leader);
      cluster.tickAll(30);
      return JSON.stringify(cluster.sent.map((m) => [m.type, m.from, m.to, m.term, m.index, m.commit, m.reject]));
    };
    const all: TestingMutations = {
      commitPreviousTermByCounting: false,
      grantVoteWithoutLogCheck: false,
      sendBeforePersist: false,
      readWithoutReadIndex: false,
    };
    assert.equal(run(all), run(undefined));
  });
});
