// A tiny synchronous network of RawNodes for unit tests. Each Ready is persisted to the node's
// MemoryStorage before its messages are queued; messages are delivered in FIFO order, subject
// to partitions and an optional filter. Not a fault simulator (that lives in test/sim).

import assert from 'node:assert/strict';
import { decodeConfChange, encodeConfChange } from '../../../src/raft/conf-change.ts';
import { MemoryStorage } from '../../../src/raft/memory-storage.ts';
import { RawNode } from '../../../src/raft/raw-node.ts';
import type { ConfChange, ConfState, Config, Entry, Message, NodeId, ReadState, Status } from '../../../src/raft/types.ts';

export const text = (value: string): Uint8Array => new TextEncoder().encode(value);
export const str = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

export interface TestNode {
  id: NodeId;
  raw: RawNode;
  storage: MemoryStorage;
  /** Applied application payloads (non-empty normal entries), in order. */
  applied: string[];
  appliedIndex: number;
  confState: ConfState;
  readStates: ReadState[];
  /** Every entry this node applied, for state machine safety checks. */
  appliedEntries: Entry[];
  up: boolean;
}

export interface ClusterOptions {
  voters: NodeId[];
  learners?: NodeId[];
  /** Nodes that start with empty storage (to be added later by a conf change). */
  joiners?: NodeId[];
  config?: Partial<Omit<Config, 'id' | 'storage'>>;
  /** Per-node config overrides. */
  nodeConfig?: Record<NodeId, Partial<Omit<Config, 'id' | 'storage'>>>;
  seed?: number;
}

export type MessageFilter = (message: Message) => boolean;

export class Cluster {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages waiting for delivery. */
  queue: Message[] = [];
  /** Every message ever sent (for assertions), in send order. */
  readonly sent: Message[] = [];
  /** Return false to drop a message. */
  filter: MessageFilter = () => true;
  #groups: NodeId[][] | null = null;
  readonly #options: ClusterOptions;
  /** term -> leader, across the whole run: Election Safety. */
  readonly leadersByTerm = new Map<number, NodeId>();
  /** Highest commit ever seen per node: commit never goes back. */
  readonly #maxCommit = new Map<NodeId, number>();

  constructor(options: ClusterOptions) {
    this.#options = options;
    const confState: ConfState = { voters: [...options.voters].sort(), learners: [...(options.learners ?? [])].sort() };
    for (const id of [...confState.voters, ...confState.learners]) this.#addNode(id, new MemoryStorage({ confState }));
    for (const id of options.joiners ?? []) this.#addNode(id, new MemoryStorage());
  }

  #configFor(id: NodeId, storage: MemoryStorage, applied: number): Config {
    const seed = (this.#options.seed ?? 1) * 7919 + [...id].reduce((sum, ch) => sum + ch.charCodeAt(0), 0);
    return { id, storage, seed, applied, ...this.#options.config, ...this.#options.nodeConfig?.[id] };
  }

  #addNode(id: NodeId, storage: MemoryStorage): TestNode {
    const snapshot = storage.snapshot();
    const node: TestNode = {
      id,
      raw: new RawNode(this.#configFor(id, storage, snapshot.metadata.index)),
      storage,
      applied: decodeState(snapshot.data),
      appliedIndex: snapshot.metadata.index,
      confState: storage.initialState().confState,
      readStates: [],
      appliedEntries: [],
      up: true,
    };
    this.nodes.set(id, node);
    return node;
  }

  /** Adds a node with empty storage to the network (it still has to be added by conf change). */
  addEmptyNode(id: NodeId): TestNode {
    return this.#addNode(id, new MemoryStorage());
  }

  node(id: NodeId): TestNode {
    const node = this.nodes.get(id);
    assert.ok(node, `no node ${id}`);
    return node;
  }

  status(id: NodeId): Status {
    return this.node(id).raw.status();
  }

  /** Splits the network: messages cross only within a group. Nodes not listed are isolated. */
  partition(...groups: NodeId[][]): void {
    this.#groups = groups;
  }

  isolate(id: NodeId): void {
    const others = [...this.nodes.keys()].filter((other) => other !== id);
    this.partition([id], others);
  }

  heal(): void {
    this.#groups = null;
  }

  #connected(from: NodeId, to: NodeId): boolean {
    if (this.#groups === null) return true;
    return this.#groups.some((group) => group.includes(from) && group.includes(to));
  }

  /**
   * Simulates a crash: storage survives, memory does not; the node stays down until restart().
   * Messages it already sent are still on the wire; those addressed to it are lost.
   */
  crash(id: NodeId): void {
    this.node(id).up = false;
    for (const lost of this.queue.filter((m) => m.to === id)) this.#reportLostSnapshot(lost);
    this.queue = this.queue.filter((m) => m.to !== id);
  }

  /** Like a real transport, tell the leader when a snapshot could not be delivered. */
  #reportLostSnapshot(message: Message): void {
    const sender = this.nodes.get(message.from);
    if (message.type === 'snap' && sender?.up) sender.raw.reportSnapshot(message.to, false);
  }

