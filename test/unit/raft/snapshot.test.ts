// Snapshots and compaction: a follower behind the leader's first index gets the snapshot, the
// leader pauses it until the snapshot is reported, a restored follower replaces its log; and
// restarts resume from storage.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Message } from '../../../src/raft/types.ts';
import { Cluster, snapshotAndCompact } from './harness.ts';

function laggingFollower(): { cluster: Cluster; snapshotIndex: number } {
  const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
  cluster.elect('a');
  cluster.isolate('c');
  for (let i = 0; i < 10; i++) cluster.propose('a', `v${i}`);
  const snapshotIndex = snapshotAndCompact(cluster, 'a');
  cluster.propose('a', 'after-snapshot');
  return { cluster, snapshotIndex };
}

describe('snapshots', () => {
  test('a follower behind the compacted log gets the snapshot and catches up', () => {
    const { cluster, snapshotIndex } = laggingFollower();
    cluster.heal();
    cluster.tickAll(3);
    const snaps = cluster.sent.filter((m) => m.type === 'snap');
    assert.equal(snaps.length, 1);
    assert.equal(snaps[0]!.to, 'c');
    assert.equal(snaps[0]!.snapshot?.metadata.index, snapshotIndex);
    assert.deepEqual(cluster.node('c').applied, cluster.node('a').applied);
    assert.ok(cluster.node('c').applied.includes('after-snapshot'));
    assert.equal(cluster.node('c').storage.firstIndex(), snapshotIndex + 1, 'c stores the snapshot, not old entries');
    assert.equal(cluster.status('a').progress?.c?.state, 'replicate');
  });

  test('a lost snapshot acknowledgement is recovered through the heartbeat commit', () => {
    const { cluster } = laggingFollower();
    cluster.heal();
    let snapshotSent = false;
    cluster.filter = (m) => {
      if (m.type === 'snap') snapshotSent = true;
      return !(snapshotSent && m.from === 'c' && m.type === 'appResp');
    };
    cluster.tickAll(1);
    cluster.filter = () => true;
    cluster.tickAll(2);
    assert.equal(cluster.status('a').progress?.c?.state, 'replicate', 'no reportSnapshot needed');
    assert.deepEqual(cluster.node('c').applied, cluster.node('a').applied);
  });

  test('the leader holds a follower in snapshot state until the snapshot is reported', () => {
    const { cluster } = laggingFollower();
    cluster.heal();
    // The transport is still streaming the snapshot: hold it back.
    const held: Message[] = [];
    cluster.filter = (m) => {
      if (m.type !== 'snap') return true;
      held.push(m);
      return false;
    };
    cluster.tickAll(2);
    assert.equal(held.length, 1);
    const progress = () => cluster.status('a').progress?.c;
    assert.equal(progress()?.state, 'snapshot');
    assert.equal(progress()?.paused, true);
    const before = cluster.sent.length;
    cluster.propose('a', 'while-snapshotting');
    cluster.tickAll(3);
    assert.ok(!cluster.sent.slice(before).some((m) => m.to === 'c' && (m.type === 'app' || m.type === 'snap')));
    // Streaming done: the follower installs it and the driver reports success.
    cluster.filter = () => true;
    cluster.node('c').raw.step(held[0]!);
    cluster.node('a').raw.reportSnapshot('c', true);
    assert.equal(progress()?.state, 'probe');
    cluster.tickAll(2);
    assert.equal(progress()?.state, 'replicate');
    assert.deepEqual(cluster.node('c').applied, cluster.node('a').applied);
  });

  test('a failed snapshot is retried', () => {
    const { cluster } = laggingFollower();
    cluster.heal();
    cluster.filter = (m) => !(m.to === 'c' && m.type === 'snap');
    cluster.tickAll(1);
    assert.equal(cluster.status('a').progress?.c?.state, 'snapshot');
    cluster.filter = () => true;
    cluster.node('a').raw.reportSnapshot('c', false);
    cluster.tickAll(2);
    assert.equal(cluster.sent.filter((m) => m.type === 'snap').length, 2);
    assert.deepEqual(cluster.node('c').applied, cluster.node('a').applied);
  });

  test('a follower with a divergent tail replaces its whole log with the snapshot', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], config: { checkQuorum: false } });
    cluster.elect('c');
    cluster.isolate('c');
    for (const v of ['x1', 'x2']) cluster.node('c').raw.propose(new TextEncoder().encode(v));
    cluster.stabilize();
    cluster.tickAll(40);
    const leader = cluster.leader();
    assert.ok(leader === 'a' || leader === 'b');
    for (let i = 0; i < 5; i++) cluster.propose(leader, `v${i}`);
    const snapshotIndex = snapshotAndCompact(cluster, leader);
    cluster.heal();
    cluster.tickAll(3);
    assert.equal(cluster.status('c').role, 'follower');
    assert.ok(cluster.sent.some((m) => m.to === 'c' && m.type === 'snap'));
    const cLog = cluster.log('c');
    assert.ok(cLog.every((e) => e.index > snapshotIndex), 'nothing of the old tail survives');
    assert.deepEqual(cluster.node('c').applied, ['v0', 'v1', 'v2', 'v3', 'v4']);
  });
});

describe('restart', () => {
  test('a node resumes from storage: term, vote, log, and no entry is applied twice', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    for (const v of ['1', '2']) cluster.propose('a', v);
    snapshotAndCompact(cluster, 'b');
    cluster.propose('a', '3');
    const before = cluster.status('b');
    cluster.crash('b');
    cluster.restart('b');
    const after = cluster.status('b');
    assert.equal(after.term, before.term);
    assert.equal(after.vote, before.vote);
    assert.equal(after.lastIndex, before.lastIndex);
    assert.equal(after.applied, before.applied);
    assert.equal(after.role, 'follower');
    cluster.propose('a', '4');
    // The harness asserts every applied entry directly follows the previous one.
    assert.deepEqual(cluster.node('b').applied, ['1', '2', '3', '4']);
  });

  test('conf changes after the snapshot are re-applied on restart', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], joiners: ['d'] });
    cluster.elect('a');
    cluster.propose('a', 'x');
    snapshotAndCompact(cluster, 'b');
    cluster.proposeConfChange('a', { type: 'addLearner', nodeId: 'd' });
    assert.deepEqual(cluster.node('b').storage.initialState().confState.learners, [], 'snapshot predates the change');
    cluster.crash('b');
    cluster.restart('b');
    assert.deepEqual(cluster.status('b').confState, { voters: ['a', 'b', 'c'], learners: ['d'] });
  });

  test('a crashed leader restarts as a follower and catches up', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.propose('a', 'x');
    cluster.crash('a');
    cluster.tickAll(30);
    const leader = cluster.leader();
    assert.ok(leader);
    cluster.propose(leader, 'y');
    cluster.restart('a');
    assert.equal(cluster.status('a').role, 'follower');
    cluster.tickAll(3);
    assert.deepEqual(cluster.node('a').applied, ['x', 'y']);
  });
});
