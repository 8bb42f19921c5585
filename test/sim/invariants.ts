// Raft's safety properties, checked incrementally while a simulation runs. Each check keeps a
// registry across the whole run (all nodes, all incarnations), so a property is checked "across
// all time", not only between the states that happen to coexist at one instant.
//
// The checker knows nothing about the simulator: it is fed facts (a node persisted these
// entries, observed this commit index, applied this entry, sent this message) together with
// a read-only view of the relevant log, which is what makes it testable with hand-made logs.

import { CompactedError, UnavailableError } from '../../src/raft/index.ts';
import type { Entry, HardState, Message, NodeId } from '../../src/raft/index.ts';
import { digestBytes } from './trace.ts';

export type InvariantName =
  /** At most one leader per term, across the whole run. */
  | 'election-safety'
  /** Durable logs: same index and term => same entry and the same preceding term (hence prefix). */
  | 'log-matching'
  /** Every entry committed in an earlier term is in the log of a later term's leader. */
  | 'leader-completeness'
  /** A write a client saw acknowledged is missing from a later leader's log. */
  | 'acked-write-lost'
  /** Nodes committed or applied different entries at one index. */
  | 'state-machine-safety'
  /** A node's commit index went back (in memory within one life; durably across restarts). */
  | 'commit-monotonic'
  /** A vote or append acknowledgement left before the state it promises was durable. */
  | 'persist-before-send'
  /** Committed entries handed to the application out of order or with gaps. */
  | 'apply-order'
  /** The core threw: it detected a state Raft rules out (or crashed). */
  | 'core-error';

export interface ViolationInfo {
  invariant: InvariantName;
  nodeId: NodeId;
  detail: string;
}

export class InvariantViolation extends Error {
  readonly info: ViolationInfo;

  constructor(info: ViolationInfo) {
    super(`${info.invariant} on ${info.nodeId}: ${info.detail}`);
    this.name = 'InvariantViolation';
    this.info = info;
  }
}

/** Read-only view of one node's log (durable or live). */
export interface LogView {
  /** Term at `index`; undefined when compacted away (below the snapshot) or beyond the end. */
  termAt(index: number): number | undefined;
  lastIndex(): number;
  /** Index of the snapshot the log starts after (0 when none). */
  snapshotIndex(): number;
}

/** Adapts a Storage (MemoryStorage) to a LogView. */
export function storageView(storage: {
  term(index: number): number;
  lastIndex(): number;
  snapshot(): { metadata: { index: number } };
}): LogView {
  return {
    termAt(index) {
      try {
        return storage.term(index);
      } catch (error) {
        if (error instanceof CompactedError || error instanceof UnavailableError) return undefined;
        throw error;
      }
    },
    lastIndex: () => storage.lastIndex(),
    snapshotIndex: () => storage.snapshot().metadata.index,
  };
}

/** A LogView over a plain entry list after an optional snapshot point (unit tests). */
export function entriesView(entries: readonly { index: number; term: number }[], snapshot = { index: 0, term: 0 }): LogView {
  const byIndex = new Map(entries.map((e) => [e.index, e.term]));
  return {
    termAt: (index) => (index === snapshot.index && index > 0 ? snapshot.term : byIndex.get(index)),
    lastIndex: () => Math.max(snapshot.index, ...entries.map((e) => e.index)),
    snapshotIndex: () => snapshot.index,
  };
}

interface DurableRecord {
  digest: number;
  /** Term of the preceding entry in the log that held it (undefined if compacted there). */
  prevTerm: number | undefined;
  nodeId: NodeId;
}

interface CommittedRecord {
  term: number;
  /** An upper bound of the term in which it was committed: the lowest term of a node seen holding it as committed. */
  commitTerm: number;
  nodeId: NodeId;
  acked: boolean;
}

export function entryDigest(entry: Entry): number {
  return digestBytes(entry.data, entry.type === 'normal' ? 0x811c9dc5 : 0x1b873593);
}

export interface CheckerOptions {
  /**
   * Check at send time that votes and append acks promise only durable state (default true).
   * Off, a driver bug of that kind must show through its consequences (two leaders in a term,
   * a lost committed entry), which is what the mutation test uses it for.
   */
  persistBeforeSend?: boolean;
}

export class InvariantChecker {
  readonly #persistBeforeSend: boolean;
  readonly #leaders = new Map<number, NodeId>();
  readonly #durable = new Map<number, Map<number, DurableRecord>>();
  readonly #committed = new Map<number, CommittedRecord>();
  /** Committed indexes in the order they were first registered, for per-leader cursors. */
  readonly #committedOrder: number[] = [];
  readonly #leaderCursors = new Map<string, number>();
  readonly #applied = new Map<number, { chain: number; term: number; nodeId: NodeId }>();
  readonly #lifeCommit = new Map<NodeId, number>();
  readonly #durableCommit = new Map<NodeId, number>();
  /** Counters for the run report. */
  readonly counts = { leaders: 0, committed: 0, acked: 0, durableEntries: 0 };

