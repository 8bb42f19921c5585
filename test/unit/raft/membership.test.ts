// Membership: learners, single-server changes that take effect when applied, at most one
// pending change, removal of followers and of the leader itself.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProposalDroppedError } from '../../../src/raft/errors.ts';
import { createPrng } from '../../../src/raft/prng.ts';
import type { ConfChange } from '../../../src/raft/types.ts';
import { Cluster, message, text } from './harness.ts';

const dropped = (reason: string) => (error: unknown) => error instanceof ProposalDroppedError && error.reason === reason;

describe('learners', () => {
  test('a learner receives and applies the log', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], learners: ['l'] });
    cluster.elect('a');
    cluster.propose('a', 'x');
    assert.deepEqual(cluster.node('l').applied, ['x']);
    assert.equal(cluster.status('a').progress?.l?.isLearner, true);
  });

  test('a learner does not count toward the commit quorum', () => {
    const cluster = new Cluster({ voters: ['a', 'b'], learners: ['l'] });
    cluster.elect('a');
    const commit = cluster.status('a').commit;
    cluster.crash('b');
    cluster.propose('a', 'x');
    assert.equal(cluster.status('a').progress?.l?.match, cluster.status('a').lastIndex, 'l stores the entry');
    assert.equal(cluster.status('a').commit, commit, 'a plus a learner is not a majority of {a, b}');
  });

  test('a learner never campaigns', () => {
    const cluster = new Cluster({ voters: ['a', 'b'], learners: ['l'] });
    cluster.elect('a');
    const term = cluster.status('l').term;
    cluster.isolate('l');
    cluster.tickAll(100);
    assert.equal(cluster.status('l').role, 'follower');
    assert.equal(cluster.status('l').term, term);
    assert.ok(!cluster.sent.some((m) => m.from === 'l' && (m.type === 'preVote' || m.type === 'vote')));
  });

  test("a learner's vote is not counted by candidates", () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], learners: ['l'], config: { preVote: false } });
    cluster.elect('a');
    cluster.crash('a');
    cluster.partition(['b', 'l'], ['c']);
    // b asks l too (as if l were a voter it knew about) to prove the answer is ignored.
    cluster.node('b').raw.campaign();
    cluster.stabilize();
    const term = cluster.status('b').term;
    cluster.node('b').raw.step(message({ type: 'voteResp', from: 'l', to: 'b', term }));
    cluster.stabilize();
    assert.equal(cluster.status('b').role, 'candidate', 'one voter out of three is not enough');
  });

  test('promotion: addVoter on a learner makes it a voter that counts and can lead', () => {
    const cluster = new Cluster({ voters: ['a', 'b'], learners: ['l'] });
    cluster.elect('a');
    cluster.proposeConfChange('a', { type: 'addVoter', nodeId: 'l' });
    for (const id of ['a', 'b', 'l']) {
      assert.deepEqual(cluster.node(id).confState, { voters: ['a', 'b', 'l'], learners: [] }, id);
      assert.deepEqual(cluster.status(id).confState, { voters: ['a', 'b', 'l'], learners: [] }, id);
    }
    cluster.crash('b');
    cluster.propose('a', 'x');
    assert.deepEqual(cluster.node('a').applied, ['x'], 'a + l are now a majority of three');
    cluster.node('a').raw.transferLeadership('l');
    cluster.stabilize();
    assert.equal(cluster.leader(), 'l');
  });
});

