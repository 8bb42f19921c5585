import { createHash, randomBytes } from 'node:crypto';
import { decode, encode } from 'cbor-x';
import type { Logger } from 'pino';
import { decodeConfChange } from '../raft/conf-change.ts';
import { ProposalDroppedError } from '../raft/errors.ts';
import { RawNode } from '../raft/raw-node.ts';
import type { ConfChange, ConfState, Entry, Message, NodeId, Ready, Snapshot, Status, Storage } from '../raft/types.ts';
import { decodeConfContext, decodeEnvelope, decodeSnapshotTicket, encodeConfContext, encodeEnvelope, encodeSnapshotTicket, type SnapshotTicket } from './envelope.ts';
import type { StateMachine } from './state-machine.ts';

/** What the driver needs from the peer transport. */
export interface PeerTransport {
  send(messages: Message[]): void;
  addPeer(id: NodeId, address: string): void;
  removePeer(id: NodeId): void;
}

export interface RaftNodeOptions<Result> {
  id: NodeId;
  storage: Storage & { close?(): Promise<void> };
  stateMachine: StateMachine<Result>;
  transport: PeerTransport;
  logger: Logger;
  /** Peer addresses of the members when this node starts with an empty state machine. */
  initialMembers?: Record<NodeId, string>;
  tickIntervalMs?: number;
  electionTimeoutTicks?: number;
  heartbeatIntervalTicks?: number;
  /** A snapshot is taken after this many applied entries, then the log is compacted. */
  snapshotEveryEntries?: number;
  /** Entries kept behind a snapshot, so briefly lagging followers catch up without one. */
  entriesKeptAfterSnapshot?: number;
  /** A proposal or read with no result after this long fails with RequestTimeoutError. */
  requestTimeoutMs?: number;
  /** Learners added through join() are promoted once caught up for this many checks. */
  promoteAfterCaughtUpChecks?: number;
  /** False when something else manages voters (discovery's autopilot): learners then stay learners. */
  promoteLearners?: boolean;
  /**
   * Called with the whole member table (id -> peer address) whenever it changes, so the caller
   * can keep it durable: a restarted node must know where its peers listen before the log or a
   * snapshot tells it.
   */
  onMembersChanged?: (members: Record<NodeId, string>) => void;
  /**
   * Snapshots larger than inlineMaxBytes travel out of band: the `snap` message carries a ticket
   * naming `sourceAddress`, and the receiver calls `fetch` to pull the bytes (resumably).
   * Without it every snapshot goes inline, limited by the transport's frame size.
   */
  snapshotTransfer?: SnapshotTransfer;
  /** Called when persisting fails: the node has stopped and must not go on. */
  onFatal?: (error: Error) => void;
  seed?: number;
}

export interface SnapshotTransfer {
  inlineMaxBytes: number;
  sourceAddress: string;
  fetch(ticket: SnapshotTicket): Promise<Uint8Array>;
}

/**
 * A request with no answer within the request timeout. `handedOver` says whether it ever left this
 * node's hands: a write that was appended here or forwarded to a leader may still be applied
 * later (its outcome is unknown); one that never found a leader (dropped by the core before any
 * append) was not applied and can be retried as is. A read changes nothing either way.
 */
export class RequestTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly handedOver = true,
  ) {
    super(RequestTimeoutError.describe(what, timeoutMs, handedOver));
    this.name = 'RequestTimeoutError';
  }

  /** True when nothing can have changed: a read, or a write no leader ever received. */
  get notApplied(): boolean {
    return this.what === 'read' || !this.handedOver;
  }

  private static describe(what: string, timeoutMs: number, handedOver: boolean): string {
    if (!handedOver) {
      const effect = what === 'read' ? 'it changed nothing' : 'it was not applied (nothing was proposed)';
      return `${what} found no leader within ${timeoutMs} ms (quorum lost, or an election in progress); ${effect} and may be retried`;
    }
    const outcome = what === 'read' ? 'it changed nothing and may be retried' : 'its outcome is unknown: it may still be applied';
    return `${what} got no answer within ${timeoutMs} ms (the leader is unreachable or lost quorum); ${outcome}`;
  }
}