  constructor(options: CheckerOptions = {}) {
    this.#persistBeforeSend = options.persistBeforeSend ?? true;
  }

  leaderOf(term: number): NodeId | undefined {
    return this.#leaders.get(term);
  }

  get highestLeaderTerm(): number {
    let max = 0;
    for (const term of this.#leaders.keys()) if (term > max) max = term;
    return max;
  }

  /** `nodeId` acted as leader of `term` (role reported, or leader-only messages sent). */
  onLeader(nodeId: NodeId, term: number): void {
    const known = this.#leaders.get(term);
    if (known === undefined) {
      this.#leaders.set(term, nodeId);
      this.counts.leaders++;
      return;
    }
    if (known !== nodeId) fail('election-safety', nodeId, `two leaders in term ${term}: ${known} and ${nodeId}`);
  }

  /** `entries` just became durable on `nodeId`; `log` is its durable log after the write. */
  onDurableEntries(nodeId: NodeId, entries: readonly Entry[], log: LogView): void {
    for (const entry of entries) {
      // Entries at or below the snapshot are ignored by the storage.
      if (log.termAt(entry.index) !== entry.term) continue;
      this.counts.durableEntries++;
      const digest = entryDigest(entry);
      const prevTerm = entry.index > 1 ? log.termAt(entry.index - 1) : 0;
      let byTerm = this.#durable.get(entry.index);
      if (byTerm === undefined) {
        byTerm = new Map();
        this.#durable.set(entry.index, byTerm);
      }
      const known = byTerm.get(entry.term);
      if (known === undefined) {
        byTerm.set(entry.term, { digest, prevTerm, nodeId });
        continue;
      }
      if (known.digest !== digest) {
        fail('log-matching', nodeId, `entry ${entry.index} of term ${entry.term} differs from the one ${known.nodeId} holds`);
      }
      if (known.prevTerm !== undefined && prevTerm !== undefined && known.prevTerm !== prevTerm) {
        fail(
          'log-matching',
          nodeId,
          `entry ${entry.index} of term ${entry.term} follows term ${prevTerm} here but term ${known.prevTerm} on ${known.nodeId}`,
        );
      }
      if (known.prevTerm === undefined) known.prevTerm = prevTerm;
    }
  }

  /** A node restarted: its in-memory commit starts again from its durable commit. */
  onRestart(nodeId: NodeId, durableCommit: number): void {
    this.#lifeCommit.set(nodeId, durableCommit);
  }

  /**
   * `nodeId`, in `nodeTerm`, holds `commit` as committed (it was `previous` before); `log` is its
   * log, holding the newly committed entries unless a snapshot covers them.
   */
  onCommit(nodeId: NodeId, nodeTerm: number, commit: number, log: LogView): void {
    const previous = this.#lifeCommit.get(nodeId) ?? 0;
    if (commit < previous) fail('commit-monotonic', nodeId, `commit index went back from ${previous} to ${commit}`);
    this.#lifeCommit.set(nodeId, commit);
    for (let index = previous + 1; index <= commit; index++) {
      const term = log.termAt(index);
      if (term !== undefined) this.#registerCommitted(nodeId, index, term, nodeTerm);
    }
  }

  #registerCommitted(nodeId: NodeId, index: number, term: number, nodeTerm: number): CommittedRecord {
    const known = this.#committed.get(index);
    if (known === undefined) {
      const record = { term, commitTerm: nodeTerm, nodeId, acked: false };
      this.#committed.set(index, record);
      this.#committedOrder.push(index);
      this.counts.committed++;
      return record;
    }
    if (known.term !== term) {
      fail(
        'state-machine-safety',
        nodeId,
        `index ${index} committed with term ${term} here but with term ${known.term} on ${known.nodeId}`,
      );
    }
    if (nodeTerm < known.commitTerm) known.commitTerm = nodeTerm;
    return known;
  }

  /** The durable hard state of `nodeId` after an fsync. */
  onDurableHardState(nodeId: NodeId, hardState: HardState): void {
    const previous = this.#durableCommit.get(nodeId) ?? 0;
    if (hardState.commit < previous) {
      fail('commit-monotonic', nodeId, `durable commit index went back from ${previous} to ${hardState.commit}`);
    }
    this.#durableCommit.set(nodeId, hardState.commit);
  }

