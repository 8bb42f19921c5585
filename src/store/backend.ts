// The little a store needs from its storage engine: ordered byte keys, atomic batches and a
// consistent read view. LevelBackend (classic-level) and MemoryBackend implement it, so the
// store's code path is the same with or without disks.

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/** Keys with gte <= key < lt, in key order. */
export interface KeyRange {
  gte: Uint8Array;
  lt: Uint8Array;
  /** At most this many (absent: all). */
  limit?: number;
}

export interface BackendReader {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  entries(range: KeyRange): Promise<[Uint8Array, Uint8Array][]>;
  /** The greatest key in the range, if any. */
  lastKey(range: KeyRange): Promise<Uint8Array | undefined>;
}

/** A read-only image of the backend as of its creation; close it when done. */
export interface BackendView extends BackendReader {
  close(): Promise<void>;
}

export interface Backend extends BackendReader {
  /** Where the data lives, for error messages (a directory, or "memory"). */
  readonly location: string;
  /** Opens (creating if needed); may be called again after close() on the same data. */
  open(): Promise<void>;
  close(): Promise<void>;
  /** Applies every op or none. `sync`: durable on return (fsync), else only handed to the OS. */
  write(ops: BatchOp[], options: { sync: boolean }): Promise<void>;
  view(): BackendView;
}