export class NodeStoppedError extends Error {
  constructor() {
    super('the Raft node has stopped');
    this.name = 'NodeStoppedError';
  }
}

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface SnapshotImage {
  members: Record<NodeId, string>;
  state: Uint8Array;
}

function encodeImage(image: SnapshotImage): Uint8Array {
  return encode([image.members, image.state]);
}

/**
 * Snapshot data for a new cluster's bootstrap snapshot (LevelStorage.open's initial data): the
 * member table and an empty state machine, so a node that joins later learns where the first
 * members listen from the snapshot it receives.
 */
export function bootstrapSnapshotData(members: Record<NodeId, string>): Uint8Array {
  return encodeImage({ members, state: new Uint8Array() });
}

function decodeImage(data: Uint8Array): SnapshotImage {
  if (data.byteLength === 0) return { members: {}, state: new Uint8Array() };
  const [members, state] = decode(data) as [Record<NodeId, string>, Uint8Array];
  return { members, state };
}

export interface NodeStatus extends Status {
  members: Record<NodeId, string>;
  stateMachineApplied: number;
}

/**
 * Drives the pure Raft core in real time: ticks it, persists each Ready to storage (one batch,
 * one fsync for everything proposed meanwhile: group commit), sends messages only after that,
 * applies committed entries to the state machine, answers proposals and linearizable reads,
 * snapshots and compacts, and keeps the transport's peer list in step with membership.
 */
export class RaftNode<Result> {
  private readonly raw: RawNode;
  private readonly pendingProposals = new Map<string, Pending<Result>>();
  private readonly pendingConfChanges = new Map<string, Pending<ConfState>>();
  private readonly pendingReads = new Map<string, Pending<void>>();
  private readonly readsWaitingApply: { index: number; key: string }[] = [];
  private readonly leaderWaiters = new Set<() => void>();
  private readonly promotionChecks = new Map<NodeId, number>();
  private members: Record<NodeId, string>;
  private confState: ConfState;
  private applied: number;
  private lastSnapshotIndex: number;
  private ticker: NodeJS.Timeout | undefined;
  private loopRunning = false;
  private stopped = false;
  private requestCounter = 0;
  private readonly requestPrefix = randomBytes(6).toString('hex');
  private leader: NodeId | null = null;
  private leading = false;
  private readonly leadershipListeners = new Set<(leading: boolean, term: number) => void>();
  /** When (Date.now()) a message from each peer last arrived: the leader's view of who is alive, kept in memory only. */
  private readonly lastHeardMs = new Map<NodeId, number>();
  private readonly o: Required<Omit<RaftNodeOptions<Result>, 'initialMembers' | 'onFatal' | 'onMembersChanged' | 'seed' | 'snapshotTransfer'>> &
    Pick<RaftNodeOptions<Result>, 'onFatal' | 'onMembersChanged' | 'snapshotTransfer'>;
  /** Snapshots being fetched, by "term/index", so a resent ticket does not start a second download. */
  private readonly snapshotFetches = new Set<string>();
  private outgoingDigest: { data: Uint8Array; sha256: string } | undefined;

  constructor(options: RaftNodeOptions<Result>) {
    this.o = {
      tickIntervalMs: 100,
      electionTimeoutTicks: 10,
      heartbeatIntervalTicks: 1,
      snapshotEveryEntries: 10_000,
      entriesKeptAfterSnapshot: 5_000,
      requestTimeoutMs: 5_000,
      promoteAfterCaughtUpChecks: 3,
      promoteLearners: true,
      ...options,
    };
    const snapshot = options.storage.snapshot();
    this.lastSnapshotIndex = snapshot.metadata.index;
    this.confState = options.storage.initialState().confState;
    const image = decodeImage(snapshot.data);
    this.members = { ...(options.initialMembers ?? {}), ...image.members };
    // The core re-delivers every entry after the snapshot; the state machine skips what it
    // already holds, while membership changes among them are applied to the core again.
    this.applied = snapshot.metadata.index;
    this.raw = new RawNode({
      id: options.id,
      storage: options.storage,
      applied: snapshot.metadata.index,
      electionTimeoutTicks: this.o.electionTimeoutTicks,
      heartbeatIntervalTicks: this.o.heartbeatIntervalTicks,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    });
    for (const [id, address] of Object.entries(this.members)) if (id !== options.id) options.transport.addPeer(id, address);
  }

