// The Raft state machine: roles, terms, elections, replication, commitment, reads, membership.
// It only mutates memory and queues outgoing messages; RawNode turns that into Ready batches.

import { applyChangeToConfState, confChangeProblem, copyConfState, decodeConfChange } from './conf-change.ts';
import { payloadSizeBytes } from './entries.ts';
import { CompactedError, type ProposalDroppedReason, SnapshotTemporarilyUnavailableError } from './errors.ts';
import { createPrng, type Prng, seedFromString } from './prng.ts';
import type { Progress } from './progress.ts';
import { RaftLog } from './raft-log.ts';
import { decodeRound, encodeRound, ReadIndexQueue } from './read-index.ts';
import { ProgressTracker } from './tracker.ts';
import type {
  ConfChange,
  ConfState,
  Config,
  Entry,
  HardState,
  Message,
  MessageType,
  NodeId,
  ProgressStatus,
  ReadState,
  Role,
  SoftState,
  Snapshot,
  Status,
  TestingMutations,
} from './types.ts';

export const DEFAULT_ELECTION_TIMEOUT_TICKS = 10;
export const DEFAULT_HEARTBEAT_INTERVAL_TICKS = 1;
export const DEFAULT_MAX_SIZE_PER_MSG_BYTES = 1024 * 1024;
export const DEFAULT_MAX_INFLIGHT_MSGS = 256;

/** Marks (pre)vote requests of a leadership transfer: voters may then ignore their lease. */
const TRANSFER_CONTEXT = new TextEncoder().encode('transfer');
const EMPTY = new Uint8Array(0);

function isTransferContext(context: Uint8Array | undefined): boolean {
  if (context === undefined || context.length !== TRANSFER_CONTEXT.length) return false;
  return context.every((byte, i) => byte === TRANSFER_CONTEXT[i]);
}

