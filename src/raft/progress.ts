// A leader's view of one follower's log, and the flow control that bounds what it sends.

import type { ProgressState, ProgressStatus } from './types.ts';

/**
 * Last indices of append messages sent to a follower in replicate state and not yet
 * acknowledged. Bounded, so a slow follower cannot make the leader queue unbounded data.
 */
export class Inflights {
  readonly capacity: number;
  #lastIndices: number[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get count(): number {
    return this.#lastIndices.length;
  }

  full(): boolean {
    return this.#lastIndices.length >= this.capacity;
  }

  add(lastIndex: number): void {
    if (this.full()) throw new Error('inflights: window is full');
    this.#lastIndices.push(lastIndex);
  }

  /** An acknowledgement up to `index` covers every message ending at or below it. */
  freeLE(index: number): void {
    let freed = 0;
    while (freed < this.#lastIndices.length && this.#lastIndices[freed]! <= index) freed++;
    if (freed > 0) this.#lastIndices = this.#lastIndices.slice(freed);
  }

  freeFirstOne(): void {
    this.#lastIndices.shift();
  }

  reset(): void {
    this.#lastIndices = [];
  }
}

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match: number;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and is unanswered; wait for a reply or heartbeat. */
  probeSent = false;
  /** In snapshot state: index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from this follower since the last check-quorum round. */
  recentActive = false;
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, isLearner: boolean) {
    this.match = 0;
    this.next = next;
    this.isLearner = isLearner;
    this.inflights = new Inflights(maxInflightMsgs);
  }

  #resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot the follower holds at least the snapshot, so probing resumes after it.
    const afterSnapshot = this.state === 'snapshot' ? this.pendingSnapshot + 1 : 0;
    this.#resetState('probe');
    this.next = Math.max(this.match + 1, afterSnapshot);
  }

  becomeReplicate(): void {
    this.#resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.#resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** Follower acknowledged up to `index`; returns whether match moved forward. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** Records an append carrying entries up to `lastIndex` (0 entries: a probe or empty append). */
  sentEntries(entryCount: number, lastIndex: number): void {
    if (this.state === 'replicate') {
      if (entryCount > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /**
   * The follower rejected an append probing at `rejected`; `matchHint` is the highest index
   * that may still match. Returns false for stale rejections that must be ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  status(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      recentActive: this.recentActive,
      isLearner: this.isLearner,
      pendingSnapshot: this.pendingSnapshot,
      inflight: this.inflights.count,
      paused: this.isPaused(),
    };
  }
}
