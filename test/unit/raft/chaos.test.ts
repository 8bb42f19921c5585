// A seeded free-for-all on the in-test network: message loss, delay, duplication and reordering,
// crashes and restarts, partitions, snapshots with compaction, membership changes, reads and
// transfers. The harness checks the safety properties after every step; at the end the
// network heals and every voter must converge on the same applied history.
// (The full fault simulator, with lost unsynced writes and linearizability checks, is test/sim.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProposalDroppedError } from '../../../src/raft/errors.ts';
import { createPrng } from '../../../src/raft/prng.ts';
import type { ConfChange } from '../../../src/raft/types.ts';
import { Cluster, snapshotAndCompact, text } from './harness.ts';

function chaos(seed: number, ticksOneIn: number, steps: number): void {
  const prng = createPrng(seed);
  const all = ['a', 'b', 'c', 'd', 'e'];
  const cluster = new Cluster({
    voters: ['a', 'b', 'c'],
    joiners: ['d', 'e'],
    seed,
    config: { maxInflightMsgs: 4, maxSizePerMsgBytes: 64 },
  });
  const changeTypes: ConfChange['type'][] = ['addVoter', 'addLearner', 'removeNode'];
  for (let step = 0; step < steps; step++) {
    cluster.processReadies();
    cluster.checkInvariants();
    const inFlight = cluster.queue;
    cluster.queue = [];
    for (const message of inFlight) {
      const roll = prng.nextInt(100);
      if (roll < 10) {
        // lost; a transport would notice a failed snapshot stream
        const sender = cluster.node(message.from);
        if (message.type === 'snap' && sender.up) sender.raw.reportSnapshot(message.to, false);
        continue;
      }
      if (roll < 20) {
        cluster.queue.push(message); // delayed (and so reordered)
        continue;
      }
      if (roll < 25) cluster.queue.push(message); // duplicated
      cluster.queue.unshift(message);
      cluster.deliverOne();
    }
    for (const node of cluster.nodes.values()) if (node.up && prng.nextInt(ticksOneIn) === 0) node.raw.tick();
    if (step % 97 === 0) {
      const victim = all[prng.nextInt(all.length)]!;
      if (cluster.node(victim).up) cluster.crash(victim);
    }
    if (step % 97 === 50) for (const id of all) if (!cluster.node(id).up) cluster.restart(id);
    if (step % 150 === 75) {
      const cut = 1 + prng.nextInt(all.length - 1);
      cluster.partition(all.slice(0, cut), all.slice(cut));
    }
    if (step % 150 === 140) cluster.heal();
    if (step % 53 === 0) {
      const node = cluster.node(all[prng.nextInt(all.length)]!);
      if (node.up && node.appliedIndex > node.storage.snapshot().metadata.index) snapshotAndCompact(cluster, node.id);
    }
    const leader = cluster.leader();
    if (leader === null) continue;
    const raw = cluster.node(leader).raw;
    try {
      if (step % 41 === 0) {
        raw.proposeConfChange({ type: changeTypes[prng.nextInt(3)]!, nodeId: all[prng.nextInt(all.length)]! });
      } else if (step % 5 === 0) {
        raw.propose(text(`${seed}/${step}`));
      }
      if (step % 33 === 0) raw.readIndex(text(`r${step}`));
      if (step % 211 === 0) raw.transferLeadership(all[prng.nextInt(all.length)]!);
    } catch (error) {
      assert.ok(error instanceof ProposalDroppedError, String(error));
    }
  }
  cluster.heal();
  for (const id of all) if (!cluster.node(id).up) cluster.restart(id);
  cluster.tickAll(100);
  const leader = cluster.leader();
  assert.ok(leader, `seed ${seed}: a leader after healing`);
  cluster.propose(leader, 'final');
  const reference = cluster.node(leader).applied;
  assert.ok(reference.includes('final'));
  for (const id of cluster.status(leader).confState.voters) {
    assert.deepEqual(cluster.node(id).applied, reference, `seed ${seed}: voter ${id} converged`);
  }
  // Reads answered anywhere must never point past what that node could apply.
  for (const node of cluster.nodes.values()) {
    for (const read of node.readStates) assert.ok(read.index <= node.raw.status().commit);
  }
}

describe('chaos', () => {
  test('frequent elections (a tick every other step)', () => {
    for (let seed = 1; seed <= 15; seed++) chaos(seed, 2, 1000);
  });

  test('calmer clock (a tick every sixth step)', () => {
    for (let seed = 100; seed <= 110; seed++) chaos(seed, 6, 1500);
  });
});