  get id(): NodeId {
    return this.o.id;
  }

  /** Restores the state machine from the stored snapshot if it is behind it, then starts ticking. */
  async start(): Promise<void> {
    const snapshot = this.o.storage.snapshot();
    if (this.o.stateMachine.appliedIndex() < snapshot.metadata.index) {
      await this.o.stateMachine.restore(decodeImage(snapshot.data).state, snapshot.metadata.index);
    }
    this.ticker = setInterval(() => {
      this.raw.tick();
      this.checkPromotions();
      this.kick();
    }, this.o.tickIntervalMs);
    this.kick();
  }

  /** Starts an election at once (a single-node cluster or a test need not wait for a timeout). */
  campaign(): void {
    this.raw.campaign();
    this.kick();
  }

  receive(messages: Message[]): void {
    if (this.stopped) return;
    const now = Date.now();
    for (const message of messages) {
      this.lastHeardMs.set(message.from, now);
      if (message.type === 'snap' && message.snapshot && this.o.snapshotTransfer) {
        const ticket = decodeSnapshotTicket(message.context);
        if (ticket) {
          this.fetchSnapshot(message, ticket);
          continue;
        }
      }
      try {
        this.raw.step(message);
      } catch (error) {
        this.o.logger.warn({ err: error, from: message.from, type: message.type }, 'dropped a peer message the core refused');
      }
    }
    this.kick();
  }

  reportUnreachable(peer: NodeId): void {
    this.raw.reportUnreachable(peer);
  }

  /** The bytes of the snapshot at (index, term) if it is still the current one, for a fetching follower. */
  snapshotForTransfer(index: number, term: number): Uint8Array | null {
    const snapshot = this.o.storage.snapshot();
    return snapshot.metadata.index === index && snapshot.metadata.term === term ? snapshot.data : null;
  }

  private fetchSnapshot(message: Message, ticket: SnapshotTicket): void {
    const key = `${ticket.term}/${ticket.index}`;
    if (this.snapshotFetches.has(key)) return;
    this.snapshotFetches.add(key);
    this.o.logger.info({ from: message.from, index: ticket.index, sizeBytes: ticket.sizeBytes }, 'fetching a snapshot from the leader');
    this.o.snapshotTransfer!.fetch(ticket).then(
      (data) => {
        this.snapshotFetches.delete(key);
        if (this.stopped) return;
        const { context: _ticket, ...rest } = message;
        this.receive([{ ...rest, snapshot: { metadata: message.snapshot!.metadata, data } }]);
      },
      (error: Error) => {
        this.snapshotFetches.delete(key);
        // The leader sends the snapshot again once it notices this follower is still behind.
        this.o.logger.warn({ err: error.message, index: ticket.index }, 'fetching the snapshot failed; waiting for the leader to offer it again');
      },
    );
  }

  /** Large snapshots leave as a ticket; the receiver fetches the bytes from us. */
  private outgoing(messages: Message[]): Message[] {
    const transfer = this.o.snapshotTransfer;
    if (!transfer) return messages;
    return messages.map((message) => {
      if (message.type !== 'snap' || !message.snapshot || message.snapshot.data.byteLength <= transfer.inlineMaxBytes) return message;
      const { metadata, data } = message.snapshot;
      // The leader offers the same snapshot again and again to a slow follower: hash it once.
      if (this.outgoingDigest?.data !== data) this.outgoingDigest = { data, sha256: createHash('sha256').update(data).digest('hex') };
      const ticket: SnapshotTicket = {
        index: metadata.index,
        term: metadata.term,
        sizeBytes: data.byteLength,
        sha256: this.outgoingDigest.sha256,
        source: transfer.sourceAddress,
      };
      return { ...message, snapshot: { metadata, data: new Uint8Array() }, context: encodeSnapshotTicket(ticket) };
    });
  }