  /**
   * `nodeId` leads `term` and `log` holds its whole log: every entry committed in an earlier
   * term must be in it. Checks only what was committed since the last call for this leader.
   */
  checkLeaderLog(nodeId: NodeId, term: number, log: LogView): void {
    const key = `${nodeId}@${term}`;
    const from = this.#leaderCursors.get(key) ?? 0;
    const order = this.#committedOrder;
    const snapshotIndex = log.snapshotIndex();
    for (let k = from; k < order.length; k++) {
      const index = order[k]!;
      const record = this.#committed.get(index)!;
      if (record.commitTerm >= term) continue;
      const held = log.termAt(index);
      // Below the snapshot the entry is folded into the state; the snapshot point itself has a term.
      if (held === undefined && index < snapshotIndex) continue;
      if (held === record.term) continue;
      const what = held === undefined ? `lacks index ${index}` : `has term ${held} at index ${index}`;
      fail(
        record.acked ? 'acked-write-lost' : 'leader-completeness',
        nodeId,
        `leader of term ${term} ${what}, committed with term ${record.term} (seen on ${record.nodeId}${record.acked ? ', acknowledged to a client' : ''})`,
      );
    }
    this.#leaderCursors.set(key, order.length);
  }

  /** Entries a leader of `term` sends must agree with every entry committed in an earlier term. */
  checkLeaderEntries(nodeId: NodeId, term: number, entries: readonly Entry[]): void {
    for (const entry of entries) {
      const record = this.#committed.get(entry.index);
      if (record === undefined || record.commitTerm >= term || record.term === entry.term) continue;
      fail(
        record.acked ? 'acked-write-lost' : 'leader-completeness',
        nodeId,
        `leader of term ${term} replicates term ${entry.term} at index ${entry.index}, committed with term ${record.term} (seen on ${record.nodeId})`,
      );
    }
  }

  /** `nodeId` applied the entry at (index, term), reaching `chain`. */
  onApply(nodeId: NodeId, index: number, term: number, chain: number): void {
    const known = this.#applied.get(index);
    if (known === undefined) {
      this.#applied.set(index, { chain, term, nodeId });
      return;
    }
    if (known.chain !== chain) {
      fail(
        'state-machine-safety',
        nodeId,
        `applied sequence diverges at index ${index} (term ${term} here, term ${known.term} on ${known.nodeId})`,
      );
    }
  }

  /** `nodeId` installed a snapshot at (index, term) whose state has chain hash `chain`. */
  onSnapshotInstalled(nodeId: NodeId, nodeTerm: number, index: number, term: number, chain: number): void {
    this.#registerCommitted(nodeId, index, term, nodeTerm);
    const known = this.#applied.get(index);
    if (known === undefined) {
      this.#applied.set(index, { chain, term, nodeId });
      return;
    }
    if (known.chain !== chain) {
      fail('state-machine-safety', nodeId, `snapshot at index ${index} holds a state that ${known.nodeId} never had there`);
    }
  }

  /** A client was told its write at (index, term) took effect, by `nodeId` in `nodeTerm`. */
  onAck(nodeId: NodeId, nodeTerm: number, index: number, term: number): void {
    const record = this.#registerCommitted(nodeId, index, term, nodeTerm);
    if (!record.acked) {
      record.acked = true;
      this.counts.acked++;
    }
  }

  /**
   * `nodeId` is sending `message`; `durable` is its durable log and hard state, `live` its
   * current log. Votes and append acknowledgements promise durable state.
   */
  onSend(nodeId: NodeId, message: Message, durable: LogView, durableHardState: HardState, live: LogView): void {
    if (!this.#persistBeforeSend) return;
    if (message.type === 'voteResp' && !message.reject) {
      const hs = durableHardState;
      if (hs.term < message.term || (hs.term === message.term && hs.vote !== message.to)) {
        fail(
          'persist-before-send',
          nodeId,
          `vote for ${message.to} in term ${message.term} sent while the durable hard state is term ${hs.term} vote ${hs.vote ?? 'none'}`,
        );
      }
      return;
    }
    if (message.type === 'appResp' && !message.reject && message.index > 0) {
      const index = message.index;
      const durableTerm = durable.termAt(index);
      const liveTerm = live.termAt(index);
      const covered = durableTerm === undefined && index < durable.snapshotIndex();
      if (covered) return;
      if (durableTerm === undefined || (liveTerm !== undefined && durableTerm !== liveTerm)) {
        fail(
          'persist-before-send',
          nodeId,
          `acknowledged index ${index} to ${message.to} (term ${message.term}) while its durable log ${
            durableTerm === undefined ? `ends at ${durable.lastIndex()}` : `has term ${durableTerm} there`
          }`,
        );
      }
    }
  }
}

function fail(invariant: InvariantName, nodeId: NodeId, detail: string): never {
  throw new InvariantViolation({ invariant, nodeId, detail });
}
