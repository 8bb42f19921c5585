/** A read at a revision that compaction dropped (the API layer answers 410 Gone). */
export class CompactedError extends Error {
  constructor(
    readonly revision: number,
    readonly compactRevision: number,
  ) {
    super(`revision ${revision} has been compacted: the store keeps history from revision ${compactRevision} on`);
    this.name = 'CompactedError';
  }
}

/** A read at a revision the store has not reached yet. */
export class FutureRevisionError extends Error {
  constructor(
    readonly revision: number,
    readonly currentRevision: number,
  ) {
    super(`revision ${revision} is in the future: the store is at revision ${currentRevision}`);
    this.name = 'FutureRevisionError';
  }
}

/** Bytes or a value that is not a valid command (encodeCommand throws it; apply turns it into an error result). */
export class InvalidCommandError extends Error {
  constructor(
    message: string,
    /** The command's requestId, when the bytes had a readable one. */
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'InvalidCommandError';
  }
}

/** The data dir holds something that is not a consistent Bramble MVCC store; nothing was changed. */
export class StoreCorruptError extends Error {
  constructor(
    readonly location: string,
    readonly problem: string,
  ) {
    super(
      `the MVCC store in ${location} is damaged: ${problem}. Bramble refuses to start on it rather than lose or ` +
        'rewrite data. Move the directory aside and let this node rejoin the cluster (it will receive a ' +
        'snapshot of the state), or restore it from a backup.',
    );
    this.name = 'StoreCorruptError';
  }
}

/** A snapshot image that does not decode or is inconsistent; the store was not changed. */
export class SnapshotImageError extends Error {
  constructor(problem: string) {
    super(`invalid MVCC snapshot image: ${problem}`);
    this.name = 'SnapshotImageError';
  }
}

/** apply was given entries that do not continue the applied index: a driver bug, nothing was applied. */
export class ApplyOrderError extends Error {
  constructor(expected: number, got: number) {
    super(`apply out of order: expected entry ${expected}, got ${got}`);
    this.name = 'ApplyOrderError';
  }
}

/** The store is closed, or stopped after a failed write (reopen it: it recovers from disk). */
export class StoreClosedError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`the MVCC store is unavailable: ${reason}`, options);
    this.name = 'StoreClosedError';
  }
}
