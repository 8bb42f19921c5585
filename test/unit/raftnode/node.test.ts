import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { Message, NodeId } from '../../../src/raft/types.ts';
import { LevelStorage } from '../../../src/raftnode/level-storage.ts';
import { bootstrapSnapshotData, type PeerTransport, RaftNode, type RaftNodeOptions, RequestTimeoutError } from '../../../src/raftnode/node.ts';
import { encodeKv, type KvResult, KvStateMachine } from '../../lib/kv-state-machine.ts';
import { waitFor } from '../../lib/wait.ts';

/** Delivers messages between drivers in this process, asynchronously, unless a node is cut off. */
class Hub {
  readonly nodes = new Map<NodeId, RaftNode<KvResult>>();
  readonly isolated = new Set<NodeId>();

  transportFor(self: NodeId): PeerTransport {
    const peers = new Set<NodeId>();
    return {
      send: (messages: Message[]) => {
        for (const message of messages) {
          if (!peers.has(message.to) || this.isolated.has(self) || this.isolated.has(message.to)) continue;
          setImmediate(() => this.nodes.get(message.to)?.receive([message]));
          // Like TcpTransport: a snapshot handed to the network is reported, so the leader resumes probing.
          if (message.type === 'snap') setImmediate(() => this.nodes.get(self)?.reportSnapshot(message.to, true));
        }
      },
      addPeer: (id) => peers.add(id),
      removePeer: (id) => peers.delete(id),
    };
  }
}

interface Member {
  id: NodeId;
  dir: string;
  storage: LevelStorage;
  machine: KvStateMachine;
  node: RaftNode<KvResult>;
}

const logger = pino({ level: 'silent' });
const fastTimers = { tickIntervalMs: 10, electionTimeoutTicks: 10, requestTimeoutMs: 3_000 };

async function startMember(hub: Hub, root: string, id: NodeId, voters: NodeId[], extra: Partial<RaftNodeOptions<KvResult>> = {}): Promise<Member> {
  const dir = join(root, id);
  const members = Object.fromEntries(voters.map((voter) => [voter, `mem://${voter}`]));
  const storage = await LevelStorage.open(dir, { voters, learners: [] }, voters.length > 0 ? bootstrapSnapshotData(members) : undefined);
  const machine = new KvStateMachine();
  const node = new RaftNode<KvResult>({
    id,
    storage,
    stateMachine: machine,
    transport: hub.transportFor(id),
    logger,
    initialMembers: members,
    ...fastTimers,
    ...extra,
  });
  hub.nodes.set(id, node);
  await node.start();
  return { id, dir, storage, machine, node };
}

async function stopMember(hub: Hub, member: Member): Promise<void> {
  await member.node.stop();
  hub.nodes.delete(member.id);
  await member.storage.close();
}

function leaderOf(members: Member[]): Member | undefined {
  return members.find((member) => member.node.status().role === 'leader');
}

async function withCluster(size: number, body: (hub: Hub, members: Member[], root: string) => Promise<void>, extra: Partial<RaftNodeOptions<KvResult>> = {}): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bramble-raftnode-'));
  const hub = new Hub();
  const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const members: Member[] = [];
  try {
    for (const id of ids) members.push(await startMember(hub, root, id, ids, extra));
    await body(hub, members, root);
  } finally {
    for (const member of members) await stopMember(hub, member).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}

