// One simulated node: a RawNode on a simulated disk with the KV state machine, driven the way
// a real driver must drive it (src/raft/README.md, "Ready / advance contract"):
//
//   1. persist the Ready (snapshot, entries, hard state) to the disk;
//   2. if it must be synced, wait for the fsync: the node keeps ticking and receiving, but the
//      Ready's messages stay held and no further Ready is taken;
//   3. send the messages, apply the snapshot and committed entries (applyConfChange for
//      membership entries), answer clients and reads, then advance.
//
// A crash discards the process (RawNode, state machine, waiting clients) and every write the
// disk had not synced; a restart rebuilds both from the durable state alone.

import {
  applyChangeToConfState,
  decodeConfChange,
  ProposalDroppedError,
  RawNode,
} from '../../src/raft/index.ts';
import type {
  ConfChange,
  ConfState,
  Message,
  NodeId,
  Prng,
  Ready,
  Role,
  TestingMutations,
} from '../../src/raft/index.ts';
import type { SimDisk } from './disk.ts';
import { storageView, InvariantViolation } from './invariants.ts';
import type { InvariantChecker, LogView } from './invariants.ts';
import { KvMachine } from './kv-machine.ts';
import type { CommandResult } from './kv-machine.ts';
import type { TraceDigest } from './trace.ts';

/** Raft settings shared by every node of one run. */
export interface RaftSettings {
  electionTimeoutTicks: number;
  heartbeatIntervalTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxSizePerMsgBytes: number;
  maxInflightMsgs: number;
  testingMutations: TestingMutations;
}

/** What a node needs from the simulation around it. */
export interface NodeWorld {
  readonly nowMs: number;
  readonly invariants: InvariantChecker;
  readonly trace: TraceDigest;
  /** Hands a message to the network (the node already checked what it promises). */
  send(from: SimNode, message: Message): void;
  /** An fsync of `node`'s disk completes at `atMs`. */
  scheduleFsync(node: SimNode, generation: number, fsyncId: number, atMs: number): void;
  /** A fresh PRNG stream for a new RawNode incarnation. */
  nextRaftPrng(): Prng;
  /** The node applied a membership change at `index`. */
  onConfApplied(node: SimNode, index: number, confState: ConfState): void;
  /** A crash trap fired: crash `node` as soon as the current event is done. */
  requestCrash(node: SimNode, reason: string): void;
  /** `node` just reported itself leader of `term` (first Ready of its leadership). */
  onBecameLeader(node: SimNode, term: number): void;
  /** `node`, leading `term`, advanced its commit index to `commit`; this Ready's messages have not left yet. */
  onLeaderCommit(node: SimNode, term: number, commit: number): void;
}

export interface ProposalWaiter {
  onResult(result: CommandResult): void;
  /** The node crashed: the answer will never come from it. */
  onLost(): void;
}

export interface ReadWaiter {
  key: string;
  onValue(value: string | null): void;
  onLost(): void;
}

/**
 * Where a crash trap fires: right after a vote or append ack left, after a write before its
 * fsync, after a client write was acknowledged, or right after a leader advanced its commit
 * index (before the rest of the cluster hears of it).
 */
export type CrashTrap = 'afterAckSent' | 'afterPersist' | 'afterClientAck' | 'afterLeaderCommit';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const LEADER_MESSAGES = new Set<Message['type']>(['app', 'heartbeat', 'snap', 'timeoutNow', 'readIndexResp']);

export class SimNode {
  readonly id: NodeId;
  readonly disk: SimDisk;
  up = true;
  /** Bumped on every crash; events scheduled for an earlier incarnation are void. */
  incarnation = 0;
  kv: KvMachine;
  /** Membership as of kv.appliedIndex. */
  confState: ConfState;
  /** Last role and term seen in a Ready (or from status() when the role changed). */
  role: Role = 'follower';
  term = 0;
  /** The term this node leads, while its latest Ready says it is leader. */
  leaderTerm: number | null = null;
  crashTrap: CrashTrap | null = null;
  readonly stats = { readies: 0, fsyncWaits: 0, crashes: 0, lostWrites: 0, snapshotsInstalled: 0, compactions: 0 };

