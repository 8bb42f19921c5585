/**
 * The application state that Raft replicates (Bramble's MVCC store; a small KV in tests).
 * Every replica applies the same commands in the same order, so `apply` must be deterministic
 * and must not throw for a bad command: it returns an error result instead, identical on every
 * replica.
 */
export interface StateMachine<Result> {
  /** Highest log index whose effects are stored; persisted atomically with those effects. */
  appliedIndex(): number;
  /**
   * Applies committed entries in log order. `command` is null for entries that carry none (a
   * leader's no-op, a membership change): they only advance the applied index.
   */
  apply(batch: { index: number; command: Uint8Array | null }[]): Promise<Result[]>;
  /** A consistent image of the state at appliedIndex(). */
  snapshot(): Promise<Uint8Array>;
  /** Replaces the whole state with an image taken at `index` (empty image: the initial state). */
  restore(image: Uint8Array, index: number): Promise<void>;
}
