// ReadIndex (Raft §6.4): a read is served at the commit index the leader had when the request
// arrived, and only after a quorum confirmed the leader was still leader after that moment.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProposalDroppedError } from '../../../src/raft/errors.ts';
import { Cluster, str, text } from './harness.ts';

describe('ReadIndex', () => {
  test('the leader answers after a heartbeat round with its commit index', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.propose('a', 'x');
    const commit = cluster.status('a').commit;
    cluster.node('a').raw.readIndex(text('r1'));
    cluster.processReadies();
    assert.deepEqual(cluster.node('a').readStates, [], 'not before the quorum confirmed');
    cluster.stabilize();
    assert.deepEqual(
      cluster.node('a').readStates.map((r) => [r.index, str(r.context)]),
      [[commit, 'r1']],
    );
    const heartbeats = cluster.sent.filter((m) => m.from === 'a' && m.type === 'heartbeat' && m.context);
    assert.ok(heartbeats.length >= 2, 'confirmation went through heartbeats');
  });

  test('several pending reads are answered in order once confirmed', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    const a = cluster.node('a').raw;
    a.readIndex(text('1'));
    a.propose(text('w'));
    a.readIndex(text('2'));
    cluster.stabilize();
    const reads = cluster.node('a').readStates;
    assert.deepEqual(reads.map((r) => str(r.context)), ['1', '2']);
    assert.ok(reads[0]!.index <= reads[1]!.index);
  });

  test('a follower forwards the read and gets the leader index back', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.propose('a', 'x');
    const commit = cluster.status('a').commit;
    cluster.node('c').raw.readIndex(text('follower-read'));
    cluster.stabilize();
    assert.deepEqual(
      cluster.node('c').readStates.map((r) => [r.index, str(r.context)]),
      [[commit, 'follower-read']],
    );
    assert.ok(cluster.sent.some((m) => m.from === 'c' && m.type === 'readIndex'));
    assert.ok(cluster.sent.some((m) => m.to === 'c' && m.type === 'readIndexResp'));
  });

  test('a follower without a leader refuses the read', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    assert.throws(() => cluster.node('b').raw.readIndex(text('r')), ProposalDroppedError);
  });

  test('a single-voter cluster answers immediately', () => {
    const cluster = new Cluster({ voters: ['a'] });
    cluster.elect('a');
    cluster.propose('a', 'x');
    cluster.node('a').raw.readIndex(text('solo'));
    cluster.processReadies();
    assert.deepEqual(cluster.node('a').readStates.map((r) => r.index), [cluster.status('a').commit]);
  });

  test('a new leader serves no read until an entry of its own term is committed', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.propose('a', 'x');
    // b wins, but its appends (and with them its empty entry) are held back.
    cluster.filter = (m) => !(m.from === 'b' && m.type === 'app');
    cluster.node('a').raw.transferLeadership('b');
    cluster.stabilize();
    assert.equal(cluster.status('b').role, 'leader');
    const b = cluster.node('b');
    b.raw.readIndex(text('early'));
    cluster.tickAll(3);
    assert.equal(b.readStates.length, 0, 'heartbeats are answered, yet the read must wait');
    cluster.filter = () => true;
    cluster.tickAll(2);
    assert.equal(b.readStates.length, 1);
    const ownEntry = cluster.log('b').filter((e) => e.term === cluster.status('b').term).pop()!;
    assert.ok(b.readStates[0]!.index >= ownEntry.index, 'the read index covers the new term entry');
  });

  test('a stale leader cut off from the quorum never answers', () => {
    // CheckQuorum off so that a keeps believing it leads; ReadIndex alone must protect reads.
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], config: { checkQuorum: false } });
    cluster.elect('a');
    cluster.isolate('a');
    cluster.tickAll(40);
    const leader = cluster.leader();
    assert.ok(leader === 'b' || leader === 'c');
    assert.equal(cluster.status('a').role, 'leader', 'a still believes it leads');
    cluster.propose(leader, 'w');
    cluster.node('a').raw.readIndex(text('stale'));
    cluster.tickAll(20);
    assert.deepEqual(cluster.node('a').readStates, []);
    cluster.heal();
    cluster.tickAll(5);
    assert.deepEqual(cluster.node('a').readStates, [], 'the pending read died with the leadership');
  });
});
