// Public data types of the Raft core. Everything here is plain data (numbers, strings, booleans,
// arrays, Uint8Array) so it can be CBOR-encoded by a transport or stored by a Storage as is.

import type { Prng } from './prng.ts';

export type NodeId = string;

export type EntryType = 'normal' | 'confChange';

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** For 'confChange' entries: encodeConfChange(cc). An empty normal entry is a leader's no-op. */
  data: Uint8Array;
}

/** State that must be durable before any message of the same Ready is sent. */
export interface HardState {
  term: number;
  vote: NodeId | null;
  commit: number;
}

/** Membership. A node is in at most one of the two lists. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMetadata {
  /** Index of the last entry covered by the snapshot. */
  index: number;
  term: number;
  /** Membership as of `index`. */
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  /** State machine image, opaque to the core. */
  data: Uint8Array;
}

export type ConfChangeType = 'addVoter' | 'addLearner' | 'removeNode';

/**
 * A single-server membership change. `addVoter` on an existing learner promotes it;
 * `addLearner` on an existing voter demotes it.
 */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  context?: Uint8Array;
}

export type MessageType =
  /** leader -> follower: entries after (index, logTerm), leader commit. */
  | 'app'
  /** follower -> leader: index = last matching index, or reject with a hint. */
  | 'appResp'
  | 'vote'
  | 'voteResp'
  /** Like vote, but for term+1 without anybody changing term: a dry run. */
  | 'preVote'
  | 'preVoteResp'
  | 'heartbeat'
  | 'heartbeatResp'
  /** leader -> follower: install `snapshot`. */
  | 'snap'
  /** follower -> leader: forwarded proposals in `entries`. */
  | 'prop'
  /** follower -> leader: read request carrying `context`. */
  | 'readIndex'
  /** leader -> follower: `index` is the read index for `context`. */
  | 'readIndexResp'
  /** leader -> transfer target: campaign now, ignoring the election timer and leases. */
  | 'timeoutNow'
  /** any node -> leader: please hand leadership over to `transferee`. */
  | 'transferLeader';

/**
 * A message between two nodes. Fields that a type does not use are 0 / [] / false.
 *
 * - app:           index/logTerm = the entry preceding `entries`; commit = leader commit.
 * - appResp:       index = highest index known to match (accept) or the rejected probe index
 *                  (reject); on reject, rejectHint = follower's guess of the highest index that
 *                  may match and logTerm = the follower's term at rejectHint.
 * - vote/preVote:  index/logTerm = candidate's last entry; context is 'transfer' bytes when the
 *                  campaign comes from a leadership transfer (it may then break leases).
 * - voteResp/preVoteResp: reject = not granted; index/logTerm = the responder's commit index and
 *                  the term of that entry (a candidate holding the same entry may commit it).
 * - heartbeat:     commit = min(follower match, leader commit); context = read round, echoed back.
 * - heartbeatResp: commit = the follower's commit index; context = the heartbeat's context.
 * - snap:          snapshot set.
 * - transferLeader: transferee = the node that should become leader.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  rejectHint: number;
  snapshot?: Snapshot;
  context?: Uint8Array;
  transferee?: NodeId;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface SoftState {
  leader: NodeId | null;
  role: Role;
}

export interface ReadState {
  /** Apply at least up to this index, then the read may be served from the state machine. */
  index: number;
  /** The context passed to readIndex(); identifies the request. */
  context: Uint8Array;
}

/**
 * What the driver must do next, in this order:
 *   1. persist `snapshot`, `entries` (overwriting any conflicting suffix) and `hardState`
 *      (durably when `mustSync`), preferably in one atomic write (Storage.save);
 *   2. send `messages` (never before step 1 is durable);
 *   3. apply `snapshot` then `committedEntries` to the state machine, calling
 *      RawNode.applyConfChange for every 'confChange' entry;
 *   4. hand `readStates` to waiting readers once applied >= their index;
 *   5. call RawNode.advance(ready).
 */
export interface Ready {
  /** Present only when leader or role changed. Volatile, never persisted. */
  softState?: SoftState;
  /** Present only when changed since the last Ready. */
  hardState?: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  /** True when hardState.term/vote changed or entries are non-empty: an fsync is required. */
  mustSync: boolean;
}

/** Per-follower replication state, as seen by a leader. */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  /** Heard from since the last check-quorum round. */
  recentActive: boolean;
  isLearner: boolean;
  /** Snapshot index being sent (state 'snapshot'), else 0. */
  pendingSnapshot: number;
  inflight: number;
  /** Probe sent, waiting for an answer (state 'probe'); or inflight window full. */
  paused: boolean;
}

export interface Status {
  id: NodeId;
  role: Role;
  term: number;
  vote: NodeId | null;
  leader: NodeId | null;
  commit: number;
  applied: number;
  lastIndex: number;
  confState: ConfState;
  /** Only on a leader: every member (voters and learners, itself included). */
  progress?: Record<NodeId, ProgressStatus>;
  /** Target of a leadership transfer in progress, else null. */
  leadTransferee: NodeId | null;
}

