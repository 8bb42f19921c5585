// Leadership transfer: catch the target up, send timeoutNow, let it win at once; proposals are
// refused meanwhile, and a transfer that cannot finish within an election timeout is abandoned.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProposalDroppedError } from '../../../src/raft/errors.ts';
import { Cluster, text } from './harness.ts';

describe('leadership transfer', () => {
  test('to an up-to-date follower: it wins immediately in the next term', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.propose('a', 'x');
    const term = cluster.status('a').term;
    cluster.node('a').raw.transferLeadership('b');
    cluster.stabilize();
    assert.equal(cluster.leader(), 'b');
    assert.equal(cluster.status('b').term, term + 1);
    assert.equal(cluster.status('a').role, 'follower');
    assert.ok(cluster.sent.some((m) => m.from === 'a' && m.to === 'b' && m.type === 'timeoutNow'));
    cluster.propose('b', 'y');
    assert.deepEqual(cluster.node('a').applied, ['x', 'y']);
  });

  test('to a lagging follower: the leader first catches it up', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.isolate('c');
    for (const v of ['1', '2', '3']) cluster.propose('a', v);
    cluster.heal();
    // Hold c's acknowledgements so the transfer has to wait for catch-up.
    cluster.filter = (m) => !(m.from === 'c' && m.type === 'appResp');
    cluster.node('a').raw.transferLeadership('c');
    cluster.stabilize();
    assert.equal(cluster.status('a').leadTransferee, 'c');
    assert.ok(!cluster.sent.some((m) => m.type === 'timeoutNow'), 'no timeoutNow before c has the log');
    assert.throws(
      () => cluster.node('a').raw.propose(text('during')),
      (error: unknown) => error instanceof ProposalDroppedError && error.reason === 'transferInProgress',
    );
    cluster.filter = () => true;
    cluster.tickAll(1);
    assert.equal(cluster.leader(), 'c');
    assert.deepEqual(cluster.node('c').applied, ['1', '2', '3']);
  });

  test('a transfer that cannot complete is abandoned after an election timeout', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.isolate('c');
    cluster.propose('a', 'x');
    cluster.node('a').raw.transferLeadership('c');
    cluster.stabilize();
    assert.throws(() => cluster.node('a').raw.propose(text('blocked')), ProposalDroppedError);
    cluster.tickAll(10);
    assert.equal(cluster.status('a').leadTransferee, null);
    assert.equal(cluster.leader(), 'a');
    cluster.propose('a', 'after');
    assert.deepEqual(cluster.node('b').applied, ['x', 'after']);
  });

  test('a follower may request the transfer; it is forwarded to the leader', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.node('c').raw.transferLeadership('b');
    cluster.stabilize();
    assert.equal(cluster.leader(), 'b');
  });

  test('a transfer breaks the followers lease (the vote carries the transfer mark)', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    // c just heard from a, so it would ignore an ordinary vote request from b.
    cluster.tickAll(1);
    cluster.node('a').raw.transferLeadership('b');
    cluster.stabilize();
    assert.equal(cluster.leader(), 'b');
    assert.equal(cluster.status('c').leader, 'b');
  });

  test('a learner cannot be the target', () => {
    const cluster = new Cluster({ voters: ['a', 'b'], learners: ['l'] });
    cluster.elect('a');
    assert.throws(
      () => cluster.node('a').raw.transferLeadership('l'),
      (error: unknown) => error instanceof ProposalDroppedError && error.reason === 'notMember',
    );
    assert.equal(cluster.leader(), 'a');
  });
});
