import type { Backend } from './backend.ts';
import { toKeyString } from './bytes.ts';
import { decodeCommand, parseRangeOptions } from './command.ts';
import { ApplyOrderError, CompactedError, FutureRevisionError, InvalidCommandError, StoreClosedError, StoreCorruptError } from './errors.ts';
import { execute } from './apply.ts';
import { entryBefore, type KeyHistory } from './key-index.ts';
import { LevelBackend } from './level-backend.ts';
import { decodeRecord, parseRevisionKey, revisionKey, type RevisionRecord, type StoreState } from './layout.ts';
import { loadStore } from './open.ts';
import { MissingRecordError, readRange, versionOf, type IndexView, type Located, type RecordSource } from './range.ts';
import { collectImage, SnapshotStream, replaceState } from './snapshot-io.ts';
import type { SortedMap } from './sorted-map.ts';
import type { ApplyEntry, ApplyResponse, ApplyResult, KeyValue, RangeOptions, RangeResponse, Watch, WatchCallback, WatchOptions } from './types.ts';
import { WatchHub, type Position } from './watch.ts';
import { WriteTxn, type Change } from './write-txn.ts';

export interface StoreOptions {
  /** Called when a watch callback throws (the watch is cancelled). Default: console.error. */
  onWatchError?: (error: unknown, watchId: number) => void;
}

/**
 * The shape the Raft driver drives (src/raftnode's StateMachine): apply a batch of committed
 * entries, snapshot, restore. See MvccStore.stateMachine().
 */
export interface ReplicatedStateMachine<Result> {
  appliedIndex(): number;
  apply(batch: ApplyEntry[]): Promise<Result[]>;
  snapshot(): Promise<Uint8Array>;
  restore(image: Uint8Array, index: number): Promise<void>;
}

/** Reads can race a compaction or a restore; after this many retries something is wrong. */
const MAX_READ_ATTEMPTS = 8;

/**
 * The replicated MVCC key-value store (etcd v3 semantics). Writes only through apply/applyBatch
 * with committed Raft entries, in log order; reads at any time. See README.md.
 */
export class MvccStore {
  private queue: Promise<unknown> = Promise.resolve();
  /** A compaction point being written: its deletes may be visible before `state` says so. */
  private pendingCompaction = 0;
  /** Bumped when a restore starts and when it ends, so reads that overlap one retry. */
  private epoch = 0;
  private restoring: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  private failure: unknown;
  private readonly hub: WatchHub;

  private constructor(
    private readonly backend: Backend,
    private state: StoreState,
    private index: SortedMap<KeyHistory>,
    options: StoreOptions,
  ) {
    const onWatchError = options.onWatchError ?? ((error, id) => console.error(`bramble store: watch ${id} stopped:`, error));
    this.hub = new WatchHub(
      {
        revision: () => this.state.revision,
        compactedRevision: () => this.state.compactedRevision,
        compactFloor: () => Math.max(this.state.compactedRevision, this.pendingCompaction),
        epoch: () => this.epoch,
        settled: () => this.settled(),
        readChanges: (from, to, limit) => this.readChanges(from, to, limit),
        previous: (changes) => this.previousVersions(changes),
      },
      onWatchError,
    );
  }

  /**
   * Opens the store in `backend` (a directory path: LevelDB there), creating an empty one if the
   * backend holds nothing. Throws StoreCorruptError, naming the location, for anything that is
   * not a consistent store, and then has written nothing.
   */
  static async open(backend: Backend | string, options: StoreOptions = {}): Promise<MvccStore> {
    const opened = typeof backend === 'string' ? new LevelBackend(backend) : backend;
    await opened.open();
    try {
      const { state, index } = await loadStore(opened);
      return new MvccStore(opened, state, index, options);
    } catch (error) {
      await opened.close().catch(() => undefined);
      throw error;
    }
  }

  /** Highest Raft index whose effects are stored (persisted in the same batch as them). */
  appliedIndex(): number {
    return this.state.appliedIndex;
  }

  /** The current revision: that of the last change (0 for an empty store). */
  revision(): number {
    return this.state.revision;
  }

  /** Reads below this revision fail with CompactedError; watches may start at it or later. */
  compactedRevision(): number {
    return this.state.compactedRevision;
  }

  /** Applies one committed entry (`index` must be appliedIndex() + 1). */
  async apply(index: number, command: Uint8Array | null): Promise<ApplyResult> {
    const [result] = await this.applyBatch([{ index, command }]);
    return result!;
  }

