// The node's view of the replicated log: durable entries (StorageReader) followed by unstable
// ones, plus the commit and applied positions.

import { limitSize } from './entries.ts';
import { CompactedError, UnavailableError } from './errors.ts';
import type { Entry, Snapshot, StorageReader } from './types.ts';
import { Unstable } from './unstable.ts';

export class RaftLog {
  readonly storage: StorageReader;
  readonly unstable: Unstable;
  /** Highest index known to be committed by a quorum. */
  committed: number;
  /** Highest index the application has applied (as reported through advance()). */
  applied: number;

  constructor(storage: StorageReader) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term at `index`; throws CompactedError/UnavailableError outside [firstIndex()-1, lastIndex()]. */
  term(index: number): number {
    const dummy = this.firstIndex() - 1;
    if (index < dummy) throw new CompactedError(index);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    return this.unstable.maybeTerm(index) ?? this.storage.term(index);
  }

  /** Term at `index`, or 0 when it is compacted away or beyond the log. */
  termOrZero(index: number): number {
    try {
      return this.term(index);
    } catch (error) {
      if (error instanceof CompactedError || error instanceof UnavailableError) return 0;
      throw error;
    }
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  matchTerm(index: number, term: number): boolean {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return false;
    return this.term(index) === term;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Appends leader entries that follow (prevIndex, prevTerm) if our log matches there; returns
   * the index of the last entry the leader sent (which now matches), or undefined on mismatch.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, entries: Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new Error(`raft log: entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      }
      this.append(entries.slice(conflict - (prevIndex + 1)));
    }
    // Only what is known to match the leader may be committed, hence lastNew, not lastIndex().
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  append(entries: Entry[]): number {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    if (first.index - 1 < this.committed) {
      throw new Error(`raft log: appending at ${first.index} would overwrite committed ${this.committed}`);
    }
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * Index of the first entry that is new or conflicts with ours (same index, other term), or 0
   * when we already hold all of them.
   */
  findConflict(entries: Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * The highest position at or below `index` whose term is <= `term`, with that term (0 when
   * compacted). Used on both sides of a rejected append to skip a whole term per round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let at = Math.min(index, this.lastIndex());
    for (;;) {
      const ourTerm = this.termOrZero(at);
      if (ourTerm <= term || at <= 0) return { index: at, term: ourTerm };
      if (at < this.firstIndex()) return { index: at, term: 0 };
      at--;
    }
  }

  unstableEntries(): Entry[] {
    return [...this.unstable.entries];
  }

  /** Entries in [lo, hi), reading storage then the unstable tail; bounded by maxSizeBytes. */
  slice(lo: number, hi: number, maxSizeBytes?: number): Entry[] {
    if (lo > hi) throw new RangeError(`raft log: invalid slice [${lo}, ${hi})`);
    if (lo < this.firstIndex()) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    if (lo === hi) return [];
    let result: Entry[] = [];
    const stableHi = Math.min(hi, this.unstable.offset);
    if (lo < stableHi) {
      result = this.storage.entries(lo, stableHi, maxSizeBytes);
      if (result.length < stableHi - lo) return result;
    }
    if (hi > this.unstable.offset) {
      const tail = this.unstable.slice(Math.max(lo, this.unstable.offset), hi);
      result = result.length > 0 ? result.concat(tail) : tail;
    }
    return limitSize(result, maxSizeBytes);
  }

  /** Entries from `from` to the end, bounded by maxSizeBytes. */
  entriesFrom(from: number, maxSizeBytes?: number): Entry[] {
    if (from > this.lastIndex()) return [];
    return this.slice(from, this.lastIndex() + 1, maxSizeBytes);
  }

  /** Committed entries not yet handed to the application, starting after `appliedOrApplying`. */
  nextCommittedEntries(appliedOrApplying: number, maxSizeBytes?: number, maxIndex = this.committed): Entry[] {
    const lo = Math.max(appliedOrApplying + 1, this.firstIndex());
    const hi = Math.min(this.committed, maxIndex) + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, maxSizeBytes);
  }

  hasNextCommittedEntries(appliedOrApplying: number): boolean {
    return this.committed + 1 > Math.max(appliedOrApplying + 1, this.firstIndex());
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      throw new Error(`raft log: commit ${index} is beyond last index ${this.lastIndex()}`);
    }
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index === 0 || index <= this.applied) return;
    if (index > this.committed) {
      throw new Error(`raft log: applied ${index} is beyond committed ${this.committed}`);
    }
    this.applied = index;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** Replaces the log with `snapshot`; everything up to its index counts as committed. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }
}
