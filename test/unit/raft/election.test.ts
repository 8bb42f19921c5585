// Leader election: Election Safety (at most one leader per term), randomized timeouts, votes
// that survive restarts, and the up-to-date rule that gives Leader Completeness.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStorage } from '../../../src/raft/memory-storage.ts';
import { createPrng } from '../../../src/raft/prng.ts';
import { RawNode } from '../../../src/raft/raw-node.ts';
import type { Message, Ready } from '../../../src/raft/types.ts';
import { Cluster, message } from './harness.ts';

/** Persists a Ready to storage and advances; returns its messages. */
function drain(node: RawNode, storage: MemoryStorage): Message[] {
  const messages: Message[] = [];
  while (node.hasReady()) {
    const ready: Ready = node.ready();
    const update: Parameters<MemoryStorage['save']>[0] = { entries: ready.entries, mustSync: ready.mustSync };
    if (ready.hardState) update.hardState = ready.hardState;
    storage.save(update);
    messages.push(...ready.messages);
    node.advance(ready);
  }
  return messages;
}

const three = { voters: ['a', 'b', 'c'], learners: [] };

describe('election', () => {
  test('a cluster elects one leader that every node follows', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c', 'd', 'e'] });
    cluster.tickAll(25);
    const leader = cluster.leader();
    assert.ok(leader);
    for (const node of cluster.nodes.values()) {
      const status = node.raw.status();
      assert.equal(status.leader, leader, `${node.id} follows the leader`);
      assert.equal(status.term, cluster.status(leader).term);
    }
    assert.equal([...cluster.nodes.values()].filter((n) => n.raw.status().role === 'leader').length, 1);
  });

  test('the election timeout is randomized in [electionTimeoutTicks, 2*electionTimeoutTicks)', () => {
    const observed = new Set<number>();
    for (let seed = 1; seed <= 60; seed++) {
      const storage = new MemoryStorage({ confState: { voters: ['a'], learners: [] } });
      const node = new RawNode({ id: 'a', storage, seed, electionTimeoutTicks: 10 });
      let ticks = 0;
      while (node.status().role !== 'leader') {
        node.tick();
        ticks++;
        assert.ok(ticks < 20, `seed ${seed}: no election within 2 timeouts`);
      }
      assert.ok(ticks >= 10, `seed ${seed}: campaigned after only ${ticks} ticks`);
      observed.add(ticks);
    }
    assert.ok(observed.size >= 6, `timeouts should vary across seeds, saw ${[...observed]}`);
  });

  test('the timeout comes from the injected PRNG: same seed, same schedule', () => {
    const schedule = (prngSeed: number) => {
      const storage = new MemoryStorage({ confState: { voters: ['a'], learners: [] } });
      const node = new RawNode({ id: 'a', storage, prng: createPrng(prngSeed) });
      let ticks = 0;
      while (node.status().role !== 'leader') {
        node.tick();
        ticks++;
      }
      return ticks;
    };
    assert.equal(schedule(99), schedule(99));
  });

  test('a leader is re-elected after the leader crashes, in a higher term', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.propose('a', 'x');
    const oldTerm = cluster.status('a').term;
    cluster.crash('a');
    cluster.tickAll(30);
    const leader = cluster.leader();
    assert.ok(leader && leader !== 'a');
    assert.ok(cluster.status(leader).term > oldTerm);
    cluster.propose(leader, 'y');
    cluster.restart('a');
    cluster.tickAll(5);
    assert.equal(cluster.status('a').leader, leader, 'the old leader rejoins as follower');
    assert.deepEqual(cluster.node('a').applied, ['x', 'y']);
  });

  test('a node votes at most once per term, even across a restart', () => {
    const storage = new MemoryStorage({ confState: three });
    let b = new RawNode({ id: 'b', storage });
    // A fresh cluster starts at term 1 with the bootstrap snapshot at index 1.
    const vote = { index: 1, logTerm: 1, term: 2 };
    b.step(message({ type: 'vote', from: 'a', to: 'b', ...vote }));
    const granted = drain(b, storage).find((m) => m.type === 'voteResp');
    assert.equal(granted?.reject, false);
    assert.equal(storage.initialState().hardState.vote, 'a', 'the vote is in the persisted hard state');

    b = new RawNode({ id: 'b', storage });
    b.step(message({ type: 'vote', from: 'c', to: 'b', ...vote }));
    const second = drain(b, storage).find((m) => m.type === 'voteResp');
    assert.equal(second?.reject, true, 'a second candidate in the same term is refused');
    b.step(message({ type: 'vote', from: 'a', to: 'b', ...vote }));
    assert.equal(drain(b, storage).find((m) => m.type === 'voteResp')?.reject, false, 'repeating the vote is fine');
  });

  test('votes go only to candidates whose log is at least as up to date (§5.4.1)', () => {
    const storage = new MemoryStorage({ confState: three });
    storage.append([
      { index: 1, term: 1, type: 'normal', data: new Uint8Array() },
      { index: 2, term: 2, type: 'normal', data: new Uint8Array() },
    ]);
    storage.setHardState({ term: 2, vote: null, commit: 0 });
    const cases: { index: number; logTerm: number; granted: boolean }[] = [
      { index: 5, logTerm: 1, granted: false },
      { index: 1, logTerm: 2, granted: false },
      { index: 2, logTerm: 2, granted: true },
      { index: 1, logTerm: 3, granted: true },
    ];
    for (const [i, c] of cases.entries()) {
      const node = new RawNode({ id: 'b', storage: cloneStorage(storage) });
      node.step(message({ type: 'vote', from: 'a', to: 'b', term: 3 + i, index: c.index, logTerm: c.logTerm }));
      const response = node.ready().messages.find((m) => m.type === 'voteResp');
      assert.equal(response?.reject, !c.granted, `candidate log (${c.index}, ${c.logTerm})`);
    }
  });

  test('Leader Completeness: a node missing committed entries cannot become leader', () => {
    const cluster = new Cluster({ voters: ['a', 'b', 'c'] });
    cluster.elect('a');
    cluster.isolate('c');
    for (const value of ['1', '2', '3']) cluster.propose('a', value);
    const committed = cluster.status('a').commit;
    cluster.crash('a');
    cluster.heal();
    for (let i = 0; i < 5; i++) {
      cluster.campaign('c');
      assert.notEqual(cluster.status('c').role, 'leader');
    }
    cluster.tickAll(40);
    assert.equal(cluster.leader(), 'b');
    const bLog = cluster.log('b');
    for (let index = cluster.node('b').storage.firstIndex(); index <= committed; index++) {
      assert.ok(bLog.some((entry) => entry.index === index), `new leader holds committed entry ${index}`);
    }
    assert.deepEqual(cluster.node('c').applied, ['1', '2', '3'], 'c catches up from the new leader');
  });

  test('Election Safety under random partitions and crashes (invariants checked every round)', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const prng = createPrng(seed);
      const ids = ['a', 'b', 'c', 'd', 'e'];
      const cluster = new Cluster({ voters: ids, seed });
      let proposals = 0;
      for (let step = 0; step < 400; step++) {
        if (step % 25 === 0) {
          const cut = 1 + prng.nextInt(ids.length - 1);
          const shuffled = [...ids].sort(() => prng.nextInt(3) - 1);
          if (prng.nextInt(3) === 0) cluster.heal();
          else cluster.partition(shuffled.slice(0, cut), shuffled.slice(cut));
        }
        if (step % 60 === 30) {
          const victim = ids[prng.nextInt(ids.length)]!;
          if (cluster.node(victim).up) cluster.crash(victim);
        }
        if (step % 60 === 50) for (const id of ids) if (!cluster.node(id).up) cluster.restart(id);
        const leader = cluster.leader();
        if (leader && step % 3 === 0) {
          try {
            cluster.node(leader).raw.propose(new TextEncoder().encode(`v${proposals++}`));
          } catch {
            // dropped during transfer or removal: fine
          }
        }
        cluster.tickAll(1);
      }
      cluster.heal();
      for (const id of ids) if (!cluster.node(id).up) cluster.restart(id);
      cluster.tickAll(60);
      const leader = cluster.leader();
      assert.ok(leader, `seed ${seed}: a leader after healing`);
      cluster.propose(leader, 'final');
      const reference = cluster.node(leader).applied;
      assert.ok(reference.includes('final'));
      for (const id of ids) assert.deepEqual(cluster.node(id).applied, reference, `seed ${seed}: ${id} converged`);
    }
  });
});

function cloneStorage(source: MemoryStorage): MemoryStorage {
  const copy = new MemoryStorage({ confState: source.initialState().confState });
  copy.append(source.entries(source.firstIndex(), source.lastIndex() + 1));
  copy.setHardState(source.initialState().hardState);
  return copy;
}