describe('single-server membership changes', () => {
  test('adding a voter: the new node catches up and takes part in the quorum', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], joiners: ['d'] });
    cluster.elect('a');
    for (const v of ['1', '2']) cluster.propose('a', v);
    cluster.proposeConfChange('a', { type: 'addVoter', nodeId: 'd' });
    cluster.tickAll(3);
    assert.deepEqual(cluster.node('d').applied, ['1', '2']);
    assert.deepEqual(cluster.node('d').confState.voters, ['a', 'b', 'c', 'd']);
    // Quorum is now 3 of 4: with b and c down, a and d cannot commit alone... but with c up they can.
    cluster.crash('b');
    cluster.crash('c');
    cluster.propose('a', 'not-yet');
    assert.deepEqual(cluster.node('a').applied, ['1', '2']);
    cluster.restart('c');
    cluster.tickAll(3);
    assert.deepEqual(cluster.node('a').applied, ['1', '2', 'not-yet']);
  });

  test('a change takes effect when applied, not when appended', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], joiners: ['d'] });
    cluster.elect('a');
    cluster.isolate('a');
    cluster.node('a').raw.proposeConfChange({ type: 'addVoter', nodeId: 'd' });
    cluster.stabilize();
    assert.deepEqual(cluster.status('a').confState.voters, ['a', 'b', 'c'], 'appended but not committed');
    cluster.heal();
    cluster.tickAll(2);
    assert.deepEqual(cluster.status('a').confState.voters, ['a', 'b', 'c', 'd']);
  });

  test('at most one conf change is pending at a time', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], joiners: ['d', 'e'] });
    cluster.elect('a');
    const a = cluster.node('a').raw;
    a.proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    assert.throws(() => a.proposeConfChange({ type: 'addLearner', nodeId: 'e' }), dropped('confChangePending'));
    cluster.stabilize();
    a.proposeConfChange({ type: 'addLearner', nodeId: 'e' });
    cluster.stabilize();
    assert.deepEqual(cluster.status('a').confState.learners, ['d', 'e']);
  });

  test('a new leader accepts no conf change before its first entry is applied', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], joiners: ['d'] });
    cluster.node('a').raw.campaign();
    cluster.processReadies();
    while (cluster.status('a').role !== 'leader') {
      assert.ok(cluster.deliverOne());
      cluster.processReadies();
    }
    const a = cluster.node('a').raw;
    assert.throws(() => a.proposeConfChange({ type: 'addVoter', nodeId: 'd' }), dropped('confChangePending'));
    cluster.stabilize();
    a.proposeConfChange({ type: 'addVoter', nodeId: 'd' });
  });

  test('invalid changes are refused: removing the last voter', () => {
    const cluster = new Cluster({ voters: ['a'] });
    cluster.elect('a');
    assert.throws(
      () => cluster.node('a').raw.proposeConfChange({ type: 'removeNode', nodeId: 'a' }),
      dropped('invalidConfChange'),
    );
  });

  test('removing a follower: the rest commit without it, and it never campaigns again', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.proposeConfChange('a', { type: 'removeNode', nodeId: 'c' });
    assert.deepEqual(cluster.node('c').confState.voters, ['a', 'b'], 'c applied its own removal');
    assert.equal(cluster.status('a').progress?.c, undefined);
    const term = cluster.status('c').term;
    cluster.isolate('c');
    cluster.tickAll(100);
    assert.equal(cluster.status('c').term, term);
    assert.ok(!cluster.sent.some((m) => m.from === 'c' && (m.type === 'preVote' || m.type === 'vote')));
    cluster.heal();
    cluster.propose('a', 'x');
    assert.deepEqual(cluster.node('b').applied, ['x']);
  });

  test('removing the leader: it replicates the change, then hands over and steps down', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.propose('a', 'before');
    cluster.proposeConfChange('a', { type: 'removeNode', nodeId: 'a' });
    // No ticks needed: timeoutNow lets a caught-up voter take over at once.
    const leader = cluster.leader();
    assert.ok(leader === 'b' || leader === 'c', `new leader ${leader}`);
    assert.equal(cluster.status('a').role, 'follower');
    for (const id of ['b', 'c']) assert.deepEqual(cluster.status(id).confState.voters, ['b', 'c']);
    cluster.propose(leader, 'after');
    const other = leader === 'b' ? 'c' : 'b';
    assert.deepEqual(cluster.node(other).applied, ['before', 'after']);
    const term = cluster.status('a').term;
    cluster.isolate('a');
    cluster.tickAll(60);
    assert.equal(cluster.status('a').term, term, 'the removed leader never campaigns');
  });

  test('safety under random single-server changes, partitions and crashes', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const prng = createPrng(seed * 101);
      const all = ['a', 'b', 'c', 'd', 'e'];
      const cluster = new Cluster({ voters: ['a', 'b', 'c'], joiners: ['d', 'e'], seed });
      for (let step = 0; step < 300; step++) {
        if (step % 20 === 0) {
          if (prng.nextInt(2) === 0) cluster.heal();
          else {
            const cut = 1 + prng.nextInt(all.length - 1);
            cluster.partition(all.slice(0, cut), all.slice(cut));
          }
        }
        if (step % 50 === 25) {
          const victim = all[prng.nextInt(all.length)]!;
          if (cluster.node(victim).up) cluster.crash(victim);
        }
        if (step % 50 === 45) for (const id of all) if (!cluster.node(id).up) cluster.restart(id);
        const leader = cluster.leader();
        if (leader) {
          const raw = cluster.node(leader).raw;
          try {
            if (step % 7 === 0) {
              const target = all[prng.nextInt(all.length)]!;
              const types: ConfChange['type'][] = ['addVoter', 'addLearner', 'removeNode'];
              raw.proposeConfChange({ type: types[prng.nextInt(3)]!, nodeId: target });
            } else if (step % 2 === 0) {
              raw.propose(text(`s${step}`));
            }
          } catch (error) {
            assert.ok(error instanceof ProposalDroppedError);
          }
        }
        cluster.tickAll(1);
      }
      cluster.heal();
      for (const id of all) if (!cluster.node(id).up) cluster.restart(id);
      cluster.tickAll(80);
      const leader = cluster.leader();
      assert.ok(leader, `seed ${seed}: a leader after healing`);
      const voters = cluster.status(leader).confState.voters;
      cluster.propose(leader, 'final');
      for (const id of voters) {
        assert.deepEqual(cluster.node(id).applied, cluster.node(leader).applied, `seed ${seed}: voter ${id} converged`);
      }
    }
  });
});