  /**
   * Applies consecutive committed entries, starting at appliedIndex() + 1, and writes all their
   * effects with the new applied index in one backend batch (not fsynced: the Raft log is the
   * durable copy; after a crash the driver re-applies from appliedIndex()). A command that is
   * invalid or refused yields an error result and changes nothing but the applied index. Throws
   * only for a driver bug (ApplyOrderError) or a failed write, and then applies nothing.
   */
  applyBatch(entries: ApplyEntry[]): Promise<ApplyResult[]> {
    return this.exclusive(async () => {
      this.checkUsable();
      entries.forEach((entry, i) => {
        const expected = this.state.appliedIndex + 1 + i;
        if (entry.index !== expected) throw new ApplyOrderError(expected, entry.index);
      });
      if (entries.length === 0) return [];
      const tx = new WriteTxn(this.index, this.backend, this.state);
      const results: ApplyResult[] = [];
      try {
        for (const entry of entries) {
          results.push(await this.applyEntry(tx, entry));
          tx.state.appliedIndex = entry.index;
        }
      } catch (error) {
        // Nothing of the batch is written. A change the index promises but the backend lacks is damage.
        if (error instanceof MissingRecordError) throw new StoreCorruptError(this.backend.location, error.message);
        throw error;
      }
      if (tx.compactedTo !== undefined) this.pendingCompaction = tx.compactedTo;
      try {
        await this.backend.write(tx.batch(), { sync: false });
      } catch (error) {
        this.failure = error;
        throw new StoreClosedError('writing an apply batch failed; reopen the store to recover', { cause: error });
      }
      tx.commit();
      this.state = tx.state;
      this.hub.committed(tx.changes);
      return results;
    });
  }

  /**
   * Keys in a range at the current or an older revision. Throws CompactedError below the
   * compaction point, FutureRevisionError above the current revision, InvalidCommandError for
   * malformed options.
   */
  async range(options: RangeOptions): Promise<RangeResponse> {
    const parsed = parseRangeOptions(options);
    const explicit = parsed.revision !== undefined && parsed.revision > 0;
    for (let attempt = 1; ; attempt++) {
      await this.settled();
      this.checkUsable();
      const epoch = this.epoch;
      const current = this.state.revision;
      const revision = explicit ? parsed.revision! : current;
      if (revision > current) throw new FutureRevisionError(revision, current);
      if (revision < this.state.compactedRevision) throw new CompactedError(revision, this.state.compactedRevision);
      try {
        const result = await readRange(this.committedView, this.recordSource, parsed, revision);
        if (epoch === this.epoch) return { header: { revision: current }, ...result };
      } catch (error) {
        if (!(error instanceof MissingRecordError)) throw error;
        const floor = Math.max(this.state.compactedRevision, this.pendingCompaction);
        // A record can vanish under a read only through a compaction above its revision or a restore.
        if (epoch === this.epoch && revision >= floor) throw new StoreCorruptError(this.backend.location, error.message);
        if (epoch === this.epoch && explicit) throw new CompactedError(revision, floor);
      }
      if (attempt >= MAX_READ_ATTEMPTS) throw new Error(`range: the store changed under the read ${attempt} times in a row`);
    }
  }

  /** One key at the current (or the given) revision; undefined if it does not exist then. */
  async get(key: Uint8Array, options: { revision?: number } = {}): Promise<KeyValue | undefined> {
    const { kvs } = await this.range({ key, ...options });
    return kvs[0];
  }

  /**
   * Watches a key or range from `startRevision`: first the history still held, then live
   * changes as they are applied, in revision order. Below the compaction point the callback
   * gets one { type: 'compacted', compactRevision } and the watch ends. Callbacks are never
   * called before watch() returns, nor after cancel().
   */
  watch(options: WatchOptions, callback: WatchCallback): Watch {
    this.checkUsable();
    const { startRevision, prevKv, ...selector } = options;
    parseRangeOptions(selector, 'watch');
    if (startRevision !== undefined && !(Number.isSafeInteger(startRevision) && startRevision >= 0)) {
      throw new InvalidCommandError('watch.startRevision must be a non-negative integer');
    }
    if (prevKv !== undefined && typeof prevKv !== 'boolean') throw new InvalidCommandError('watch.prevKv must be true or false');
    return this.hub.watch(options, callback);
  }

  /** Number of open watches. */
  watchCount(): number {
    return this.hub.size;
  }

  /**
   * A consistent image of the whole state at appliedIndex() (taken between two batches).
   * For big stores prefer snapshotStream(), which does not hold the image in memory.
   */
  async snapshot(): Promise<Uint8Array> {
    const stream = await this.snapshotStream();
    return collectImage(stream.chunks());
  }

  /**
   * A consistent image, produced in chunks while applies go on (it reads a LevelDB snapshot,
   * or a copy of the memory backend). Iterate chunks() once, or call close() if you do not.
   */
  snapshotStream(): Promise<SnapshotStream> {
    return this.exclusive(async () => {
      this.checkUsable();
      return new SnapshotStream({ ...this.state }, this.backend.view());
    });
  }

