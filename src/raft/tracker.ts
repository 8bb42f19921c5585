// Membership plus per-member progress and election votes; all quorum arithmetic lives here.

import { copyConfState } from './conf-change.ts';
import { Progress } from './progress.ts';
import type { ConfState, NodeId } from './types.ts';

export type VoteResult = 'won' | 'lost' | 'pending';

export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

export class ProgressTracker {
  conf: ConfState = { voters: [], learners: [] };
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  readonly #maxInflightMsgs: number;

  constructor(maxInflightMsgs: number) {
    this.#maxInflightMsgs = maxInflightMsgs;
  }

  isVoter(id: NodeId): boolean {
    return this.conf.voters.includes(id);
  }

  isMember(id: NodeId): boolean {
    return this.conf.voters.includes(id) || this.conf.learners.includes(id);
  }

  /** Switches membership; new members start probing at nextIndex, dropped ones are forgotten. */
  setConf(conf: ConfState, nextIndex: number): void {
    this.conf = copyConfState(conf);
    const members = new Set([...conf.voters, ...conf.learners]);
    for (const id of [...this.progress.keys()]) {
      if (!members.has(id)) this.progress.delete(id);
    }
    for (const id of members) {
      const isLearner = !conf.voters.includes(id);
      const existing = this.progress.get(id);
      if (existing) {
        existing.isLearner = isLearner;
      } else {
        const fresh = new Progress(nextIndex, this.#maxInflightMsgs, isLearner);
        // A newcomer counts as active so that check-quorum does not immediately fail on it.
        fresh.recentActive = true;
        this.progress.set(id, fresh);
      }
    }
  }

  /** Fresh progress for every member (new term): nothing known, probe from nextIndex. */
  resetProgress(nextIndex: number, self: NodeId, selfMatch: number): void {
    for (const [id, old] of this.progress) {
      const fresh = new Progress(nextIndex, this.#maxInflightMsgs, old.isLearner);
      if (id === self) {
        fresh.match = selfMatch;
        fresh.recentActive = true;
      }
      this.progress.set(id, fresh);
    }
  }

  /** Highest index replicated on a quorum of voters (0 with no voters). */
  committedIndex(): number {
    const matches = this.conf.voters.map((id) => this.progress.get(id)?.match ?? 0).sort((a, b) => b - a);
    if (matches.length === 0) return 0;
    return matches[quorumSize(matches.length) - 1]!;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.conf.voters) {
      const vote = this.votes.get(id);
      if (vote === true) granted++;
      else if (vote === false) rejected++;
    }
    const quorum = quorumSize(this.conf.voters.length);
    let result: VoteResult = 'pending';
    if (granted >= quorum) result = 'won';
    else if (rejected > this.conf.voters.length - quorum) result = 'lost';
    return { granted, rejected, result };
  }

  /** Whether a quorum of voters (counting `self` as active) was heard from recently. */
  quorumActive(self: NodeId): boolean {
    let active = 0;
    for (const id of this.conf.voters) {
      if (id === self || this.progress.get(id)?.recentActive) active++;
    }
    return active >= quorumSize(this.conf.voters.length);
  }

  /** Whether the voters in `acked` (a set of ids) form a quorum. */
  isQuorum(acked: (id: NodeId) => boolean): boolean {
    let count = 0;
    for (const id of this.conf.voters) if (acked(id)) count++;
    return count >= quorumSize(this.conf.voters.length);
  }
}
