// PreVote keeps a rejoining partitioned node from inflating terms and deposing a healthy leader;
// CheckQuorum makes an isolated leader step down and gives followers a lease during which they
// ignore (pre)votes.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Cluster, message } from './harness.ts';

describe('PreVote', () => {
  test('a partitioned node that rejoins does not disturb the leader or the term', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    const term = cluster.status('a').term;
    cluster.isolate('c');
    cluster.tickAll(100);
    assert.equal(cluster.status('c').term, term, 'pre-votes failed, so c never bumped its term');
    assert.notEqual(cluster.status('c').role, 'leader');
    cluster.heal();
    cluster.tickAll(5);
    assert.equal(cluster.leader(), 'a');
    assert.equal(cluster.status('a').term, term, 'the leader keeps its term');
    assert.equal(cluster.status('c').leader, 'a');
  });

  test('without PreVote (and CheckQuorum) the same rejoin disrupts the leader: the scenario is sensitive', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], config: { preVote: false, checkQuorum: false } });
    cluster.elect('a');
    const term = cluster.status('a').term;
    cluster.isolate('c');
    cluster.tickAll(100);
    assert.ok(cluster.status('c').term > term, 'c campaigned in new terms while cut off');
    cluster.heal();
    cluster.tickAll(20);
    assert.ok(cluster.status('a').term > term, 'the leader was forced into a new term');
  });

  test('a pre-candidate with a stale log is refused and the term does not move', () => {
    // CheckQuorum off: b's lease would otherwise make it ignore c altogether.
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], config: { checkQuorum: false } });
    cluster.elect('a');
    cluster.isolate('c');
    cluster.propose('a', 'x');
    cluster.crash('a');
    cluster.heal();
    const term = cluster.status('b').term;
    cluster.campaign('c');
    const answer = cluster.sent.find((m) => m.from === 'b' && m.to === 'c' && m.type === 'preVoteResp');
    assert.equal(answer?.reject, true, 'b refuses: c lacks the entry b holds');
    assert.notEqual(cluster.status('c').role, 'leader');
    assert.ok(!cluster.sent.some((m) => m.from === 'c' && m.type === 'vote'), 'no real election was started');
    assert.equal(cluster.status('b').term, term, 'b never changed term');
    assert.equal(cluster.status('c').term, term);
  });
});

describe('CheckQuorum', () => {
  test('an isolated leader steps down within two election timeouts; the rest elect a new one', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.isolate('a');
    cluster.tickAll(20);
    assert.equal(cluster.status('a').role, 'follower', 'lost its lease');
    assert.equal(cluster.status('a').leader, null);
    cluster.tickAll(20);
    const leader = cluster.leader();
    assert.ok(leader === 'b' || leader === 'c');
  });

  test('without CheckQuorum the isolated leader never notices: the scenario is sensitive', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'], config: { checkQuorum: false } });
    cluster.elect('a');
    cluster.isolate('a');
    cluster.tickAll(40);
    assert.equal(cluster.status('a').role, 'leader');
  });

  test('a leader with a live quorum keeps leading through many election timeouts', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c', 'd', 'e'] });
    cluster.elect('a');
    cluster.partition(['a', 'b', 'c'], ['d', 'e']);
    cluster.tickAll(100);
    assert.equal(cluster.leader(), 'a');
    assert.equal(cluster.status('a').role, 'leader');
  });

  test('lease: a follower that hears from its leader ignores a vote request with a higher term', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    const term = cluster.status('b').term;
    const b = cluster.node('b');
    b.raw.step(message({ type: 'vote', from: 'c', to: 'b', term: term + 5, index: 99, logTerm: 99 }));
    cluster.stabilize();
    assert.equal(cluster.status('b').term, term, 'no term change');
    assert.equal(cluster.status('b').leader, 'a');
    assert.ok(!cluster.sent.some((m) => m.from === 'b' && m.to === 'c' && m.type === 'voteResp'), 'not even a reply');
    // Once the leader has been silent for an election timeout, the lease is over.
    cluster.isolate('a');
    cluster.tick('b', 10);
    b.raw.step(message({ type: 'vote', from: 'c', to: 'b', term: term + 5, index: 99, logTerm: 99 }));
    cluster.stabilize();
    assert.equal(cluster.status('b').term, term + 5);
  });
});