describe('RaftNode driver', () => {
  test('elects a leader; proposals on the leader and on followers apply everywhere in the same order', async () => {
    await withCluster(3, async (_hub, members) => {
      const leader = await waitFor('a leader', () => leaderOf(members));
      const follower = members.find((member) => member !== leader)!;
      assert.deepEqual(await leader.node.propose(encodeKv({ op: 'put', key: 'a', value: '1' })), { ok: true, previous: null });
      assert.deepEqual(await follower.node.propose(encodeKv({ op: 'put', key: 'a', value: '2' })), { ok: true, previous: '1' });
      assert.deepEqual(await follower.node.propose(encodeKv({ op: 'cas', key: 'a', expected: '1', value: '3' })), { ok: false, previous: '2' });
      const writes = await Promise.all(Array.from({ length: 50 }, (_, i) => members[i % 3]!.node.propose(encodeKv({ op: 'put', key: `k${i}`, value: `v${i}` }))));
      assert.ok(writes.every((result) => 'ok' in result && result.ok));
      const lastIndex = leader.node.status().commit;
      await waitFor('every node applied everything', () => members.every((member) => member.machine.appliedIndex() >= lastIndex));
      for (const member of members) {
        assert.equal(member.machine.data.get('a'), '2');
        assert.equal(member.machine.data.size, 51);
        assert.deepEqual(member.machine.appliedIndices, members[0]!.machine.appliedIndices.slice(0, member.machine.appliedIndices.length));
      }
    });
  });

  test('a linearizable read on a follower sees a write acknowledged just before', async () => {
    await withCluster(3, async (_hub, members) => {
      const leader = await waitFor('a leader', () => leaderOf(members));
      const followers = members.filter((member) => member !== leader);
      for (let i = 0; i < 20; i++) {
        await leader.node.propose(encodeKv({ op: 'put', key: 'x', value: String(i) }));
        const reader = followers[i % 2]!;
        await reader.node.linearizableRead();
        assert.equal(reader.machine.data.get('x'), String(i));
      }
    });
  });

  test('a read in flight to a leader that dies is asked again of the new leader, not left to time out', async () => {
    await withCluster(3, async (hub, members) => {
      const leader = await waitFor('a leader', () => leaderOf(members));
      const [reader, other] = members.filter((member) => member !== leader) as [Member, Member];
      await leader.node.propose(encodeKv({ op: 'put', key: 'x', value: 'before' }));
      await waitFor('the reader knows the leader', () => reader.node.status().leader === leader.id);
      // Cut the leader off, then read on a follower that still believes in it: its ReadIndex
      // request goes to the dead leader and is lost.
      hub.isolated.add(leader.id);
      const read = reader.node.linearizableRead();
      // With the whole request timeout left, only a re-sent read can resolve; a lost one rejects.
      const newLeader = await waitFor('a new leader', () => leaderOf([reader, other]), 20_000);
      await newLeader.node.propose(encodeKv({ op: 'put', key: 'x', value: 'after' }));
      await read;
      assert.notEqual(newLeader.id, leader.id);
      assert.ok(['before', 'after'].includes(reader.machine.data.get('x') ?? ''), 'the read sees the write acknowledged before it');
    }, { requestTimeoutMs: 60_000 });
  });

  test('a timed-out request says what it did: a read changed nothing; a write no leader received was not applied; a handed-over write has an unknown outcome', () => {
    assert.equal(new RequestTimeoutError('read', 5000).message, 'read got no answer within 5000 ms (the leader is unreachable or lost quorum); it changed nothing and may be retried');
    assert.equal(new RequestTimeoutError('read', 5000, false).message, 'read found no leader within 5000 ms (quorum lost, or an election in progress); it changed nothing and may be retried');
    assert.equal(new RequestTimeoutError('proposal', 5000, false).message, 'proposal found no leader within 5000 ms (quorum lost, or an election in progress); it was not applied (nothing was proposed) and may be retried');
    assert.equal(new RequestTimeoutError('proposal', 5000).message, 'proposal got no answer within 5000 ms (the leader is unreachable or lost quorum); its outcome is unknown: it may still be applied');
    assert.equal(new RequestTimeoutError('proposal', 5000).notApplied, false);
    assert.equal(new RequestTimeoutError('proposal', 5000, false).notApplied, true);
    assert.equal(new RequestTimeoutError('read', 5000).notApplied, true);
  });

  test('without a quorum a proposal on the leader times out instead of hanging, its outcome unknown (it was appended)', async () => {
    await withCluster(3, async (hub, members) => {
      const leader = await waitFor('a leader', () => leaderOf(members));
      for (const member of members) if (member !== leader) hub.isolated.add(member.id);
      const error = await leader.node.propose(encodeKv({ op: 'put', key: 'lost', value: '1' })).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof RequestTimeoutError, String(error));
      assert.equal(error.handedOver, true);
      assert.equal(error.timeoutMs, 3_000, 'the error names the whole request timeout');
    });
  });

  test('a proposal on a node that knows no leader is not applied, and the error says so', async () => {
    await withCluster(3, async (hub, members) => {
      const leader = await waitFor('a leader', () => leaderOf(members));
      const follower = members.find((member) => member !== leader)!;
      hub.isolated.add(follower.id);
      await waitFor('the cut-off follower knows no leader', () => follower.node.status().leader === null, 20_000);
      const error = await follower.node.propose(encodeKv({ op: 'put', key: 'never', value: '1' })).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof RequestTimeoutError, String(error));
      assert.equal(error.handedOver, false);
      assert.equal(error.notApplied, true);
      hub.isolated.delete(follower.id);
      await waitFor('the follower rejoins a leader', () => follower.node.status().leader !== null, 20_000);
      await waitFor('the follower has applied what the leader has', () => follower.machine.appliedIndex() >= leader.machine.appliedIndex(), 20_000);
      assert.equal(follower.machine.data.get('never'), undefined, 'nothing was written');
    });
  });

  test('leaderProblem: null while a leader with quorum is heard from; names the problem once quorum is lost', async () => {
    await withCluster(3, async (hub, members) => {
      const leader = await waitFor('a leader', () => leaderOf(members));
      const bound = 5 * leader.node.electionTimeoutMs;
      for (const member of members) await waitFor(`${member.id} sees a healthy leader`, () => member.node.leaderProblem(bound) === null, 20_000);
      const [follower, other] = members.filter((member) => member !== leader) as [Member, Member];
      hub.isolated.add(leader.id);
      hub.isolated.add(other.id);
      // The follower alone: its leader goes silent, then it campaigns and knows none.
      const followerProblem = await waitFor('the lone follower reports a problem', () => follower.node.leaderProblem(bound) ?? undefined, 20_000);
      assert.match(followerProblem, /^(no leader is known \(term \d+, this node is (follower|preCandidate|candidate)\)|leader n\d last heard from \d+ ms ago \(bound \d+ ms\))$/);
      // The leader alone: it hears from no other voter.
      const leaderProblem = await waitFor('the lone leader reports a problem', () => leader.node.leaderProblem(bound) ?? undefined, 20_000);
      assert.match(leaderProblem, /^(this node leads but heard from only 1 of 3 voters within \d+ ms \(quorum 2\)|no leader is known .*)$/);
      hub.isolated.clear();
      for (const member of members) await waitFor(`${member.id} sees a healthy leader again`, () => member.node.leaderProblem(bound) === null, 20_000);
    });
  });

  test('snapshots compact the log; a new learner catches up from a snapshot and is promoted', async () => {
    await withCluster(3, async (hub, members, root) => {
      for (const member of members) await stopMember(hub, member);
      members.splice(0);
      const ids = ['n1', 'n2', 'n3'];
      for (const id of ids) members.push(await startMember(hub, root, id, ids, { snapshotEveryEntries: 20, entriesKeptAfterSnapshot: 5 }));
      const leader = await waitFor('a leader', () => leaderOf(members));
      for (let i = 0; i < 60; i++) await leader.node.propose(encodeKv({ op: 'put', key: `k${i % 7}`, value: `v${i}` }));
      assert.ok(leader.storage.firstIndex() > 10, `the log was compacted (first index ${leader.storage.firstIndex()})`);

      const newcomer = await startMember(hub, root, 'n4', [], { snapshotEveryEntries: 20, entriesKeptAfterSnapshot: 5, initialMembers: Object.fromEntries(ids.map((id) => [id, `mem://${id}`])) });
      members.push(newcomer);
      await members.find((member) => member !== leader && member.id !== 'n4')!.node.addLearner('n4', 'mem://n4');
      await waitFor('n4 promoted to voter', () => leader.node.status().confState.voters.includes('n4'));
      await waitFor('n4 caught up', () => newcomer.machine.appliedIndex() >= leader.machine.appliedIndex());
      assert.deepEqual([...newcomer.machine.data.entries()].sort(), [...leader.machine.data.entries()].sort());
      assert.ok(newcomer.storage.snapshot().metadata.index > 0, 'n4 started from a snapshot');
    });
  });

  test('a node joining a cluster that never compacted learns the initial membership from the bootstrap snapshot', async () => {
    await withCluster(3, async (hub, members, root) => {
      const leader = await waitFor('a leader', () => leaderOf(members));
      for (let i = 0; i < 5; i++) await leader.node.propose(encodeKv({ op: 'put', key: `k${i}`, value: `v${i}` }));
      // As after `bramble up --join`: it knows where the members listen, but not who votes.
      const newcomer = await startMember(hub, root, 'n4', [], { initialMembers: { n1: 'mem://n1', n2: 'mem://n2', n3: 'mem://n3' } });
      members.push(newcomer);
      await leader.node.addLearner('n4', 'mem://n4');
      await waitFor('n4 promoted', () => newcomer.node.status().confState.voters.includes('n4'));
      assert.deepEqual([...newcomer.node.status().confState.voters].sort(), ['n1', 'n2', 'n3', 'n4']);
      await waitFor('n4 has the data', () => newcomer.machine.data.size === 5);
    });
  });

  test('a restarted node rebuilds its state machine from snapshot and log and rejoins', async () => {
    await withCluster(3, async (hub, members, root) => {
      const leader = await waitFor('a leader', () => leaderOf(members));
      for (let i = 0; i < 30; i++) await leader.node.propose(encodeKv({ op: 'put', key: `k${i}`, value: `v${i}` }));
      const victimIndex = members.findIndex((member) => member !== leader);
      const victim = members[victimIndex]!;
      await stopMember(hub, victim);
      await leader.node.propose(encodeKv({ op: 'put', key: 'while-down', value: 'yes' }));
      const restarted = await startMember(hub, root, victim.id, ['n1', 'n2', 'n3']);
      members[victimIndex] = restarted;
      await waitFor('restarted node caught up', () => restarted.machine.data.get('while-down') === 'yes');
      assert.equal(restarted.machine.data.size, 31);
    });
  });
});