type OutgoingMessage = Partial<Message> & { type: MessageType; to: NodeId };

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId | null = null;
  leader: NodeId | null = null;
  role: Role = 'follower';
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  /** Outgoing messages, drained into the next Ready. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  leadTransferee: NodeId | null = null;
  /** Index of the latest conf change the leader appended (or of its first entry of the term). */
  pendingConfIndex = 0;
  uncommittedSizeBytes = 0;

  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxSizePerMsgBytes: number;
  readonly maxUncommittedEntriesBytes: number;
  readonly maxCommittedSizePerReadyBytes: number | undefined;
  readonly mutations: Readonly<TestingMutations>;

  // Followers/candidates: ticks since the leader was last heard from (or since campaigning).
  // Leaders: ticks since the last check-quorum round.
  #electionElapsed = 0;
  #heartbeatElapsed = 0;
  #randomizedElectionTimeout = 0;
  readonly #prng: Prng;
  readonly #reads = new ReadIndexQueue();
  /** timeoutNow arrived while a committed conf change was unapplied: campaign once applied. */
  #transferCampaignTerm: number | null = null;
  /** Reads that arrived before this leader committed an entry of its term. */
  #readsBeforeFirstCommit: { context: Uint8Array; from: NodeId }[] = [];

  constructor(config: Config) {
    if (config.id === '') throw new Error('raft config: id must not be empty');
    this.id = config.id;
    this.electionTimeoutTicks = config.electionTimeoutTicks ?? DEFAULT_ELECTION_TIMEOUT_TICKS;
    this.heartbeatIntervalTicks = config.heartbeatIntervalTicks ?? DEFAULT_HEARTBEAT_INTERVAL_TICKS;
    if (!Number.isInteger(this.heartbeatIntervalTicks) || this.heartbeatIntervalTicks < 1) {
      throw new Error('raft config: heartbeatIntervalTicks must be a positive integer');
    }
    if (!Number.isInteger(this.electionTimeoutTicks) || this.electionTimeoutTicks <= this.heartbeatIntervalTicks) {
      throw new Error('raft config: electionTimeoutTicks must be an integer greater than heartbeatIntervalTicks');
    }
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.maxSizePerMsgBytes = config.maxSizePerMsgBytes ?? DEFAULT_MAX_SIZE_PER_MSG_BYTES;
    const maxInflightMsgs = config.maxInflightMsgs ?? DEFAULT_MAX_INFLIGHT_MSGS;
    if (!Number.isInteger(maxInflightMsgs) || maxInflightMsgs < 1) {
      throw new Error('raft config: maxInflightMsgs must be a positive integer');
    }
    this.maxUncommittedEntriesBytes = config.maxUncommittedEntriesBytes ?? 0;
    this.maxCommittedSizePerReadyBytes = config.maxCommittedSizePerReadyBytes;
    this.mutations = { ...(config.testingMutations ?? {}) };
    this.#prng = config.prng ?? createPrng(config.seed ?? seedFromString(config.id));

    this.log = new RaftLog(config.storage);
    this.tracker = new ProgressTracker(maxInflightMsgs);
    const { hardState, confState } = config.storage.initialState();
    this.term = hardState.term;
    this.vote = hardState.vote;
    if (hardState.commit > this.log.lastIndex()) {
      throw new Error(`raft: stored commit ${hardState.commit} is beyond last index ${this.log.lastIndex()}`);
    }
    this.log.commitTo(hardState.commit);
    const applied = Math.max(config.applied ?? 0, this.log.firstIndex() - 1);
    if (applied > this.log.committed) {
      throw new Error(`raft: applied ${applied} is beyond committed ${this.log.committed}`);
    }
    this.log.appliedTo(applied);
    this.tracker.setConf(this.#replayConfChanges(confState, applied), this.log.lastIndex() + 1);
    this.becomeFollower(this.term, null);
  }

  /**
   * Membership as of `applied`. The storage's ConfState may be as of its snapshot or any later
   * applied point; re-applying the conf changes after the snapshot is harmless either way,
   * because each single-server change sets a node's membership outright.
   */
  #replayConfChanges(conf: ConfState, applied: number): ConfState {
    let current = copyConfState(conf);
    const first = this.log.firstIndex();
    if (applied < first) return current;
    for (const entry of this.log.slice(first, applied + 1)) {
      if (entry.type === 'confChange') current = applyChangeToConfState(current, decodeConfChange(entry.data));
    }
    return current;
  }

  // ---- state snapshots for RawNode ----

  softState(): SoftState {
    return { leader: this.leader, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  status(): Status {
    const status: Status = {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      confState: copyConfState(this.tracker.conf),
      leadTransferee: this.leadTransferee,
    };
    if (this.role === 'leader') {
      const progress: Record<NodeId, ProgressStatus> = {};
      for (const [id, pr] of this.tracker.progress) progress[id] = pr.status();
      status.progress = progress;
    }
    return status;
  }

  // ---- role transitions ----

  #reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = null;
    }
    this.leader = null;
    this.#electionElapsed = 0;
    this.#heartbeatElapsed = 0;
    this.#randomizedElectionTimeout = this.electionTimeoutTicks + this.#prng.nextInt(this.electionTimeoutTicks);
    this.leadTransferee = null;
    this.tracker.resetVotes();
    this.tracker.resetProgress(this.log.lastIndex() + 1, this.id, this.log.lastIndex());
    this.pendingConfIndex = 0;
    this.uncommittedSizeBytes = 0;
    this.#reads.clear();
    this.#readsBeforeFirstCommit = [];
    this.#transferCampaignTerm = null;
  }

  becomeFollower(term: number, leader: NodeId | null): void {
    this.#reset(term);
    this.leader = leader;
    this.role = 'follower';
  }

  #becomePreCandidate(): void {
    // A dry run: neither the term nor the vote changes, so a node that cannot win disturbs nobody.
    this.role = 'preCandidate';
    this.tracker.resetVotes();
    this.leader = null;
  }

  #becomeCandidate(): void {
    this.#reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  #becomeLeader(): void {
    this.#reset(this.term);
    this.leader = this.id;
    this.role = 'leader';
    this.tracker.progress.get(this.id)?.becomeReplicate();
    // Raft §5.4.2 / §8: entries of earlier terms commit only under an entry of this term, and
    // conf changes wait until this entry is applied (see README, single-server changes).
    this.#appendEntries([{ term: 0, index: 0, type: 'normal', data: EMPTY }]);
    this.pendingConfIndex = this.log.lastIndex();
    this.#bcastAppend();
  }

  // ---- time ----

  tick(): void {
    if (this.role === 'leader') this.#tickLeader();
    else this.#tickElection();
  }

  #tickElection(): void {
    this.#electionElapsed++;
    if (this.#promotable() && this.#electionElapsed >= this.#randomizedElectionTimeout) {
      this.#electionElapsed = 0;
      this.hup(false);
    }
  }

  #tickLeader(): void {
    this.#heartbeatElapsed++;
    this.#electionElapsed++;
    if (this.#electionElapsed >= this.electionTimeoutTicks) {
      this.#electionElapsed = 0;
      if (this.checkQuorum) {
        if (!this.tracker.quorumActive(this.id)) {
          // Leader lease lost: a quorum may already follow someone else.
          this.becomeFollower(this.term, null);
          return;
        }
        for (const [id, pr] of this.tracker.progress) pr.recentActive = id === this.id;
      }
      // A transfer that did not finish within an election timeout is abandoned; a removed
      // leader instead retries with whichever voter is now furthest along.
      if (this.leadTransferee !== null) this.leadTransferee = null;
      if (!this.tracker.isVoter(this.id)) {
        this.#handOverAfterRemoval();
        if (this.role !== 'leader') return;
      }
    }
    if (this.#heartbeatElapsed >= this.heartbeatIntervalTicks) {
      this.#heartbeatElapsed = 0;
      this.#bcastHeartbeat();
    }
  }

  // ---- elections ----

  #promotable(): boolean {
    return this.tracker.isVoter(this.id);
  }

  /** A committed conf change not yet applied means our configuration is about to change. */
  #hasUnappliedConfChanges(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    return this.log.nextCommittedEntries(this.log.applied).some((entry) => entry.type === 'confChange');
  }

  /** Starts an election (a pre-election first when PreVote is on, unless transferring). */
  hup(transfer: boolean): void {
    if (this.role === 'leader') return;
    if (!this.#promotable()) return;
    if (this.#hasUnappliedConfChanges()) return;
    this.#campaign(this.preVote && !transfer ? 'preElection' : 'election', transfer);
  }

  #campaign(kind: 'preElection' | 'election', transfer: boolean): void {
    let voteTerm: number;
    let type: MessageType;
    if (kind === 'preElection') {
      this.#becomePreCandidate();
      voteTerm = this.term + 1;
      type = 'preVote';
    } else {
      this.#becomeCandidate();
      voteTerm = this.term;
      type = 'vote';
    }
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes().result === 'won') {
      // Single voter: nobody to ask.
      if (kind === 'preElection') this.#campaign('election', transfer);
      else this.#becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.tracker.conf.voters) {
      if (id === this.id) continue;
      const request: OutgoingMessage = { to: id, type, term: voteTerm, index: lastIndex, logTerm: lastTerm };
      if (transfer) request.context = TRANSFER_CONTEXT;
      this.#send(request);
    }
  }

  #handleVoteRequest(m: Message): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leader === null) ||
      (m.type === 'preVote' && m.term > this.term);
    const logOk = this.mutations.grantVoteWithoutLogCheck === true || this.log.isUpToDate(m.index, m.logTerm);
    const type = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    // Every answer also tells what we know to be committed (see #learnCommit).
    const commitInfo = { index: this.log.committed, logTerm: this.log.termOrZero(this.log.committed) };
    if (canVote && logOk) {
      // A pre-vote grant answers in the candidate's future term, so the candidate counts it.
      this.#send({ to: m.from, type, term: m.term, ...commitInfo });
      if (m.type === 'vote') {
        this.#electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.#send({ to: m.from, type, term: this.term, reject: true, ...commitInfo });
    }
  }

  /**
   * A voter reported that (index, term) is committed. If our log holds that same entry, Log
   * Matching makes our prefix identical, so it is committed for us too. This unblocks a voter
   * whose configuration is stale because the leader that committed a membership change left
   * before telling it: the node whose vote it needs refuses it, but tells it the commit.
   */
  #learnCommit(index: number, term: number): void {
    if (index > this.log.committed && this.log.matchTerm(index, term)) this.log.commitTo(index);
  }

  // ---- message dispatch ----

  /** Processes a message. Returns why a proposal/read/transfer was dropped, or null. */
  step(m: Message): ProposalDroppedReason | null {
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        const inLease = this.checkQuorum && this.leader !== null && this.#electionElapsed < this.electionTimeoutTicks;
        // Leader lease: while we hear from a live leader, a node that merely lost contact must
        // not depose it. A transfer ordered by that leader is the exception.
        if (inLease && !isTransferContext(m.context)) return null;
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResp' && !m.reject)) {
        // Pre-votes travel in the candidate's next term without anybody adopting it.
      } else {
        const fromLeader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap';
        this.becomeFollower(m.term, fromLeader ? m.from : null);
      }
    } else if (m.term < this.term && m.term !== 0) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'app' || m.type === 'heartbeat')) {
        // A deposed leader that missed the new term would otherwise keep sending forever; our
        // answer at the higher term makes it step down.
        this.#send({ to: m.from, type: 'appResp' });
      } else if (m.type === 'preVote') {
        this.#send({ to: m.from, type: 'preVoteResp', term: this.term, reject: true });
      }
      return null;
    }

    if (m.type === 'vote' || m.type === 'preVote') {
      this.#handleVoteRequest(m);
      return null;
    }
    if (m.type === 'voteResp' || m.type === 'preVoteResp') this.#learnCommit(m.index, m.logTerm);
    switch (this.role) {
      case 'leader':
        return this.#stepLeader(m);
      case 'candidate':
      case 'preCandidate':
        return this.#stepCandidate(m);
      case 'follower':
        return this.#stepFollower(m);
    }
  }

  #stepLeader(m: Message): ProposalDroppedReason | null {
    switch (m.type) {
      case 'prop':
        return this.#handleProposal(m);
      case 'readIndex':
        this.#handleReadIndex(m.context ?? EMPTY, m.from);
        return null;
      case 'transferLeader':
        return this.#handleTransferLeader(m.transferee ?? m.from);
      case 'appResp': {
        const pr = this.tracker.progress.get(m.from);
        if (pr) this.#handleAppendResponse(m, pr);
        return null;
      }
      case 'heartbeatResp': {
        const pr = this.tracker.progress.get(m.from);
        if (pr) this.#handleHeartbeatResponse(m, pr);
        return null;
      }
      default:
        return null;
    }
  }

  #stepCandidate(m: Message): ProposalDroppedReason | null {
    switch (m.type) {
      case 'prop':
      case 'readIndex':
      case 'transferLeader':
        return 'noLeader';
      case 'app':
        this.becomeFollower(m.term, m.from);
        this.#handleAppend(m);
        return null;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.#handleHeartbeat(m);
        return null;
      case 'snap':
        this.becomeFollower(m.term, m.from);
        this.#handleSnapshot(m);
        return null;
      case 'voteResp':
      case 'preVoteResp': {
        const expected = this.role === 'preCandidate' ? 'preVoteResp' : 'voteResp';
        if (m.type !== expected) return null;
        this.tracker.recordVote(m.from, !m.reject);
        const { result } = this.tracker.tallyVotes();
        if (result === 'won') {
          if (this.role === 'preCandidate') this.#campaign('election', false);
          else this.#becomeLeader();
        } else if (result === 'lost') {
          this.becomeFollower(this.term, null);
        }
        return null;
      }
      default:
        return null;
    }
  }

  #stepFollower(m: Message): ProposalDroppedReason | null {
    switch (m.type) {
      case 'prop':
        // Only our own proposals are forwarded: relaying others' could bounce between nodes
        // with stale ideas of the leader.
        if (m.from !== this.id) return null;
        if (this.leader === null) return 'noLeader';
        this.#send({ to: this.leader, type: 'prop', term: 0, entries: m.entries });
        return null;
      case 'readIndex': {
        if (this.leader === null) return 'noLeader';
        if (m.from !== this.id) return null;
        this.#send({ to: this.leader, type: 'readIndex', term: 0, context: m.context ?? EMPTY });
        return null;
      }
      case 'transferLeader': {
        if (this.leader === null) return 'noLeader';
        if (m.from !== this.id) return null;
        this.#send({ to: this.leader, type: 'transferLeader', term: 0, transferee: m.transferee ?? this.id });
        return null;
      }
      case 'app':
        this.#electionElapsed = 0;
        this.leader = m.from;
        this.#handleAppend(m);
        return null;
      case 'heartbeat':
        this.#electionElapsed = 0;
        this.leader = m.from;
        this.#handleHeartbeat(m);
        return null;
      case 'snap':
        this.#electionElapsed = 0;
        this.leader = m.from;
        this.#handleSnapshot(m);
        return null;
      case 'timeoutNow':
        // A leader that removed itself sends this right after applying the removal; we may
        // not have applied it yet, and must not campaign in the old configuration.
        if (this.#hasUnappliedConfChanges()) this.#transferCampaignTerm = this.term;
        else this.hup(true);
        return null;
      case 'readIndexResp':
        this.readStates.push({ index: m.index, context: m.context ?? EMPTY });
        return null;
      default:
        return null;
    }
  }

  // ---- follower side of replication ----

  /**
   * An ack still queued (it leaves only after the next Ready is persisted) promises entries that
   * this append is about to overwrite: sent after that Ready, it would claim a log the node no
   * longer has, and an old leader could count it toward a commit. Drop it; the leader retries.
   * Found by the simulator (5 nodes, seed 4175).
   */
  #dropAcksOfEntriesToBeReplaced(m: Message): void {
    const queuedAck = (x: Message): boolean => x.type === 'appResp' && !x.reject;
    if (!this.msgs.some(queuedAck) || !this.log.matchTerm(m.index, m.logTerm)) return;
    const conflict = this.log.findConflict(m.entries);
    if (conflict === 0 || conflict > this.log.lastIndex()) return;
    this.msgs = this.msgs.filter((x) => !(queuedAck(x) && x.index >= conflict));
  }

  #handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.#send({ to: m.from, type: 'appResp', index: this.log.committed });
      return;
    }
    this.#dropAcksOfEntriesToBeReplaced(m);
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.#send({ to: m.from, type: 'appResp', index: lastNew });
      return;
    }
    // Tell the leader the last position that could match: the highest index at or below its
    // probe whose term is <= the probe's term. The leader then skips every index in between.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.#send({ to: m.from, type: 'appResp', index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  #handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    const response: OutgoingMessage = { to: m.from, type: 'heartbeatResp', commit: this.log.committed };
    if (m.context !== undefined) response.context = m.context;
    this.#send(response);
  }

  #handleSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    if (snapshot === undefined) return;
    if (this.#restore(snapshot)) {
      this.#send({ to: m.from, type: 'appResp', index: this.log.lastIndex() });
    } else {
      this.#send({ to: m.from, type: 'appResp', index: this.log.committed });
    }
  }

  #restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.log.committed) return false;
    if (this.log.matchTerm(index, term)) {
      // We already hold the snapshot's history: just learn that it is committed.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.tracker.setConf(confState, this.log.lastIndex() + 1);
    return true;
  }

  // ---- leader side of replication ----

  #appendEntries(entries: Entry[]): void {
    const lastIndex = this.log.lastIndex();
    const stamped = entries.map((entry, i) => ({ ...entry, term: this.term, index: lastIndex + 1 + i }));
    this.log.append(stamped);
    this.tracker.progress.get(this.id)?.maybeUpdate(this.log.lastIndex());
    this.#maybeCommit();
  }

  #committedEntryInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term;
  }

  #maybeCommit(): boolean {
    const candidate = this.tracker.committedIndex();
    if (candidate <= this.log.committed) return false;
    // Raft §5.4.2: counting replicas is only safe for entries of the current term.
    if (!this.mutations.commitPreviousTermByCounting && this.log.termOrZero(candidate) !== this.term) return false;
    const hadCommittedInTerm = this.#committedEntryInCurrentTerm();
    this.log.commitTo(candidate);
    if (!hadCommittedInTerm && this.#committedEntryInCurrentTerm()) this.#releaseReadsBeforeFirstCommit();
    return true;
  }

  #bcastAppend(): void {
    for (const id of this.tracker.progress.keys()) if (id !== this.id) this.#sendAppend(id, true);
  }

  #bcastHeartbeat(): void {
    const round = this.#reads.currentRound();
    const context = round === undefined ? undefined : encodeRound(round);
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      // Never tell a follower an index is committed before it is known to hold that index.
      const heartbeat: OutgoingMessage = { to: id, type: 'heartbeat', commit: Math.min(pr.match, this.log.committed) };
      if (context !== undefined) heartbeat.context = context;
      this.#send(heartbeat);
    }
  }

  /** Sends the next batch to `to` if flow control allows; returns whether a message was sent. */
  #sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: number;
    let entries: Entry[];
    try {
      prevTerm = this.log.term(prevIndex);
      entries = this.log.entriesFrom(pr.next, this.maxSizePerMsgBytes);
    } catch (error) {
      if (error instanceof CompactedError) return this.#sendSnapshot(to, pr);
      throw error;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.#send({ to, type: 'app', index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed });
    pr.sentEntries(entries.length, prevIndex + entries.length);
    return true;
  }

  #sendSnapshot(to: NodeId, pr: Progress): boolean {
    // A silent follower might be down; streaming a snapshot to it would be wasted work.
    if (!pr.recentActive) return false;
    let snapshot: Snapshot;
    try {
      snapshot = this.log.snapshot();
    } catch (error) {
      if (error instanceof SnapshotTemporarilyUnavailableError) return false;
      throw error;
    }
    pr.becomeSnapshot(snapshot.metadata.index);
    this.#send({ to, type: 'snap', snapshot });
    return true;
  }

  #handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      // With the follower's (index, term) hint, our own log tells us where the logs can first
      // agree, skipping a whole divergent term per round trip.
      const nextProbe = m.logTerm > 0 ? this.log.findConflictByTerm(m.rejectHint, m.logTerm).index : m.rejectHint;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.#sendAppend(m.from, true);
      }
      return;
    }
    if (m.index > this.log.lastIndex()) {
      // Only possible if the follower holds committed entries this leader lacks.
      throw new Error(
        `raft: ${m.from} acknowledged index ${m.index} beyond leader ${this.id}'s last index ${this.log.lastIndex()}: leader completeness violated`,
      );
    }
    const wasPaused = pr.isPaused();
    const updated = pr.maybeUpdate(m.index);
    if (!updated && !(pr.state === 'probe' && pr.match === m.index)) return;
    switch (pr.state) {
      case 'probe':
        pr.becomeReplicate();
        break;
      case 'snapshot':
        if (pr.match + 1 >= this.log.firstIndex()) {
          pr.becomeProbe();
          pr.becomeReplicate();
        }
        break;
      case 'replicate':
        pr.inflights.freeLE(m.index);
        break;
    }
    if (this.#maybeCommit()) {
      this.#bcastAppend();
    } else if (wasPaused) {
      this.#sendAppend(m.from, true);
    }
    while (this.#sendAppend(m.from, false)) {
      // keep filling the inflight window
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.#completeTransfer(m.from);
  }

  #handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    // The follower's commit shows it installed the snapshot even if its acknowledgement (or
    // the driver's reportSnapshot) got lost; probing from there on is always safe.
    if (pr.state === 'snapshot' && m.commit >= pr.pendingSnapshot) pr.becomeProbe();
    // A full window with a live follower means acks were lost: let one more message through.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex()) this.#sendAppend(m.from, true);
    const round = decodeRound(m.context);
    if (round !== undefined) {
      this.#reads.ack(m.from, round);
      this.#releaseConfirmedReads();
    }
  }

  // ---- proposals ----

  #handleProposal(m: Message): ProposalDroppedReason | null {
    if (!this.tracker.isMember(this.id)) return 'notMember';
    if (this.leadTransferee !== null) return 'transferInProgress';
    if (m.entries.length === 0) return null;
    let confChanges = 0;
    for (const entry of m.entries) {
      if (entry.type !== 'confChange') continue;
      confChanges++;
      if (confChanges > 1 || this.pendingConfIndex > this.log.applied) return 'confChangePending';
      let change: ConfChange;
      try {
        change = decodeConfChange(entry.data);
      } catch {
        return 'invalidConfChange';
      }
      if (confChangeProblem(this.tracker.conf, change) !== null) return 'invalidConfChange';
    }
    if (!this.#increaseUncommittedSize(m.entries)) return 'uncommittedSizeExceeded';
    this.#appendEntries(m.entries);
    const last = this.log.lastIndex();
    const confOffset = m.entries.findIndex((entry) => entry.type === 'confChange');
    if (confOffset >= 0) this.pendingConfIndex = last - m.entries.length + 1 + confOffset;
    this.#bcastAppend();
    return null;
  }

  #increaseUncommittedSize(entries: Entry[]): boolean {
    const size = payloadSizeBytes(entries);
    const limit = this.maxUncommittedEntriesBytes;
    // Always admit into an empty tail, so one oversized proposal cannot block forever.
    if (limit > 0 && this.uncommittedSizeBytes > 0 && this.uncommittedSizeBytes + size > limit) return false;
    this.uncommittedSizeBytes += size;
    return true;
  }

  reduceUncommittedSize(entries: Entry[]): void {
    if (this.role !== 'leader') return;
    this.uncommittedSizeBytes = Math.max(0, this.uncommittedSizeBytes - payloadSizeBytes(entries));
  }

  // ---- reads ----

  #handleReadIndex(context: Uint8Array, from: NodeId): void {
    if (!this.#committedEntryInCurrentTerm()) {
      // Our commit index may lag entries committed by earlier leaders until our own first
      // entry commits; answering now could return a stale index.
      this.#readsBeforeFirstCommit.push({ context, from });
      return;
    }
    if (this.tracker.isQuorum((id) => id === this.id)) {
      this.#answerRead(this.log.committed, context, from);
      return;
    }
    this.#reads.add(this.log.committed, context, from);
    this.#bcastHeartbeat();
  }

  #releaseReadsBeforeFirstCommit(): void {
    const waiting = this.#readsBeforeFirstCommit;
    this.#readsBeforeFirstCommit = [];
    for (const read of waiting) this.#handleReadIndex(read.context, read.from);
  }

  #releaseConfirmedReads(): void {
    const confirmed = this.#reads.takeConfirmed((acked) => this.tracker.isQuorum(acked), this.id);
    for (const read of confirmed) this.#answerRead(read.index, read.context, read.from);
  }

  #answerRead(index: number, context: Uint8Array, from: NodeId): void {
    if (from === this.id) this.readStates.push({ index, context });
    else this.#send({ to: from, type: 'readIndexResp', index, context });
  }

  // ---- leadership transfer ----

  #handleTransferLeader(transferee: NodeId): ProposalDroppedReason | null {
    const pr = this.tracker.progress.get(transferee);
    if (pr === undefined || pr.isLearner) return 'notMember';
    if (this.leadTransferee !== null) {
      if (this.leadTransferee === transferee) return null;
      this.leadTransferee = null;
    }
    if (transferee === this.id) return null;
    // The transfer must complete within one election timeout (checked in #tickLeader).
    this.#electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.log.lastIndex()) this.#completeTransfer(transferee);
    else this.#sendAppend(transferee, true);
    return null;
  }

  // ---- membership ----

  /** Applies a committed conf change (called when the application applies its entry). */
  applyConfChange(change: ConfChange): ConfState {
    const next = applyChangeToConfState(this.tracker.conf, change);
    this.tracker.setConf(next, this.log.lastIndex() + 1);
    if (this.role === 'leader') {
      if (!this.tracker.isVoter(this.id)) {
        this.#handOverAfterRemoval();
      } else {
        if (this.leadTransferee !== null && !this.tracker.isVoter(this.leadTransferee)) this.leadTransferee = null;
        // The quorum changed: a removal can make pending entries committed, and newcomers
        // need their first probe.
        this.#maybeCommit();
        this.#bcastAppend();
        this.#releaseConfirmedReads();
      }
    }
    return copyConfState(next);
  }

  /**
   * This leader just applied its own removal (or demotion). Stepping down at once could strand
   * the cluster: a remaining voter that lacks our newest entries, or has not learnt that the
   * removal committed, may need a vote that our longer log makes us refuse. So keep leading
   * (without taking proposals) until a voter holds our whole log, then hand over with
   * timeoutNow and step down.
   */
  #handOverAfterRemoval(): void {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const id of this.tracker.conf.voters) {
      const match = this.tracker.progress.get(id)?.match ?? 0;
      if (match > bestMatch) {
        best = id;
        bestMatch = match;
      }
    }
    if (best === null) {
      this.becomeFollower(this.term, null);
      return;
    }
    this.leadTransferee = best;
    this.#electionElapsed = 0;
    if (bestMatch === this.log.lastIndex()) this.#completeTransfer(best);
    else this.#sendAppend(best, true);
  }

  #completeTransfer(to: NodeId): void {
    this.#send({ to, type: 'timeoutNow' });
    if (!this.tracker.isVoter(this.id)) this.becomeFollower(this.term, null);
  }

  /** The application applied more entries (RawNode.advance). */
  appliedAdvanced(): void {
    if (this.#transferCampaignTerm === null) return;
    if (this.#transferCampaignTerm !== this.term || this.role !== 'follower') {
      this.#transferCampaignTerm = null;
      return;
    }
    if (this.#hasUnappliedConfChanges()) return;
    this.#transferCampaignTerm = null;
    this.hup(true);
  }

  // ---- driver reports ----

  reportUnreachable(id: NodeId): void {
    if (this.role !== 'leader') return;
    const pr = this.tracker.progress.get(id);
    if (pr?.state === 'replicate') pr.becomeProbe();
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    if (this.role !== 'leader') return;
    const pr = this.tracker.progress.get(id);
    if (pr?.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the follower's answer (or a heartbeat) before probing again.
    pr.probeSent = true;
  }

  // ---- output ----

  #send(partial: OutgoingMessage): void {
    this.msgs.push({
      from: this.id,
      term: this.term,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHint: 0,
      ...partial,
    });
  }
}