  #raw: RawNode | null = null;
  #waiting: { ready: Ready; fsyncId: number } | null = null;
  #commit = 0;
  readonly #proposals = new Map<number, ProposalWaiter>();
  readonly #reads = new Map<string, ReadWaiter>();
  #readsWaitingApply: { index: number; waiter: ReadWaiter }[] = [];
  readonly #world: NodeWorld;
  readonly #settings: RaftSettings;

  constructor(id: NodeId, disk: SimDisk, world: NodeWorld, settings: RaftSettings) {
    this.id = id;
    this.disk = disk;
    this.#world = world;
    this.#settings = settings;
    const snapshot = disk.durable.snapshot();
    this.kv = snapshot.metadata.index > 0 ? KvMachine.fromSnapshot(snapshot.metadata.index, snapshot.data) : KvMachine.empty();
    this.confState = disk.durable.initialState().confState;
    this.#start();
  }

  get waitingForFsync(): boolean {
    return this.#waiting !== null;
  }

  get commit(): number {
    return this.#commit;
  }

  /** The RawNode of the running incarnation (tests and the fault scheduler read status()). */
  get raw(): RawNode | null {
    return this.#raw;
  }

  isVoter(): boolean {
    return this.confState.voters.includes(this.id);
  }

  isMember(): boolean {
    return this.isVoter() || this.confState.learners.includes(this.id);
  }

  liveLog(): LogView {
    return storageView(this.disk.live);
  }

  durableLog(): LogView {
    return storageView(this.disk.durable);
  }

  // ---- life cycle ----