  /** Rebuilds a crashed node from its storage, with the applied index it had. */
  restart(id: NodeId): void {
    const node = this.node(id);
    node.raw = new RawNode(this.#configFor(id, node.storage, node.appliedIndex));
    node.up = true;
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) {
      this.node(id).raw.tick();
      this.stabilize();
    }
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const node of this.nodes.values()) if (node.up) node.raw.tick();
      this.stabilize();
    }
  }

  campaign(id: NodeId): void {
    this.node(id).raw.campaign();
    this.stabilize();
  }

  /** Elects `id` by campaigning and asserts it won. */
  elect(id: NodeId): void {
    this.campaign(id);
    assert.equal(this.status(id).role, 'leader', `${id} should have won the election`);
  }

  propose(id: NodeId, data: string): void {
    this.node(id).raw.propose(text(data));
    this.stabilize();
  }

  proposeConfChange(id: NodeId, change: ConfChange): void {
    this.node(id).raw.proposeConfChange(change);
    this.stabilize();
  }

  /** Handles every node's Ready (persist, queue messages, apply, advance). */
  processReadies(): boolean {
    let any = false;
    for (const node of this.nodes.values()) {
      while (this.processReady(node.id)) any = true;
    }
    return any;
  }

  /** Handles one Ready of one node, if it has one. */
  processReady(id: NodeId): boolean {
    const node = this.node(id);
    if (!node.up || !node.raw.hasReady()) return false;
    const ready = node.raw.ready();
    const update: Parameters<MemoryStorage['save']>[0] = { entries: ready.entries, mustSync: ready.mustSync };
    if (ready.hardState) update.hardState = ready.hardState;
    if (ready.snapshot) update.snapshot = ready.snapshot;
    node.storage.save(update);
    for (const message of ready.messages) {
      this.sent.push(message);
      this.queue.push(message);
    }
    if (ready.snapshot) {
      node.applied = decodeState(ready.snapshot.data);
      node.confState = ready.snapshot.metadata.confState;
      node.appliedIndex = ready.snapshot.metadata.index;
    }
    for (const entry of ready.committedEntries) {
      assert.equal(entry.index, node.appliedIndex + 1, `${node.id} applies entries in order`);
      node.appliedIndex = entry.index;
      node.appliedEntries.push(entry);
      if (entry.type === 'confChange') node.confState = node.raw.applyConfChange(decodeConfChange(entry.data));
      else if (entry.data.length > 0) node.applied.push(str(entry.data));
    }
    node.readStates.push(...ready.readStates);
    node.raw.advance(ready);
    return true;
  }

  /** Delivers one queued message; returns false when the queue is empty. */
  deliverOne(): boolean {
    const message = this.queue.shift();
    if (message === undefined) return false;
    this.#deliver(message);
    return true;
  }

  #deliver(message: Message): void {
    const target = this.nodes.get(message.to);
    if (!target?.up || !this.#connected(message.from, message.to)) {
      this.#reportLostSnapshot(message);
      return;
    }
    // Messages the test filter drops are lost silently: the test decides what to report.
    if (this.filter(message)) target.raw.step(message);
  }

  /** Runs until no node has work and no message is in flight. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      const worked = this.processReadies();
      this.checkInvariants();
      if (this.queue.length === 0 && !worked) return;
      const batch = this.queue;
      this.queue = [];
      for (const message of batch) this.#deliver(message);
    }
    assert.fail('cluster did not stabilize');
  }

  /** Current leader as seen by the highest-term node claiming leadership. */
  leader(): NodeId | null {
    let best: { id: NodeId; term: number } | null = null;
    for (const node of this.nodes.values()) {
      if (!node.up) continue;
      const status = node.raw.status();
      if (status.role === 'leader' && (best === null || status.term > best.term)) best = { id: node.id, term: status.term };
    }
    return best?.id ?? null;
  }

  /** The persisted log of a node (entries in storage). */
  log(id: NodeId): Entry[] {
    const storage = this.node(id).storage;
    if (storage.lastIndex() < storage.firstIndex()) return [];
    return storage.entries(storage.firstIndex(), storage.lastIndex() + 1);
  }

  /**
   * Raft's safety properties, checked after every round:
   * Election Safety, Log Matching, State Machine Safety, and commit monotonicity.
   */
  checkInvariants(): void {
    for (const node of this.nodes.values()) {
      if (!node.up) continue;
      const status = node.raw.status();
      if (status.role === 'leader') {
        const known = this.leadersByTerm.get(status.term);
        assert.ok(known === undefined || known === node.id, `two leaders in term ${status.term}: ${known} and ${node.id}`);
        this.leadersByTerm.set(status.term, node.id);
      }
      const before = this.#maxCommit.get(node.id) ?? 0;
      assert.ok(status.commit >= before, `${node.id} commit went back from ${before} to ${status.commit}`);
      this.#maxCommit.set(node.id, status.commit);
    }
    const nodes = [...this.nodes.values()];
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) {
        assertLogMatching(this.log(nodes[i]!.id), this.log(nodes[j]!.id), nodes[i]!.id, nodes[j]!.id);
        assertAppliedPrefix(nodes[i]!, nodes[j]!);
      }
    }
  }
}