  /**
   * Replaces the whole state, atomically, with an image from snapshot()/snapshotStream()
   * (chunks may be passed as they arrive). An empty image means the initial state. When
   * `index` is given the image must have been taken at that applied index (for an empty
   * image it becomes the applied index). Throws SnapshotImageError for a bad image, before
   * changing anything. Watches continue from the new history, or end with 'compacted'.
   */
  async restore(image: Uint8Array | AsyncIterable<Uint8Array>, index?: number): Promise<void> {
    const bytes = image instanceof Uint8Array ? image : await collectImage(image);
    await this.exclusive(async () => {
      this.checkUsable();
      let finish!: () => void;
      this.restoring = new Promise<void>((resolve) => (finish = resolve));
      this.epoch++;
      try {
        const replaced = await replaceState(this.backend, bytes, index);
        this.state = replaced.state;
        this.index = replaced.index;
        this.pendingCompaction = 0;
      } catch (error) {
        if (error instanceof StoreClosedError) this.failure = error.cause;
        throw error;
      } finally {
        this.epoch++;
        this.restoring = undefined;
        finish();
      }
      this.hub.restored();
    });
  }

  /** This store as the state machine the Raft driver applies entries to. */
  stateMachine(): ReplicatedStateMachine<ApplyResult> {
    return {
      appliedIndex: () => this.appliedIndex(),
      apply: (batch) => this.applyBatch(batch),
      snapshot: () => this.snapshot(),
      restore: (image, index) => this.restore(image, index),
    };
  }

  /** Finishes queued applies, ends every watch ('cancelled', reason 'closed') and closes the backend. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.queue;
      this.closed = true;
      this.hub.closeAll();
      await this.backend.close();
    })();
    return this.closing;
  }

  private async applyEntry(tx: WriteTxn, entry: ApplyEntry): Promise<ApplyResult> {
    if (entry.command === null) return { op: 'noop', header: { revision: tx.state.revision }, index: entry.index };
    let response: ApplyResponse;
    let requestId: string | undefined;
    try {
      const command = decodeCommand(entry.command);
      requestId = command.requestId;
      response = await execute(tx, command);
    } catch (error) {
      // Decoding and checking never touch the staged batch; anything else is not the command's fault.
      if (!(error instanceof InvalidCommandError)) throw error;
      requestId = error.requestId;
      response = { op: 'error', header: { revision: tx.state.revision }, error: { code: 'invalid-command', message: error.message } };
    }
    return requestId === undefined ? { ...response, index: entry.index } : { ...response, index: entry.index, requestId };
  }

  private readonly committedView: IndexView = {
    history: (key) => this.index.get(key),
    keysInRange: (start, end) => this.index.keysInRange(start, end),
  };

  private readonly recordSource: RecordSource = async (located: Located[]) => {
    const stored = await this.backend.getMany(located.map(({ entry }) => revisionKey(entry.revision, entry.sub)));
    return stored.map((bytes, i) => (bytes === undefined ? undefined : this.decodeStored(bytes, located[i]!.entry.revision)));
  };

  private decodeStored(bytes: Uint8Array, revision: number): RevisionRecord {
    const record = decodeRecord(bytes);
    if (record === undefined) throw new StoreCorruptError(this.backend.location, `the change stored at revision ${revision} does not decode`);
    return record;
  }

  private async readChanges(from: Position, to: number, limit: number): Promise<Change[]> {
    const rows = await this.backend.entries({ gte: revisionKey(from.revision, from.sub), lt: revisionKey(to + 1, 0), limit });
    return rows.map(([key, value]) => {
      const position = parseRevisionKey(key);
      if (position === undefined) throw new StoreCorruptError(this.backend.location, 'a change is stored under a malformed key');
      const record = this.decodeStored(value, position.revision);
      return { ...position, name: toKeyString(record.key), record };
    });
  }

  private async previousVersions(changes: Change[]): Promise<(KeyValue | undefined)[]> {
    const wanted: { at: number; located: Located }[] = [];
    changes.forEach((change, at) => {
      const entry = entryBefore(this.index.get(change.name), change.revision);
      if (entry !== undefined && entry.version > 0) wanted.push({ at, located: { key: change.name, entry } });
    });
    const result: (KeyValue | undefined)[] = changes.map(() => undefined);
    const records = await this.recordSource(wanted.map(({ located }) => located));
    // A version that compaction dropped meanwhile is simply left out.
    wanted.forEach(({ at, located }, i) => {
      const record = records[i];
      if (record?.value) result[at] = versionOf(record.key, record.value, located.entry);
    });
    return result;
  }

  private async settled(): Promise<void> {
    while (this.restoring !== undefined) await this.restoring;
  }

  /** Runs `task` after every earlier one; refused at once when the store is closing. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) return Promise.reject(new StoreClosedError('it is closed'));
    const run = this.queue.then(task);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private checkUsable(): void {
    if (this.closed) throw new StoreClosedError('it is closed');
    if (this.failure !== undefined) throw new StoreClosedError('a write failed; reopen the store to recover', { cause: this.failure });
  }
}
