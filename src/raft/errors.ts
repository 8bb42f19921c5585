// Typed errors of the Raft core and of Storage implementations, so callers can branch on them.

/** The requested index lies before the first entry still stored (compacted into a snapshot). */
export class CompactedError extends Error {
  constructor(readonly index: number) {
    super(`raft storage: index ${index} is compacted`);
    this.name = 'CompactedError';
  }
}

/** The requested index lies beyond the last entry stored. */
export class UnavailableError extends Error {
  constructor(readonly index: number) {
    super(`raft storage: index ${index} is not available yet`);
    this.name = 'UnavailableError';
  }
}

/** The storage cannot hand out its snapshot right now; the core will ask again later. */
export class SnapshotTemporarilyUnavailableError extends Error {
  constructor() {
    super('raft storage: snapshot temporarily unavailable');
    this.name = 'SnapshotTemporarilyUnavailableError';
  }
}

/** A snapshot older than (or as old as) the one already held was offered. */
export class SnapshotOutOfDateError extends Error {
  constructor(
    readonly index: number,
    readonly currentIndex: number,
  ) {
    super(`raft storage: snapshot at ${index} is not newer than current snapshot at ${currentIndex}`);
    this.name = 'SnapshotOutOfDateError';
  }
}

export type ProposalDroppedReason =
  | 'noLeader'
  | 'transferInProgress'
  | 'confChangePending'
  | 'uncommittedSizeExceeded'
  | 'notMember'
  | 'invalidConfChange';

/**
 * A proposal (or read, or transfer request) could not be accepted now. Nothing was appended;
 * the caller may retry, typically after the next leader change.
 */
export class ProposalDroppedError extends Error {
  constructor(
    readonly reason: ProposalDroppedReason,
    detail?: string,
  ) {
    super(`raft: proposal dropped (${reason})${detail ? `: ${detail}` : ''}`);
    this.name = 'ProposalDroppedError';
  }
}
