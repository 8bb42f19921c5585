import type { RaftNode } from '../raftnode/node.ts';
import { encodeCommand, parseRangeOptions } from './command.ts';
import type { MvccStore } from './store.ts';
import type {
  ApplyErrorCode,
  ApplyResult,
  Command,
  CompactResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeOptions,
  RangeResponse,
  TxnRequest,
  TxnResponse,
  WatchCallback,
  WatchOptions,
} from './types.ts';

/** A command the state machine refused, identically on every replica (nothing but the index moved). */
export class StoreRequestError extends Error {
  constructor(
    readonly code: ApplyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreRequestError';
  }
}

type Without<T> = T extends unknown ? Omit<T, 'op'> : never;

/**
 * The cluster's key-value store as one object: writes go through Raft and resolve with the
 * result the state machine computed; reads are linearizable (ReadIndex) unless asked to be
 * served locally.
 */
export class ReplicatedStore {
  constructor(
    readonly node: RaftNode<ApplyResult>,
    readonly local: MvccStore,
  ) {}

  put(request: Without<PutRequest>): Promise<PutResponse> {
    return this.write({ op: 'put', ...request }, 'put');
  }

  deleteRange(request: Without<DeleteRangeRequest>): Promise<DeleteRangeResponse> {
    return this.write({ op: 'deleteRange', ...request } as DeleteRangeRequest, 'deleteRange');
  }

  txn(request: Without<TxnRequest>): Promise<TxnResponse> {
    return this.write({ op: 'txn', ...request }, 'txn');
  }

  compact(revision: number): Promise<CompactResponse> {
    return this.write({ op: 'compact', revision }, 'compact');
  }

  /** Linearizable by default; `serializable` reads this node's state as it is (may be stale). */
  async range(options: RangeOptions, consistency: { serializable?: boolean } = {}): Promise<RangeResponse> {
    const checked = parseRangeOptions(options);
    if (!consistency.serializable) await this.node.linearizableRead();
    return this.local.range(checked);
  }

  /** Events as this node applies them; replays history from startRevision while it is held. */
  watch(options: WatchOptions, callback: WatchCallback) {
    return this.local.watch(options, callback);
  }

  private async write<K extends ApplyResult['op']>(command: Command, expected: K): Promise<Extract<ApplyResult, { op: K }>> {
    // encodeCommand validates first: a malformed request never reaches the log.
    const result = await this.node.propose(encodeCommand(command));
    if (result.op === 'error') throw new StoreRequestError(result.error.code, result.error.message);
    if (result.op !== expected) throw new Error(`store: expected a ${expected} result, got ${result.op}`);
    return result as Extract<ApplyResult, { op: K }>;
  }
}
