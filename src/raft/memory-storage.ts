// Storage kept entirely in memory: the reference implementation of the Storage contract, used
// by unit tests and the simulator (which models lost unsynced writes itself).

import { bootstrapState } from './bootstrap.ts';
import { limitSize } from './entries.ts';
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from './errors.ts';
import type { ConfState, Entry, HardState, Snapshot, Storage, StorageUpdate } from './types.ts';

export interface MemoryStorageOptions {
  /**
   * Initial membership of a new cluster: the storage starts bootstrapped (bootstrapState()).
   * Absent or without voters: an empty storage, as for a node that joins an existing cluster.
   */
  confState?: ConfState;
}

export class MemoryStorage implements Storage {
  #hardState: HardState = { term: 0, vote: null, commit: 0 };
  #snapshot: Snapshot = {
    metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
    data: new Uint8Array(0),
  };
  // The log is base + entries: base is the last discarded position (term still known),
  // entries[i] has index base.index + 1 + i.
  #base: { index: number; term: number } = { index: 0, term: 0 };
  #entries: Entry[] = [];

  constructor(options: MemoryStorageOptions = {}) {
    if (options.confState && options.confState.voters.length > 0) {
      const initial = bootstrapState(options.confState);
      this.applySnapshot(initial.snapshot);
      this.setHardState(initial.hardState);
    }
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    const { voters, learners } = this.#snapshot.metadata.confState;
    return { hardState: { ...this.#hardState }, confState: { voters: [...voters], learners: [...learners] } };
  }

  firstIndex(): number {
    return this.#base.index + 1;
  }

  lastIndex(): number {
    return this.#base.index + this.#entries.length;
  }

  term(index: number): number {
    if (index < this.#base.index) throw new CompactedError(index);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    if (index === this.#base.index) return this.#base.term;
    return this.#entries[index - this.#base.index - 1]!.term;
  }

  entries(lo: number, hi: number, maxSizeBytes?: number): Entry[] {
    if (lo > hi) throw new RangeError(`memory storage: invalid range [${lo}, ${hi})`);
    if (lo <= this.#base.index) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    const offset = this.#base.index + 1;
    return limitSize(this.#entries.slice(lo - offset, hi - offset), maxSizeBytes);
  }

  snapshot(): Snapshot {
    return this.#snapshot;
  }

  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.index !== entries[i - 1]!.index + 1) {
        throw new RangeError('memory storage: appended entries are not contiguous');
      }
    }
    const first = this.firstIndex();
    const batchLast = entries[entries.length - 1]!.index;
    if (batchLast < first) return;
    const kept = entries[0]!.index < first ? entries.slice(first - entries[0]!.index) : entries;
    const start = kept[0]!.index;
    if (start > this.lastIndex() + 1) {
      throw new RangeError(`memory storage: gap: appending at ${start} after last index ${this.lastIndex()}`);
    }
    this.#entries = this.#entries.slice(0, start - first).concat(kept);
  }

  setHardState(hardState: HardState): void {
    this.#hardState = { ...hardState };
  }

  applySnapshot(snapshot: Snapshot): void {
    const current = this.#snapshot.metadata.index;
    if (snapshot.metadata.index <= current) throw new SnapshotOutOfDateError(snapshot.metadata.index, current);
    this.#snapshot = snapshot;
    this.#base = { index: snapshot.metadata.index, term: snapshot.metadata.term };
    this.#entries = [];
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    const current = this.#snapshot.metadata.index;
    if (index <= current) throw new SnapshotOutOfDateError(index, current);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    const copied = { voters: [...confState.voters], learners: [...confState.learners] };
    this.#snapshot = { metadata: { index, term: this.term(index), confState: copied }, data };
    return this.#snapshot;
  }

  compact(index: number): void {
    if (index <= this.#base.index) throw new CompactedError(index);
    const snapshotIndex = this.#snapshot.metadata.index;
    if (index > snapshotIndex) {
      throw new RangeError(`memory storage: cannot compact to ${index} beyond the snapshot at ${snapshotIndex}`);
    }
    const term = this.term(index);
    this.#entries = this.#entries.slice(index - this.#base.index);
    this.#base = { index, term };
  }

  save(update: StorageUpdate): void {
    if (update.snapshot) this.applySnapshot(update.snapshot);
    this.append(update.entries);
    if (update.hardState) this.setHardState(update.hardState);
  }
}
