// Log replication: commitment (including Raft §5.4.2, Figure 8), Log Matching across nodes,
// flow control (probe -> replicate, inflight window, message size), fast backtracking of
// divergent logs, and proposal forwarding / dropping.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENTRY_OVERHEAD_BYTES } from '../../../src/raft/entries.ts';
import { ProposalDroppedError } from '../../../src/raft/errors.ts';
import { MemoryStorage } from '../../../src/raft/memory-storage.ts';
import { RawNode } from '../../../src/raft/raw-node.ts';
import type { Config, Entry, NodeId } from '../../../src/raft/types.ts';
import { Cluster, message, text } from './harness.ts';

function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push({ index: i, term, type: 'normal', data: text(`${i}@${term}`) });
  return out;
}

/**
 * Raft's Figure 8: an entry of an older term reaches a majority but must not be committed by
 * counting, because a node that never saw it can still be elected and overwrite it.
 */
function figure8(testingMutations: Config['testingMutations']): { cluster: Cluster; indexA: number } {
  const ids = ['s1', 's2', 's3', 's4', 's5'];
  // One entry per append so a filter can let an older entry through while holding back a newer one.
  const cluster = new Cluster({ voters: ids, config: { checkQuorum: false, maxSizePerMsgBytes: 1, testingMutations } });
  const campaignUntilLeader = (id: NodeId) => {
    for (let attempt = 0; attempt < 3 && cluster.status(id).role !== 'leader'; attempt++) cluster.campaign(id);
    assert.equal(cluster.status(id).role, 'leader', `${id} should win`);
  };
  cluster.elect('s1');
  // s1 gets 'A' onto s2 only.
  cluster.partition(['s1', 's2'], ['s3', 's4', 's5']);
  cluster.propose('s1', 'A');
  const indexA = cluster.status('s1').lastIndex;
  cluster.crash('s1');
  // Next term: s5 wins with s3 and s4 but its entries reach nobody.
  cluster.partition(['s2'], ['s3', 's4', 's5']);
  cluster.filter = (m) => !(m.from === 's5' && m.type === 'app');
  campaignUntilLeader('s5');
  cluster.propose('s5', 'B');
  cluster.crash('s5');
  // Next term: s1 is back and copies 'A' to s3 and s4, but its own new-term entry reaches s2 only.
  cluster.restart('s1');
  cluster.partition(['s1', 's2', 's3', 's4']);
  cluster.filter = (m) => {
    if (m.type === 'app' && (m.to === 's3' || m.to === 's4')) m.entries = m.entries.filter((e) => e.index <= indexA);
    return true;
  };
  campaignUntilLeader('s1');
  cluster.tickAll(3);
  const s1 = cluster.status('s1');
  assert.equal(s1.progress?.s3?.match, indexA, 'A is on s1, s2, s3, s4: a majority');
  // Now s1 dies and s5 (whose last term is newer than A's) can win with s3 and s4, overwriting A.
  cluster.crash('s1');
  cluster.restart('s5');
  cluster.filter = () => true;
  cluster.partition(['s2', 's3', 's4', 's5']);
  campaignUntilLeader('s5');
  cluster.tickAll(3);
  return { cluster, indexA };
}

describe('commitment', () => {
  test('a new leader starts its term with an empty entry and commits it', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('b');
    const log = cluster.log('b');
    const last = log[log.length - 1]!;
    assert.equal(last.term, cluster.status('b').term);
    assert.equal(last.data.length, 0);
    assert.equal(cluster.status('b').commit, last.index);
  });

  test('entries commit once a majority stores them, not before', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c', 'd', 'e'] });
    cluster.elect('a');
    cluster.partition(['a', 'b'], ['c', 'd', 'e']);
    cluster.propose('a', 'x');
    assert.deepEqual(cluster.node('a').applied, [], 'two of five is not a majority');
    cluster.partition(['a', 'b', 'c'], ['d', 'e']);
    cluster.tickAll(2);
    assert.deepEqual(cluster.node('a').applied, ['x']);
    assert.deepEqual(cluster.node('c').applied, ['x'], 'followers learn the commit index');
  });

  test('Figure 8: an older-term entry on a majority is not committed by counting (§5.4.2)', () => {
    const { cluster, indexA } = figure8(undefined);
    assert.equal(cluster.leader(), 's5');
    for (const id of ['s2', 's3', 's4', 's5']) {
      assert.ok(!cluster.node(id).applied.includes('A'), `${id} never applied the overwritten entry`);
    }
    const atA = cluster.log('s3').find((e) => e.index === indexA);
    assert.equal(atA?.term, cluster.log('s5').find((e) => e.index === indexA)?.term, "s5's entry replaced A");
    assert.equal(atA?.data.length, 0);
  });

  test('Figure 8 with commitPreviousTermByCounting: the planted bug is caught', () => {
    assert.throws(
      () => figure8({ commitPreviousTermByCounting: true }),
      /state machine safety|conflicts with committed|commit went back/,
    );
  });
});