  reportSnapshot(peer: NodeId, ok: boolean): void {
    this.raw.reportSnapshot(peer, ok);
    this.kick();
  }

  /**
   * Tells the node where a member listens before the log does (a joining node learns the
   * members' addresses from the member that admitted it).
   */
  addKnownPeer(id: NodeId, address: string): void {
    if (!(id in this.members)) this.addPeer(id, address);
  }

  status(): NodeStatus {
    return { ...this.raw.status(), members: { ...this.members }, stateMachineApplied: this.o.stateMachine.appliedIndex() };
  }

  /**
   * Calls `listener(true, term)` when this node becomes leader and `listener(false, term)` the
   * moment it stops being one (the leader's control loops start and stop on it). Returns an
   * unsubscribe function.
   */
  onLeadershipChange(listener: (leading: boolean, term: number) => void): () => void {
    this.leadershipListeners.add(listener);
    return () => this.leadershipListeners.delete(listener);
  }

  /** When a message from each peer last arrived (ms since the epoch); peers never heard from are absent. */
  lastContact(): ReadonlyMap<NodeId, number> {
    return this.lastHeardMs;
  }

  /** The election timeout in milliseconds (ticks times the tick interval). */
  get electionTimeoutMs(): number {
    return this.o.electionTimeoutTicks * this.o.tickIntervalMs;
  }

  /**
   * Whether this node can reach a leader that holds quorum, from what it already knows (no
   * message, no disk write: cheap enough for every health probe). A follower or learner must
   * know the leader and have heard from it within `maxSilenceMs`; the leader must have heard from
   * a quorum of voters (itself included) within it. Returns null when it can, else the reason.
   */
  leaderProblem(maxSilenceMs: number, now = Date.now()): string | null {
    if (this.stopped) return 'the Raft node has stopped';
    const status = this.raw.status();
    if (status.leader === null) return `no leader is known (term ${status.term}, this node is ${status.role})`;
    const fresh = (id: NodeId) => id === this.o.id || now - (this.lastHeardMs.get(id) ?? -Infinity) <= maxSilenceMs;
    if (status.role !== 'leader') {
      if (fresh(status.leader)) return null;
      const heard = this.lastHeardMs.get(status.leader);
      return heard === undefined ? `leader ${status.leader} has never been heard from` : `leader ${status.leader} last heard from ${now - heard} ms ago (bound ${maxSilenceMs} ms)`;
    }
    const voters = status.confState.voters;
    const heard = voters.filter(fresh).length;
    const quorum = Math.floor(voters.length / 2) + 1;
    return heard >= quorum ? null : `this node leads but heard from only ${heard} of ${voters.length} voters within ${maxSilenceMs} ms (quorum ${quorum})`;
  }

  leaderAddress(): string | null {
    return this.leader ? (this.members[this.leader] ?? null) : null;
  }

  /** Replicates a command; resolves with the state machine's result once applied on this node. */
  async propose(command: Uint8Array): Promise<Result> {
    const requestId = this.nextRequestId();
    const data = encodeEnvelope({ requestId, command });
    return this.withLeaderRetry('proposal', (remainingMs) => {
      const result = this.track(this.pendingProposals, requestId, 'proposal', remainingMs);
      try {
        this.raw.propose(data);
      } catch (error) {
        this.untrack(this.pendingProposals, requestId);
        throw error;
      }
      this.kick();
      return result;
    });
  }

  /** Resolves once this node's state machine reflects every write committed before the call. */
  async linearizableRead(): Promise<void> {
    return this.withLeaderRetry('read', (remainingMs) => {
      const key = this.nextRequestId();
      const done = this.track(this.pendingReads, key, 'read', remainingMs);
      try {
        this.raw.readIndex(Buffer.from(key));
      } catch (error) {
        this.untrack(this.pendingReads, key);
        throw error;
      }
      this.kick();
      return done;
    });
  }

