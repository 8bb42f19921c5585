import type { Backend, BackendReader, BackendView, BatchOp, KeyRange } from './backend.ts';
import { fromKeyString, plain, toKeyString } from './bytes.ts';
import { StoreClosedError } from './errors.ts';
import { SortedMap } from './sorted-map.ts';

/**
 * A Backend in memory, for the simulator and tests. Its data survives close() and open() of the
 * same instance (a restart that keeps its "disk"). crash() models a power cut: writes made
 * without sync since the last sync or flush() are lost, except an optional prefix of them (LevelDB
 * appends batches to a log, so a cut loses a suffix of batches, never part of one).
 */
export class MemoryBackend implements Backend {
  readonly location = 'memory';
  private data = new SortedMap<Uint8Array>();
  /** What survives a power cut. */
  private durable = new SortedMap<Uint8Array>();
  /** Batches written without sync since `durable` was taken, oldest first. */
  private unsynced: BatchOp[][] = [];
  private isOpen = false;

  async open(): Promise<void> {
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
  }

  async write(ops: BatchOp[], options: { sync: boolean }): Promise<void> {
    this.check();
    // Copies, so a caller reusing its buffers cannot change stored data afterwards.
    const copied = ops.map((op): BatchOp => (op.type === 'put' ? { type: 'put', key: op.key.slice(), value: op.value.slice() } : { type: 'del', key: op.key.slice() }));
    applyOps(this.data, copied);
    if (options.sync) this.flush();
    else this.unsynced.push(copied);
  }

  /** Makes every write so far survive crash(), as the OS writing its dirty pages back does. */
  flush(): void {
    this.durable = this.data.clone();
    this.unsynced = [];
  }

  /**
   * A power cut: closes the backend (a store on it stops working) and keeps only what was synced
   * or flushed plus the first `keepUnsyncedBatches` batches written after that.
   */
  crash(options: { keepUnsyncedBatches?: number } = {}): void {
    this.isOpen = false;
    const data = this.durable.clone();
    for (const ops of this.unsynced.slice(0, options.keepUnsyncedBatches ?? 0)) applyOps(data, ops);
    this.data = data;
    this.flush();
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.check();
    return readFrom(this.data).get(key);
  }

  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    this.check();
    return readFrom(this.data).getMany(keys);
  }

  async entries(range: KeyRange): Promise<[Uint8Array, Uint8Array][]> {
    this.check();
    return readFrom(this.data).entries(range);
  }

  async lastKey(range: KeyRange): Promise<Uint8Array | undefined> {
    this.check();
    return readFrom(this.data).lastKey(range);
  }

  view(): BackendView {
    this.check();
    // Stored values are never mutated in place, so a shallow copy of the map is a snapshot.
    return { ...readFrom(this.data.clone()), close: async () => undefined };
  }

  private check(): void {
    if (!this.isOpen) throw new StoreClosedError('the memory backend is closed');
  }
}

function applyOps(data: SortedMap<Uint8Array>, ops: BatchOp[]): void {
  for (const op of ops) {
    if (op.type === 'put') data.set(toKeyString(op.key), op.value);
    else data.delete(toKeyString(op.key));
  }
}

function readFrom(data: SortedMap<Uint8Array>): BackendReader {
  const value = (key: Uint8Array): Uint8Array | undefined => {
    const stored = data.get(toKeyString(key));
    return stored === undefined ? undefined : plain(stored);
  };
  return {
    get: async (key) => value(key),
    getMany: async (keys) => keys.map(value),
    entries: async (range) =>
      data.keysInRange(toKeyString(range.gte), toKeyString(range.lt), range.limit).map((key) => [fromKeyString(key), data.get(key)!]),
    lastKey: async (range) => {
      const key = data.lastKeyInRange(toKeyString(range.gte), toKeyString(range.lt));
      return key === undefined ? undefined : fromKeyString(key);
    },
  };
}