describe('replication', () => {
  test('Log Matching: all logs agree after leader changes with divergent tails', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.propose('a', '1');
    cluster.isolate('a');
    for (const v of ['lost-1', 'lost-2']) cluster.node('a').raw.propose(text(v));
    cluster.stabilize();
    cluster.tickAll(40);
    const leader = cluster.leader();
    assert.ok(leader === 'b' || leader === 'c');
    cluster.propose(leader, '2');
    cluster.heal();
    cluster.tickAll(5);
    const reference = cluster.log(leader);
    for (const id of ['a', 'b', 'c']) {
      assert.deepEqual(
        cluster.log(id).map((e) => [e.index, e.term]),
        reference.map((e) => [e.index, e.term]),
      );
      assert.deepEqual(cluster.node(id).applied, ['1', '2'], `${id}: the uncommitted tail of the old leader is gone`);
    }
  });

  test('followers start in probe and switch to replicate after the first acknowledgement', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.node('a').raw.campaign();
    cluster.processReadies();
    // Step message by message so we can look at the leader before any append is answered.
    while (cluster.status('a').role !== 'leader') {
      assert.ok(cluster.deliverOne());
      cluster.processReadies();
    }
    assert.equal(cluster.status('a').progress?.b?.state, 'probe');
    cluster.stabilize();
    assert.equal(cluster.status('a').progress?.b?.state, 'replicate');
  });

  test('reportUnreachable sends a replicating follower back to probing', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.propose('a', 'x');
    assert.equal(cluster.status('a').progress?.b?.state, 'replicate');
    cluster.node('a').raw.reportUnreachable('b');
    assert.equal(cluster.status('a').progress?.b?.state, 'probe');
    cluster.propose('a', 'y');
    assert.equal(cluster.status('a').progress?.b?.state, 'replicate', 'back once b answers a probe');
    assert.deepEqual(cluster.node('b').applied, ['x', 'y']);
  });

  test('the inflight window bounds unacknowledged appends per follower', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], config: { maxInflightMsgs: 3, maxSizePerMsgBytes: 1 } });
    cluster.elect('a');
    cluster.filter = (m) => m.from !== 'b';
    const before = cluster.sent.length;
    for (let i = 0; i < 10; i++) cluster.propose('a', `v${i}`);
    const appendsToB = cluster.sent.slice(before).filter((m) => m.to === 'b' && m.type === 'app' && m.entries.length > 0);
    assert.equal(appendsToB.length, 3, 'exactly the window, then paused');
    const progress = cluster.status('a').progress?.b;
    assert.equal(progress?.inflight, 3);
    assert.equal(progress?.paused, true);
    assert.deepEqual(cluster.node('c').applied.length, 10, 'the other follower is not held back');
    cluster.filter = () => true;
    cluster.tickAll(15);
    assert.equal(cluster.node('b').applied.length, 10, 'b catches up once acknowledgements flow');
  });

  test('an append message carries at most maxSizePerMsgBytes of entries (but at least one)', () => {
    const entryBytes = 100 + ENTRY_OVERHEAD_BYTES;
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], config: { maxSizePerMsgBytes: entryBytes * 3 } });
    cluster.elect('a');
    cluster.isolate('b');
    for (let i = 0; i < 10; i++) cluster.node('a').raw.propose(new Uint8Array(100).fill(i));
    cluster.stabilize();
    const before = cluster.sent.length;
    cluster.heal();
    cluster.tickAll(5);
    const appends = cluster.sent.slice(before).filter((m) => m.to === 'b' && m.type === 'app' && m.entries.length > 0);
    assert.ok(appends.length >= 4, 'ten entries need at least four messages');
    for (const m of appends) assert.ok(m.entries.length <= 3);
    assert.equal(cluster.status('b').commit, cluster.status('a').commit);
  });

  for (const [name, followerLog] of [
    ['longer follower log with lower terms', [...entries(1, 100, 1), ...entries(101, 400, 2)]],
    ['follower log with many short divergent terms', [...entries(1, 50, 1), ...entries(51, 150, 2), ...entries(151, 250, 3)]],
    ['shorter follower log', entries(1, 20, 1)],
  ] as const) {
    test(`fast backtracking: ${name} converges with a bounded number of rejections`, () => {
      const leaderLog = [...entries(1, 50, 1), ...entries(51, 300, 4)];
      const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
      const preload = (id: NodeId, log: readonly Entry[], term: number) => {
        const storage = cluster.node(id).storage as MemoryStorage;
        storage.append([...log]);
        storage.setHardState({ term, vote: null, commit: 0 });
        cluster.restart(id);
      };
      preload('a', leaderLog, 4);
      preload('c', leaderLog, 4);
      preload('b', followerLog, 4);
      cluster.elect('a');
      cluster.tickAll(3);
      const rejections = cluster.sent.filter((m) => m.from === 'b' && m.type === 'appResp' && m.reject);
      // Without the hint, the leader would step back one index per rejection (hundreds here).
      assert.ok(rejections.length <= 2, `${rejections.length} rejections`);
      assert.deepEqual(
        cluster.log('b').map((e) => [e.index, e.term]),
        cluster.log('a').map((e) => [e.index, e.term]),
      );
    });
  }
});

