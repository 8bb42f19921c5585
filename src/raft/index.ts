// Public entry point of the Raft core.

export { BOOTSTRAP_INDEX, BOOTSTRAP_TERM, bootstrapState } from './bootstrap.ts';
export { applyChangeToConfState, decodeConfChange, encodeConfChange } from './conf-change.ts';
export { ENTRY_OVERHEAD_BYTES, entrySizeBytes, limitSize } from './entries.ts';
export {
  CompactedError,
  ProposalDroppedError,
  type ProposalDroppedReason,
  SnapshotOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
} from './errors.ts';
export { MemoryStorage, type MemoryStorageOptions } from './memory-storage.ts';
export { createPrng, type Prng, seedFromString } from './prng.ts';
export {
  DEFAULT_ELECTION_TIMEOUT_TICKS,
  DEFAULT_HEARTBEAT_INTERVAL_TICKS,
  DEFAULT_MAX_INFLIGHT_MSGS,
  DEFAULT_MAX_SIZE_PER_MSG_BYTES,
} from './raft.ts';
export { RawNode } from './raw-node.ts';
export type * from './types.ts';