  /** Adds a non-voting member that listens for peers at `peerAddress` (any member; forwarded to the leader). */
  addLearner(id: NodeId, peerAddress: string): Promise<ConfState> {
    return this.changeMembership({ type: 'addLearner', nodeId: id }, peerAddress);
  }

  /** Makes a member a voter. */
  promote(id: NodeId): Promise<ConfState> {
    return this.changeMembership({ type: 'addVoter', nodeId: id });
  }

  /** Makes a voter a learner again (it keeps replicating but no longer counts for quorum). */
  demote(id: NodeId): Promise<ConfState> {
    return this.changeMembership({ type: 'addLearner', nodeId: id });
  }

  removeMember(id: NodeId): Promise<ConfState> {
    return this.changeMembership({ type: 'removeNode', nodeId: id });
  }

  private async changeMembership(change: ConfChange, peerAddress?: string): Promise<ConfState> {
    const requestId = this.nextRequestId();
    const context = encodeConfContext(peerAddress ? { requestId, peerAddress } : { requestId });
    const done = this.track(this.pendingConfChanges, requestId, `membership change ${change.type} ${change.nodeId}`, this.o.requestTimeoutMs);
    try {
      this.raw.proposeConfChange({ ...change, context });
    } catch (error) {
      this.untrack(this.pendingConfChanges, requestId);
      throw error;
    }
    this.kick();
    return done;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    if (this.leading) {
      this.leading = false;
      for (const listener of this.leadershipListeners) listener(false, this.raw.status().term);
    }
    for (const pending of [this.pendingProposals, this.pendingReads, this.pendingConfChanges] as Map<string, Pending<unknown>>[]) {
      for (const [key, entry] of pending) {
        clearTimeout(entry.timer);
        entry.reject(new NodeStoppedError());
        pending.delete(key);
      }
    }
    for (const wake of this.leaderWaiters) wake();
    while (this.loopRunning) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  // --- the Ready loop ---

  private kick(): void {
    if (this.loopRunning || this.stopped) return;
    this.loopRunning = true;
    setImmediate(() => void this.readyLoop());
  }

  private async readyLoop(): Promise<void> {
    try {
      while (!this.stopped && this.raw.hasReady()) {
        const ready = this.raw.ready();
        await this.handleReady(ready);
        this.raw.advance(ready);
      }
    } catch (error) {
      this.o.logger.fatal({ err: error }, 'the Raft node cannot go on (storage or state machine failed); stopping');
      this.loopRunning = false;
      await this.stop();
      this.o.onFatal?.(error as Error);
      return;
    }
    this.loopRunning = false;
    // Something may have arrived between the last hasReady() and clearing the flag.
    if (!this.stopped && this.raw.hasReady()) this.kick();
  }

  private async handleReady(ready: Ready): Promise<void> {
    if (ready.softState) this.onSoftState(ready.softState.leader, ready.softState.role);
    if (ready.snapshot || ready.entries.length > 0 || ready.hardState) {
      await this.o.storage.save({
        entries: ready.entries,
        mustSync: ready.mustSync,
        ...(ready.hardState ? { hardState: ready.hardState } : {}),
        ...(ready.snapshot ? { snapshot: ready.snapshot } : {}),
      });
    }
    // A snapshot's member table first: the answers in this Ready may go to members only it names.
    if (ready.snapshot) this.setMembers(decodeImage(ready.snapshot.data).members);
    if (ready.messages.length > 0) this.o.transport.send(this.outgoing(ready.messages));
    if (ready.snapshot) await this.applySnapshot(ready.snapshot);
    if (ready.committedEntries.length > 0) await this.applyEntries(ready.committedEntries);
    for (const readState of ready.readStates) {
      this.readsWaitingApply.push({ index: readState.index, key: Buffer.from(readState.context).toString() });
    }
    this.releaseReads();
    await this.maybeSnapshot();
  }

  private onSoftState(leader: NodeId | null, role: string): void {
    if (leader !== this.leader) this.o.logger.info({ leader, role, term: this.raw.status().term }, leader ? 'leader elected' : 'no leader');
    const newLeader = leader !== null && leader !== this.leader;
    this.leader = leader;
    if (leader) for (const wake of this.leaderWaiters) wake();
    if (newLeader) this.reissueReads();
    const leading = role === 'leader';
    if (leading !== this.leading) {
      this.leading = leading;
      const term = this.raw.status().term;
      for (const listener of this.leadershipListeners) {
        try {
          listener(leading, term);
        } catch (error) {
          this.o.logger.error({ err: error }, 'a leadership listener failed');
        }
      }
    }
  }

  private async applySnapshot(snapshot: Snapshot): Promise<void> {
    const image = decodeImage(snapshot.data);
    await this.o.stateMachine.restore(image.state, snapshot.metadata.index);
    this.confState = snapshot.metadata.confState;
    this.applied = snapshot.metadata.index;
    this.lastSnapshotIndex = snapshot.metadata.index;
    this.o.logger.info({ index: snapshot.metadata.index }, 'installed a snapshot from the leader');
  }

  private async applyEntries(entries: Entry[]): Promise<void> {
    const alreadyApplied = this.o.stateMachine.appliedIndex();
    const batch: { index: number; command: Uint8Array | null; requestId: string | null }[] = [];
    const confResults: { requestId: string; confState: ConfState }[] = [];
    for (const entry of entries) {
      if (entry.type === 'confChange') {
        const change = decodeConfChange(entry.data);
        this.confState = this.raw.applyConfChange(change);
        const context = decodeConfContext(change.context);
        if (change.type === 'removeNode') this.removePeer(change.nodeId);
        else if (context?.peerAddress) this.addPeer(change.nodeId, context.peerAddress);
        if (context) confResults.push({ requestId: context.requestId, confState: this.confState });
        if (entry.index > alreadyApplied) batch.push({ index: entry.index, command: null, requestId: null });
        continue;
      }
      if (entry.index <= alreadyApplied) continue;
      const envelope = decodeEnvelope(entry.data);
      batch.push({ index: entry.index, command: envelope?.command ?? null, requestId: envelope?.requestId ?? null });
    }
    const results = batch.length > 0 ? await this.o.stateMachine.apply(batch.map(({ index, command }) => ({ index, command }))) : [];
    this.applied = entries[entries.length - 1]!.index;
    batch.forEach((item, position) => {
      if (item.requestId) this.settle(this.pendingProposals, item.requestId, results[position] as Result);
    });
    for (const { requestId, confState } of confResults) this.settle(this.pendingConfChanges, requestId, confState);
  }

  /**
   * A read sent to a leader that then died is never answered; unlike a write it has no effect, so
   * it is asked again of the new leader rather than left to time out. A read already answered
   * (waiting for its index to apply) keeps that answer.
   */
  private reissueReads(): void {
    const answered = new Set(this.readsWaitingApply.map((waiting) => waiting.key));
    for (const key of this.pendingReads.keys()) {
      if (answered.has(key)) continue;
      try {
        this.raw.readIndex(Buffer.from(key));
      } catch (error) {
        // Dropped again (the leader is already gone): the next leader asks once more, or it times out.
        this.o.logger.debug({ err: (error as Error).message }, 'read not re-sent');
      }
    }
    this.kick();
  }

  private releaseReads(): void {
    for (let i = this.readsWaitingApply.length - 1; i >= 0; i--) {
      const waiting = this.readsWaitingApply[i]!;
      if (waiting.index > this.applied) continue;
      this.readsWaitingApply.splice(i, 1);
      this.settle(this.pendingReads, waiting.key, undefined);
    }
  }

  private async maybeSnapshot(): Promise<void> {
    if (this.applied - this.lastSnapshotIndex < this.o.snapshotEveryEntries) return;
    const index = this.o.stateMachine.appliedIndex();
    if (index <= this.lastSnapshotIndex) return;
    const state = await this.o.stateMachine.snapshot();
    await this.o.storage.createSnapshot(index, this.confState, encodeImage({ members: this.members, state }));
    this.lastSnapshotIndex = index;
    const compactTo = Math.max(this.o.storage.firstIndex() - 1, index - this.o.entriesKeptAfterSnapshot);
    if (compactTo >= this.o.storage.firstIndex()) await this.o.storage.compact(compactTo);
    this.o.logger.info({ index, compactedTo: compactTo }, 'snapshot taken, log compacted');
  }

  // --- membership bookkeeping ---

  private setMembers(members: Record<NodeId, string>): void {
    for (const id of Object.keys(this.members)) if (!(id in members)) this.removePeer(id);
    for (const [id, address] of Object.entries(members)) this.addPeer(id, address);
  }

  private addPeer(id: NodeId, address: string): void {
    if (this.members[id] === address) return;
    this.members[id] = address;
    if (id !== this.o.id) this.o.transport.addPeer(id, address);
    this.o.onMembersChanged?.({ ...this.members });
  }

  private removePeer(id: NodeId): void {
    if (!(id in this.members)) return;
    delete this.members[id];
    this.promotionChecks.delete(id);
    if (id !== this.o.id) this.o.transport.removePeer(id);
    this.o.onMembersChanged?.({ ...this.members });
  }

  /** Leader only: a learner that stays caught up for a few checks becomes a voter. */
  private checkPromotions(): void {
    if (this.confState.learners.length === 0 || !this.o.promoteLearners) return;
    const status = this.raw.status();
    if (status.role !== 'leader' || !status.progress) return;
    for (const learner of this.confState.learners) {
      const progress = status.progress[learner];
      const caughtUp = progress !== undefined && progress.match >= status.commit && progress.recentActive;
      const checks = caughtUp ? (this.promotionChecks.get(learner) ?? 0) + 1 : 0;
      this.promotionChecks.set(learner, checks);
      if (checks >= this.o.promoteAfterCaughtUpChecks) {
        this.promotionChecks.delete(learner);
        this.promote(learner).then(
          () => this.o.logger.info({ member: learner }, 'learner caught up and was promoted to voter'),
          (error: Error) => this.o.logger.debug({ member: learner, err: error.message }, 'promotion not done yet'),
        );
        return; // one membership change at a time
      }
    }
  }

  // --- request bookkeeping ---

  private nextRequestId(): string {
    this.requestCounter += 1;
    return `${this.o.id}/${this.requestPrefix}/${this.requestCounter}`;
  }

  /** `timeoutMs` is what is left of the request's time; the error names the whole request timeout. */
  private track<T>(map: Map<string, Pending<T>>, key: string, what: string, timeoutMs: number): Promise<T> {
    if (this.stopped) return Promise.reject(new NodeStoppedError());
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        map.delete(key);
        reject(new RequestTimeoutError(what, this.o.requestTimeoutMs));
      }, timeoutMs);
      map.set(key, { resolve, reject, timer });
    });
  }

  private untrack<T>(map: Map<string, Pending<T>>, key: string): void {
    const entry = map.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    map.delete(key);
  }

  private settle<T>(map: Map<string, Pending<T>>, key: string, value: T): void {
    const entry = map.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    map.delete(key);
    entry.resolve(value);
  }

  /**
   * Runs `attempt` now, or once a leader is known when the core drops it for lack of one, until
   * the request timeout is spent.
   */
  private async withLeaderRetry<T>(what: string, attempt: (remainingMs: number) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.o.requestTimeoutMs;
    for (;;) {
      if (this.stopped) throw new NodeStoppedError();
      const remainingMs = deadline - Date.now();
      // Every attempt so far was dropped by the core for want of a leader: nothing left this node.
      if (remainingMs <= 0) throw new RequestTimeoutError(what, this.o.requestTimeoutMs, false);
      try {
        return await attempt(remainingMs);
      } catch (error) {
        if (!(error instanceof ProposalDroppedError) || (error.reason !== 'noLeader' && error.reason !== 'transferInProgress')) throw error;
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            this.leaderWaiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, Math.min(remainingMs, this.o.tickIntervalMs));
          this.leaderWaiters.add(wake);
        });
      }
    }
  }
}