describe('Ready batching', () => {
  test('committedEntries of one Ready respect maxCommittedSizePerReadyBytes', () => {
    const entryBytes = 10 + ENTRY_OVERHEAD_BYTES;
    const cluster = new Cluster({ voters: ['a'], config: { maxCommittedSizePerReadyBytes: entryBytes * 2 } });
    cluster.elect('a');
    const a = cluster.node('a').raw;
    for (let i = 0; i < 5; i++) a.propose(new Uint8Array(10));
    const sizes: number[] = [];
    while (a.hasReady()) {
      const ready = a.ready();
      cluster.node('a').storage.save({ entries: ready.entries, mustSync: ready.mustSync });
      sizes.push(ready.committedEntries.length);
      a.advance(ready);
    }
    assert.deepEqual(sizes, [2, 2, 1]);
  });

  test('ready() twice without advance() is refused', () => {
    const cluster = new Cluster({ voters: ['a'] });
    const a = cluster.node('a').raw;
    a.campaign();
    const ready = a.ready();
    assert.equal(a.hasReady(), false, 'nothing new until the outstanding Ready is advanced');
    assert.throws(() => a.ready());
    a.advance(ready);
  });
});

describe('proposals', () => {
  test('a follower forwards proposals to the leader', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.propose('c', 'from-c');
    assert.ok(cluster.sent.some((m) => m.from === 'c' && m.to === 'a' && m.type === 'prop'));
    for (const id of ['a', 'b', 'c']) assert.deepEqual(cluster.node(id).applied, ['from-c']);
  });

  test('without a known leader a proposal is rejected with ProposalDroppedError(noLeader)', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    assert.throws(
      () => cluster.node('a').raw.propose(text('x')),
      (error: unknown) => error instanceof ProposalDroppedError && error.reason === 'noLeader',
    );
    cluster.isolate('a');
    cluster.node('a').raw.campaign();
    cluster.stabilize();
    assert.equal(cluster.status('a').role, 'preCandidate');
    assert.throws(() => cluster.node('a').raw.propose(text('x')), ProposalDroppedError);
  });

  test('a leader drops proposals while the uncommitted tail exceeds its limit', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], config: { maxUncommittedEntriesBytes: 250 } });
    cluster.elect('a');
    cluster.isolate('a');
    const a = cluster.node('a').raw;
    a.propose(new Uint8Array(100));
    a.propose(new Uint8Array(100));
    assert.throws(
      () => a.propose(new Uint8Array(100)),
      (error: unknown) => error instanceof ProposalDroppedError && error.reason === 'uncommittedSizeExceeded',
    );
    cluster.heal();
    cluster.tickAll(2);
    a.propose(new Uint8Array(100));
  });
});

describe('acks queued behind an unpersisted Ready', () => {
  test('an append that overwrites the acked entries drops the queued ack (simulator seed 4175, 5 nodes)', () => {
    const storage = new MemoryStorage({ confState: { voters: ['a', 'b', 'f'], learners: [] } });
    const follower = new RawNode({ id: 'f', storage, seed: 1, applied: 0 });
    // The log starts after the bootstrap snapshot (index 1, term 1). Term 5: leader a sends 2..3;
    // the ack waits in the queue for the next Ready.
    follower.step(message({ type: 'app', from: 'a', to: 'f', term: 5, index: 1, logTerm: 1, entries: entries(2, 3, 5) }));
    // Before that Ready is taken, term 6's leader b overwrites index 3.
    follower.step(message({ type: 'app', from: 'b', to: 'f', term: 6, index: 2, logTerm: 5, entries: entries(3, 3, 6) }));
    const ready = follower.ready();
    const acks = ready.messages.filter((m) => m.type === 'appResp' && !m.reject);
    assert.deepEqual(acks.map((m) => [m.to, m.term, m.index]), [['b', 6, 3]], 'only the ack of the surviving log leaves');
    assert.deepEqual(ready.entries.map((e) => [e.index, e.term]), [[2, 5], [3, 6]]);
  });

  test('an append that only extends the log keeps the queued ack', () => {
    const storage = new MemoryStorage({ confState: { voters: ['a', 'b', 'f'], learners: [] } });
    const follower = new RawNode({ id: 'f', storage, seed: 1, applied: 0 });
    follower.step(message({ type: 'app', from: 'a', to: 'f', term: 5, index: 1, logTerm: 1, entries: entries(2, 3, 5) }));
    follower.step(message({ type: 'app', from: 'a', to: 'f', term: 5, index: 3, logTerm: 5, entries: entries(4, 4, 5) }));
    const acks = follower.ready().messages.filter((m) => m.type === 'appResp' && !m.reject);
    assert.deepEqual(acks.map((m) => m.index), [3, 4]);
  });
});