  #start(): void {
    const durable = this.disk.durable;
    const { hardState } = durable.initialState();
    // The state machine is rebuilt from the durable snapshot plus the durable committed entries.
    this.#replayDurableCommitted(hardState.commit);
    this.#commit = hardState.commit;
    this.#world.invariants.onRestart(this.id, hardState.commit);
    const settings = this.#settings;
    this.#raw = this.#core('new RawNode', () =>
      new RawNode({
        id: this.id,
        storage: this.disk.live,
        electionTimeoutTicks: settings.electionTimeoutTicks,
        heartbeatIntervalTicks: settings.heartbeatIntervalTicks,
        preVote: settings.preVote,
        checkQuorum: settings.checkQuorum,
        maxSizePerMsgBytes: settings.maxSizePerMsgBytes,
        maxInflightMsgs: settings.maxInflightMsgs,
        prng: this.#world.nextRaftPrng(),
        applied: this.kv.appliedIndex,
        testingMutations: { ...settings.testingMutations },
      }),
    );
    this.role = 'follower';
    this.term = hardState.term;
    this.leaderTerm = null;
  }

  #replayDurableCommitted(commit: number): void {
    const durable = this.disk.durable;
    const snapshot = durable.snapshot();
    if (snapshot.metadata.index > 0) {
      this.kv = KvMachine.fromSnapshot(snapshot.metadata.index, snapshot.data);
      this.confState = copyConf(snapshot.metadata.confState);
    }
    const from = this.kv.appliedIndex + 1;
    if (commit < from) return;
    const view = storageView(durable);
    if (view.lastIndex() < commit) {
      // The core refuses this state too; report it as what it is.
      throw new InvariantViolation({
        invariant: 'commit-monotonic',
        nodeId: this.id,
        detail: `durable commit ${commit} is beyond the durable log (last index ${view.lastIndex()})`,
      });
    }
    for (const entry of durable.entries(from, commit + 1)) {
      this.kv.apply(entry);
      this.#world.invariants.onApply(this.id, entry.index, entry.term, this.kv.chainHash);
      if (entry.type === 'confChange') this.confState = applyChangeToConfState(this.confState, decodeConfChange(entry.data));
    }
  }

  /** Power loss. Returns the number of unsynced writes lost. */
  crash(): number {
    if (!this.up) return 0;
    this.up = false;
    this.incarnation++;
    this.stats.crashes++;
    this.#raw = null;
    this.#waiting = null;
    this.crashTrap = null;
    this.leaderTerm = null;
    this.role = 'follower';
    const lost = this.disk.crash();
    this.stats.lostWrites += lost;
    const proposals = [...this.#proposals.values()];
    const reads = [...this.#reads.values(), ...this.#readsWaitingApply.map((r) => r.waiter)];
    this.#proposals.clear();
    this.#reads.clear();
    this.#readsWaitingApply = [];
    for (const waiter of proposals) waiter.onLost();
    for (const waiter of reads) waiter.onLost();
    return lost;
  }

  restart(): void {
    if (this.up) return;
    this.up = true;
    this.kv = KvMachine.empty();
    this.confState = { voters: [], learners: [] };
    this.#start();
    this.pump();
  }

  // ---- inputs ----

  tick(): void {
    const raw = this.#raw;
    if (raw === null) return;
    this.#core('tick', () => raw.tick());
    this.pump();
  }

  receive(message: Message): void {
    const raw = this.#raw;
    if (raw === null) return;
    this.#core(`step(${message.type} from ${message.from})`, () => raw.step(message));
    this.pump();
  }

  /** Proposes a client command. Throws ProposalDroppedError when the core refuses it now. */
  propose(opId: number, command: Uint8Array, waiter: ProposalWaiter): void {
    const raw = this.#live();
    this.#core('propose', () => raw.propose(command));
    this.#proposals.set(opId, waiter);
    this.pump();
  }

  /** Starts a ReadIndex read. Throws ProposalDroppedError when the core refuses it now. */
  read(opId: number, attempt: number, waiter: ReadWaiter): void {
    const raw = this.#live();
    const context = `${opId}.${attempt}`;
    this.#core('readIndex', () => raw.readIndex(textEncoder.encode(context)));
    this.#reads.set(context, waiter);
    this.pump();
  }

  /** The client gave up on this node; a late answer must not reach it. */
  forget(opId: number, attempt: number): void {
    this.#proposals.delete(opId);
    const context = `${opId}.${attempt}`;
    const waiter = this.#reads.get(context);
    this.#reads.delete(context);
    if (waiter !== undefined) this.#readsWaitingApply = this.#readsWaitingApply.filter((r) => r.waiter !== waiter);
  }

  proposeConfChange(change: ConfChange): void {
    const raw = this.#live();
    this.#core('proposeConfChange', () => raw.proposeConfChange(change));
    this.pump();
  }

  transferLeadership(to: NodeId): void {
    const raw = this.#live();
    this.#core('transferLeadership', () => raw.transferLeadership(to));
    this.pump();
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    const raw = this.#raw;
    if (raw === null) return;
    this.#core('reportSnapshot', () => raw.reportSnapshot(to, ok));
    this.pump();
  }

  reportUnreachable(to: NodeId): void {
    const raw = this.#raw;
    if (raw === null) return;
    this.#core('reportUnreachable', () => raw.reportUnreachable(to));
    this.pump();
  }

  /**
   * Snapshots the state machine at its applied index and compacts the log, keeping
   * `keepEntries` entries before that index for followers that lag a little.
   */
  compact(keepEntries: number): boolean {
    if (this.#raw === null) return false;
    const live = this.disk.live;
    const index = this.kv.appliedIndex;
    if (index <= live.snapshot().metadata.index) return false;
    this.disk.write({ kind: 'createSnapshot', index, confState: copyConf(this.confState), data: this.kv.snapshotImage() });
    const compactTo = index - keepEntries;
    if (compactTo > live.firstIndex() - 1) this.disk.write({ kind: 'compact', index: compactTo });
    this.#requestFsync();
    this.stats.compactions++;
    this.#world.trace.record(this.#world.nowMs, 'compact', this.id, index, compactTo);
    return true;
  }

  /** An fsync of this node's disk completed. */
  onFsyncDone(generation: number, fsyncId: number): void {
    if (generation !== this.disk.generation) return;
    const world = this.#world;
    const flushed = this.disk.completeFsync(fsyncId);
    const durableView = this.durableLog();
    for (const write of flushed) {
      if (write.kind !== 'save') continue;
      if (write.update.entries.length > 0) world.invariants.onDurableEntries(this.id, write.update.entries, durableView);
      if (write.update.hardState) world.invariants.onDurableHardState(this.id, this.disk.durable.initialState().hardState);
    }
    world.trace.record(world.nowMs, 'fsync', this.id, fsyncId, flushed.length);
    const waiting = this.#waiting;
    if (waiting === null || waiting.fsyncId > fsyncId || !this.up) return;
    this.#waiting = null;
    this.#finishReady(waiting.ready);
    this.pump();
  }

  // ---- the Ready loop ----

  /** Takes and handles Readies until the node must wait for an fsync or has nothing to do. */
  pump(): void {
    while (this.up && this.#waiting === null) {
      const raw = this.#raw!;
      if (!this.#core('hasReady', () => raw.hasReady())) return;
      const ready = this.#core('ready', () => raw.ready());
      this.stats.readies++;
      this.#persist(ready);
      if (ready.mustSync) {
        this.stats.fsyncWaits++;
        this.#waiting = { ready, fsyncId: this.#requestFsync() };
        if (this.crashTrap === 'afterPersist') this.#springTrap('after a write, before its fsync');
        return;
      }
      this.#finishReady(ready);
    }
  }

  #persist(ready: Ready): void {
    const world = this.#world;
    const raw = this.#raw!;
    if (ready.softState) {
      this.role = ready.softState.role;
      this.term = this.#core('status', () => raw.status()).term;
      if (this.role === 'leader') {
        this.leaderTerm = this.term;
        world.invariants.onLeader(this.id, this.term);
        world.onBecameLeader(this, this.term);
      } else {
        this.leaderTerm = null;
      }
    }
    if (ready.hardState) this.term = ready.hardState.term;
    const update = { entries: ready.entries, mustSync: ready.mustSync } as {
      entries: Ready['entries'];
      mustSync: boolean;
      hardState?: NonNullable<Ready['hardState']>;
      snapshot?: NonNullable<Ready['snapshot']>;
    };
    if (ready.hardState) update.hardState = ready.hardState;
    if (ready.snapshot) update.snapshot = ready.snapshot;
    if (ready.entries.length > 0 || ready.hardState || ready.snapshot) {
      this.disk.write({ kind: 'save', update });
    }
    world.trace.record(
      world.nowMs,
      'ready',
      this.id,
      this.role,
      ready.hardState?.term ?? -1,
      ready.hardState?.vote ?? null,
      ready.hardState?.commit ?? -1,
      ready.entries.length,
      ready.entries[0]?.index ?? -1,
      ready.committedEntries.length,
      ready.messages.length,
      ready.snapshot?.metadata.index ?? -1,
      ready.readStates.length,
      ready.mustSync,
    );
    if (ready.hardState && ready.hardState.commit !== this.#commit) {
      world.invariants.onCommit(this.id, ready.hardState.term, ready.hardState.commit, this.liveLog());
      this.#commit = ready.hardState.commit;
      if (this.leaderTerm !== null) {
        world.onLeaderCommit(this, this.leaderTerm, this.#commit);
        if (this.crashTrap === 'afterLeaderCommit') this.#springTrap('right after advancing its commit index as leader');
      }
    }
  }

  #finishReady(ready: Ready): void {
    const world = this.#world;
    const raw = this.#raw!;
    let ackSent = false;
    if (ready.messages.length > 0) {
      const durable = this.durableLog();
      const durableHardState = this.disk.durable.initialState().hardState;
      const live = this.liveLog();
      for (const message of ready.messages) {
        world.invariants.onSend(this.id, message, durable, durableHardState, live);
        if (LEADER_MESSAGES.has(message.type)) {
          world.invariants.onLeader(this.id, message.term);
          if (message.type === 'app') world.invariants.checkLeaderEntries(this.id, message.term, message.entries);
        }
        if ((message.type === 'appResp' || message.type === 'voteResp') && !message.reject) ackSent = true;
        world.send(this, message);
      }
    }
    if (this.leaderTerm !== null) world.invariants.checkLeaderLog(this.id, this.leaderTerm, this.liveLog());

    if (ready.snapshot) {
      const { index, term, confState } = ready.snapshot.metadata;
      this.kv = KvMachine.fromSnapshot(index, ready.snapshot.data);
      this.confState = copyConf(confState);
      this.stats.snapshotsInstalled++;
      world.invariants.onSnapshotInstalled(this.id, this.term, index, term, this.kv.chainHash);
      world.onConfApplied(this, index, this.confState);
    }
    let clientAcked = false;
    for (const entry of ready.committedEntries) {
      if (entry.index !== this.kv.appliedIndex + 1) {
        throw new InvariantViolation({
          invariant: 'apply-order',
          nodeId: this.id,
          detail: `committed entry ${entry.index} handed out after applied index ${this.kv.appliedIndex}`,
        });
      }
      const result = this.kv.apply(entry);
      world.invariants.onApply(this.id, entry.index, entry.term, this.kv.chainHash);
      if (entry.type === 'confChange') {
        const change = decodeConfChange(entry.data);
        this.confState = this.#core('applyConfChange', () => raw.applyConfChange(change));
        world.onConfApplied(this, entry.index, this.confState);
      }
      if (result === null) continue;
      const waiter = this.#proposals.get(result.opId);
      if (waiter === undefined) continue;
      this.#proposals.delete(result.opId);
      world.invariants.onAck(this.id, this.term, result.index, result.term);
      waiter.onResult(result);
      clientAcked = true;
    }
    for (const readState of ready.readStates) {
      const context = textDecoder.decode(readState.context);
      const waiter = this.#reads.get(context);
      if (waiter === undefined) continue;
      this.#reads.delete(context);
      this.#readsWaitingApply.push({ index: readState.index, waiter });
    }
    this.#core('advance', () => raw.advance(ready));
    this.#serveReads();
    if (ackSent && this.crashTrap === 'afterAckSent') this.#springTrap('right after sending a vote or an append ack');
    if (clientAcked && this.crashTrap === 'afterClientAck') this.#springTrap('right after acknowledging a client write');
  }

  #serveReads(): void {
    if (this.#readsWaitingApply.length === 0) return;
    const applied = this.kv.appliedIndex;
    const ready = this.#readsWaitingApply.filter((r) => r.index <= applied);
    if (ready.length === 0) return;
    this.#readsWaitingApply = this.#readsWaitingApply.filter((r) => r.index > applied);
    for (const { waiter } of ready) waiter.onValue(this.kv.get(waiter.key));
  }

  #requestFsync(): number {
    const { id, doneAtMs } = this.disk.requestFsync(this.#world.nowMs);
    this.#world.scheduleFsync(this, this.disk.generation, id, doneAtMs);
    return id;
  }

  #springTrap(reason: string): void {
    this.crashTrap = null;
    this.#world.requestCrash(this, reason);
  }

  #live(): RawNode {
    if (this.#raw === null) throw new Error(`sim: node ${this.id} is down`);
    return this.#raw;
  }

  /** Runs a core call; anything it throws other than a dropped proposal is a failure of the core. */
  #core<T>(what: string, call: () => T): T {
    try {
      return call();
    } catch (error) {
      if (error instanceof ProposalDroppedError || error instanceof InvariantViolation) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new InvariantViolation({ invariant: 'core-error', nodeId: this.id, detail: `${what} threw: ${message}` });
    }
  }
}

function copyConf(conf: ConfState): ConfState {
  return { voters: [...conf.voters], learners: [...conf.learners] };
}
