// The public face of src/store. Import from here.
export { MvccStore, type ReplicatedStateMachine, type StoreOptions } from './store.ts';
export { SnapshotStream } from './snapshot-io.ts';
export type { Backend, BackendReader, BackendView, BatchOp, KeyRange } from './backend.ts';
export { LevelBackend } from './level-backend.ts';
export { MemoryBackend } from './memory-backend.ts';
export { decodeCommand, encodeCommand, MAX_TXN_OPS, parseCommand, parseRangeOptions } from './command.ts';
export { compareBytes, fromUtf8, prefixRangeEnd, UNBOUNDED_RANGE_END, utf8 } from './bytes.ts';
export { ApplyOrderError, CompactedError, FutureRevisionError, InvalidCommandError, SnapshotImageError, StoreClosedError, StoreCorruptError } from './errors.ts';
export type * from './types.ts';
// The errors a request through the Raft node can end with, for callers that answer clients (the API).
export { NodeStoppedError, RequestTimeoutError } from '../raftnode/node.ts';
export { ProposalDroppedError } from '../raft/errors.ts';