/** If two logs hold an entry with the same index and term, they agree up to that index. */
function assertLogMatching(a: Entry[], b: Entry[], nameA: string, nameB: string): void {
  const byIndexB = new Map(b.map((entry) => [entry.index, entry]));
  let highestShared = -1;
  for (const entry of a) {
    const other = byIndexB.get(entry.index);
    if (other && other.term === entry.term) highestShared = entry.index;
  }
  for (const entry of a) {
    if (entry.index > highestShared) break;
    const other = byIndexB.get(entry.index);
    if (other === undefined) continue;
    assert.equal(other.term, entry.term, `log matching: ${nameA}/${nameB} differ at ${entry.index}`);
    assert.deepEqual(other.data, entry.data, `log matching: ${nameA}/${nameB} data differ at ${entry.index}`);
  }
}

/** No two nodes apply different entries at the same index. */
function assertAppliedPrefix(a: TestNode, b: TestNode): void {
  const byIndex = new Map(a.appliedEntries.map((entry) => [entry.index, entry]));
  for (const entry of b.appliedEntries) {
    const other = byIndex.get(entry.index);
    if (other === undefined) continue;
    assert.equal(other.term, entry.term, `state machine safety: ${a.id}/${b.id} applied different entries at ${entry.index}`);
    assert.deepEqual(other.data, entry.data, `state machine safety: ${a.id}/${b.id} applied different data at ${entry.index}`);
  }
}

export function encodeState(applied: string[]): Uint8Array {
  return text(JSON.stringify(applied));
}

export function decodeState(data: Uint8Array): string[] {
  return data.length === 0 ? [] : (JSON.parse(str(data)) as string[]);
}

/** Takes a snapshot of `id`'s state machine at its applied index and compacts the log up to it. */
export function snapshotAndCompact(cluster: Cluster, id: NodeId): number {
  const node = cluster.node(id);
  node.storage.createSnapshot(node.appliedIndex, node.confState, encodeState(node.applied));
  node.storage.compact(node.appliedIndex);
  return node.appliedIndex;
}

export function message(partial: Partial<Message> & Pick<Message, 'type' | 'from' | 'to'>): Message {
  return { term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...partial };
}

export { encodeConfChange };
