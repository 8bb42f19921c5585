import type { Backend, BackendReader, BackendView, BatchOp, KeyRange } from './backend.ts';
import { fromKeyString, plain, toKeyString } from './bytes.ts';
import { StoreClosedError } from './errors.ts';
import { SortedMap } from './sorted-map.ts';

/**
 * A Backend in memory, for the simulator and tests. Its data survives close() and open() of the
 * same instance (a restart that keeps its "disk"); `crash()`-style data loss is the caller's
 * business (make a new instance).
 */
export class MemoryBackend implements Backend {
  readonly location = 'memory';
  private data = new SortedMap<Uint8Array>();
  private isOpen = false;

  async open(): Promise<void> {
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
  }

  async write(ops: BatchOp[], _options: { sync: boolean }): Promise<void> {
    this.check();
    // Copies, so a caller reusing its buffers cannot change stored data afterwards.
    for (const op of ops) {
      if (op.type === 'put') this.data.set(toKeyString(op.key), op.value.slice());
      else this.data.delete(toKeyString(op.key));
    }
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
