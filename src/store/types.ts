// Public data types of the MVCC store. Commands and results are plain data (numbers, strings,
// booleans, arrays, Uint8Array) so they travel through Raft entries and CBOR unchanged.

/** One version of a key, as etcd v3 reports it. */
export interface KeyValue {
  key: Uint8Array;
  /** Empty for a keysOnly read and for the kv of a DELETE event. */
  value: Uint8Array;
  /** Revision of the put that created this generation of the key (0 in a DELETE event). */
  createRevision: number;
  /** Revision of the change that produced this version. */
  modRevision: number;
  /** 1 for the put that creates the key, +1 per later put; 0 in a DELETE event (reset by delete). */
  version: number;
}

/**
 * Which keys an operation covers:
 * - `{ key }`: exactly that key;
 * - `{ key, rangeEnd }`: keys in [key, rangeEnd); `rangeEnd` = one zero byte
 *   (UNBOUNDED_RANGE_END) means every key >= key;
 * - `{ prefix }`: every key that starts with prefix (an empty prefix: every key).
 */
export type KeySelector = { key: Uint8Array; rangeEnd?: Uint8Array; prefix?: undefined } | { prefix: Uint8Array; key?: undefined; rangeEnd?: undefined };

export type RangeOptions = KeySelector & {
  /** At most this many kvs (0 or absent: no limit); `more` says whether some were left out. */
  limit?: number;
  /** Read the state as of this revision (absent or 0: the current revision). */
  revision?: number;
  /** Only `count`, no kvs. */
  countOnly?: boolean;
  /** kvs without values. */
  keysOnly?: boolean;
};

export interface ResponseHeader {
  /** The store's revision when the request was served (after the command, for a write). */
  revision: number;
}

export interface RangeResponse {
  header: ResponseHeader;
  /** In key order. */
  kvs: KeyValue[];
  /** Number of keys in the range at that revision, regardless of `limit`. */
  count: number;
  /** True when `limit` left keys out. */
  more: boolean;
}

// --- commands (what a Raft entry carries) ---

export interface PutRequest {
  op: 'put';
  key: Uint8Array;
  value: Uint8Array;
  /** Return the previous version in the response. */
  prevKv?: boolean;
}

export type DeleteRangeRequest = { op: 'deleteRange'; prevKv?: boolean } & KeySelector;

export type RangeRequest = { op: 'range' } & RangeOptions;

/** What a transaction branch may do, in order; later operations see the earlier writes. */
export type RequestOp = PutRequest | DeleteRangeRequest | RangeRequest;

export type CompareTarget = 'version' | 'createRevision' | 'modRevision' | 'value';
export type CompareResult = '=' | '!=' | '<' | '>';

/**
 * A condition on one key at the start of the transaction. A missing key has version,
 * createRevision and modRevision 0; any comparison of a missing key's value is false.
 * `value` is a number for the revision/version targets and bytes for 'value' (compared bytewise).
 */
export type Compare =
  | { key: Uint8Array; target: 'version' | 'createRevision' | 'modRevision'; result: CompareResult; value: number }
  | { key: Uint8Array; target: 'value'; result: CompareResult; value: Uint8Array };

export interface TxnRequest {
  op: 'txn';
  /** All must hold for `success` to run; otherwise `failure` runs. */
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

/** Drops history below `revision` (see README: compaction). */
export interface CompactRequest {
  op: 'compact';
  revision: number;
}

/**
 * A state machine command. `requestId` is echoed in the result so a proposer can match it
 * (the Raft driver also carries its own id in the entry envelope).
 */
export type Command = (PutRequest | DeleteRangeRequest | TxnRequest | CompactRequest) & { requestId?: string };

// --- results of apply ---

export interface PutResponse {
  op: 'put';
  header: ResponseHeader;
  prevKv?: KeyValue;
}

export interface DeleteRangeResponse {
  op: 'deleteRange';
  header: ResponseHeader;
  deleted: number;
  /** The deleted versions, when the request asked for prevKv. */
  prevKvs: KeyValue[];
}

export type ResponseOp = PutResponse | DeleteRangeResponse | ({ op: 'range' } & RangeResponse);

export interface TxnResponse {
  op: 'txn';
  header: ResponseHeader;
  succeeded: boolean;
  /** One per operation of the branch that ran. */
  responses: ResponseOp[];
}

export interface CompactResponse {
  op: 'compact';
  header: ResponseHeader;
}

/** An entry without a command (a leader's no-op, a membership change): only the applied index moved. */
export interface NoopResponse {
  op: 'noop';
  header: ResponseHeader;
}

export type ApplyErrorCode =
  /** The bytes are not a command this store understands. */
  | 'invalid-command'
  /** A read or compaction at a revision that compaction already dropped. */
  | 'compacted'
  /** A read or compaction at a revision the store has not reached. */
  | 'future-revision'
  /** A transaction branch writes the same key twice (put/put or put inside a deleteRange). */
  | 'duplicate-key'
  /** A transaction with more than MAX_TXN_OPS operations in a branch or comparisons. */
  | 'too-many-ops';

/** A command that was refused. It changed nothing but the applied index, identically on every replica. */
export interface ErrorResponse {
  op: 'error';
  header: ResponseHeader;
  error: { code: ApplyErrorCode; message: string };
}

export type ApplyResponse = PutResponse | DeleteRangeResponse | TxnResponse | CompactResponse | NoopResponse | ErrorResponse;

/** The result of applying one entry: its Raft index, the command's requestId, the response. */
export type ApplyResult = ApplyResponse & { index: number; requestId?: string };

/** One committed entry for apply: `command` is null for an entry without one. */
export interface ApplyEntry {
  index: number;
  command: Uint8Array | null;
}

// --- watch ---

export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  /** For DELETE: key, empty value, createRevision 0, modRevision = revision of the delete, version 0. */
  kv: KeyValue;
  /** The version before this change, when the watch asked for it and history still holds it. */
  prevKv?: KeyValue;
}

export type WatchOptions = KeySelector & {
  /**
   * First revision to report. History from there on is replayed first, then live events follow.
   * Absent or 0: from the next revision on (live only).
   */
  startRevision?: number;
  /** Attach the previous version to each event. */
  prevKv?: boolean;
};

export type WatchResponse =
  /** Events of one or more consecutive revisions, in revision order. */
  | { type: 'events'; events: WatchEvent[] }
  /**
   * The watch cannot continue: compaction dropped revisions it still needed. It is closed;
   * list again (at the current revision) and watch from there. `compactRevision` is the
   * compaction point: watches may start at it or later.
   */
  | { type: 'compacted'; compactRevision: number }
  /** The store closed (or was replaced by a snapshot that does not contain the watch's position). */
  | { type: 'cancelled'; reason: 'closed' | 'restored' };

export type WatchCallback = (response: WatchResponse) => void;

export interface Watch {
  readonly id: number;
  /** Stops the watch; the callback is not called afterwards. */
  cancel(): void;
}