/**
 * Read side of the log storage, used by the core. Synchronous by design: an asynchronous
 * storage keeps what the core reads (log tail, terms, latest snapshot) in memory.
 *
 * Index space: entries in [firstIndex(), lastIndex()] are available; firstIndex() - 1 is the
 * index of the latest snapshot (or of compaction), whose term is still answered by term().
 */
export interface StorageReader {
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi). Throws CompactedError when lo < firstIndex(), UnavailableError when
   * hi > lastIndex() + 1. When maxSizeBytes is given, returns the longest prefix whose total
   * entrySizeBytes stays within it, but always at least one entry.
   */
  entries(lo: number, hi: number, maxSizeBytes?: number): Entry[];
  /** Throws CompactedError below firstIndex() - 1, UnavailableError above lastIndex(). */
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  /** Latest snapshot. May throw SnapshotTemporarilyUnavailableError; the core retries later. */
  snapshot(): Snapshot;
}

/** Write side every Storage implements. Writes may be asynchronous (LevelDB, fsync). */
export interface StorageWriter {
  /**
   * Appends entries (contiguous, ascending). Any stored entry at an index the batch covers,
   * and all after it, are replaced. Entries at or below the snapshot index are ignored.
   * Throws if the batch would leave a gap after lastIndex().
   */
  append(entries: Entry[]): void | Promise<void>;
  setHardState(hardState: HardState): void | Promise<void>;
  /** Replaces the whole log with the snapshot. Throws SnapshotOutOfDateError if older. */
  applySnapshot(snapshot: Snapshot): void | Promise<void>;
  /**
   * Records a snapshot of the state machine as of applied `index` (<= lastIndex()). Does not
   * compact. Throws SnapshotOutOfDateError if index <= current snapshot index.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot | Promise<Snapshot>;
  /**
   * Discards entries up to and including `index`; term(index) stays answerable.
   * Requires index <= the latest snapshot's index, so a lagging follower can always be served
   * by that snapshot. Throws CompactedError if index <= firstIndex() - 1 (already compacted).
   */
  compact(index: number): void | Promise<void>;
  /** snapshot, then entries, then hardState; atomically if the storage can (one batch, one fsync). */
  save(update: StorageUpdate): void | Promise<void>;
}

export interface StorageUpdate {
  hardState?: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  /** When false, durability may be deferred (nothing that votes or acks depends on it). */
  mustSync: boolean;
}

export interface Storage extends StorageReader, StorageWriter {}

/**
 * Deliberate bugs for proving that the simulator and its invariant checkers catch them.
 * TEST-ONLY. All default to false; when false they have no effect at all.
 */
export interface TestingMutations {
  /** Leader commits an entry of an earlier term once a quorum stores it (violates Raft §5.4.2). */
  commitPreviousTermByCounting?: boolean;
  /** Votes are granted without checking that the candidate's log is at least as up to date. */
  grantVoteWithoutLogCheck?: boolean;
  /**
   * Every other Ready that carries messages withholds its hardState/entries until the next
   * Ready, so messages (votes, acks) leave before the state they promise is durable.
   */
  sendBeforePersist?: boolean;
  /** readIndex() answers at once from the local commit index, on any node, with no quorum check. */
  readWithoutReadIndex?: boolean;
}

export interface Config {
  id: NodeId;
  storage: StorageReader;
  /** Followers campaign after a random timeout in [electionTimeoutTicks, 2*electionTimeoutTicks). Default 10. */
  electionTimeoutTicks?: number;
  /** Default 1. Must be < electionTimeoutTicks. */
  heartbeatIntervalTicks?: number;
  /** Source of randomness (election timeouts). Takes precedence over `seed`. */
  prng?: Prng;
  /** Seed for the built-in PRNG when `prng` is absent. Default: derived from `id`. */
  seed?: number;
  /** Default true. */
  preVote?: boolean;
  /** Default true. Also enables the leader lease: followers ignore (pre)votes while a leader is live. */
  checkQuorum?: boolean;
  /** Upper bound for the entries of one append message (at least one entry is always sent). Default 1 MiB. */
  maxSizePerMsgBytes?: number;
  /** Append messages in flight per follower in replicate state. Default 256. */
  maxInflightMsgs?: number;
  /** Leader drops proposals while the uncommitted tail exceeds this. 0 or absent: unlimited. */
  maxUncommittedEntriesBytes?: number;
  /** Upper bound for committedEntries of one Ready (at least one entry). Default: unlimited. */
  maxCommittedSizePerReadyBytes?: number;
  /** Last index applied to the state machine before this restart. Default: snapshot index. */
  applied?: number;
  testingMutations?: TestingMutations;
}
