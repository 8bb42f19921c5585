// A node's disk. Writes land at once in `live` (what the running process reads back, like the
// OS page cache) and in a buffer; only a completed fsync moves them to `durable`. A crash
// throws the buffer away and the restarted process sees exactly `durable`.
//
// fsyncs complete in the order they were requested and each one makes durable every write
// issued before it. A slow-disk spell stretches fsync latency; while a node waits for an fsync
// its driver must hold back the messages of that Ready, which is the point of modelling it.

import { MemoryStorage } from '../../src/raft/index.ts';
import type { ConfState, Prng, StorageUpdate } from '../../src/raft/index.ts';

export type DiskWrite =
  | { kind: 'save'; update: StorageUpdate }
  | { kind: 'createSnapshot'; index: number; confState: ConfState; data: Uint8Array }
  | { kind: 'compact'; index: number };

export interface DiskLatency {
  /** Normal fsync latency range, virtual ms. */
  fsyncMinMs: number;
  fsyncMaxMs: number;
  /** Latency range during a slow-disk spell. */
  slowFsyncMinMs: number;
  slowFsyncMaxMs: number;
}

export const DEFAULT_DISK_LATENCY: DiskLatency = { fsyncMinMs: 1, fsyncMaxMs: 4, slowFsyncMinMs: 30, slowFsyncMaxMs: 250 };

interface PendingFsync {
  id: number;
  /** Writes with a sequence number below this are covered. */
  coversSeq: number;
  doneAtMs: number;
}

export class SimDisk {
  live: MemoryStorage;
  readonly durable: MemoryStorage;
  /** Bumped by every crash; fsync completions of an earlier generation are stale. */
  generation = 0;
  #buffer: { seq: number; write: DiskWrite }[] = [];
  #nextSeq = 0;
  #fsyncs: PendingFsync[] = [];
  #nextFsyncId = 1;
  #lastDoneAtMs = 0;
  #slowUntilMs = -1;
  readonly #prng: Prng;
  readonly #latency: DiskLatency;

  /** `initial` is both the live and the durable content at power-on (e.g. a bootstrap state). */
  constructor(initial: () => MemoryStorage, prng: Prng, latency: DiskLatency = DEFAULT_DISK_LATENCY) {
    this.live = initial();
    this.durable = initial();
    this.#prng = prng;
    this.#latency = latency;
  }

  get unsyncedWriteCount(): number {
    return this.#buffer.length;
  }

  get pendingFsyncCount(): number {
    return this.#fsyncs.length;
  }

  isSlow(nowMs: number): boolean {
    return nowMs < this.#slowUntilMs;
  }

  startSlowSpell(untilMs: number): void {
    this.#slowUntilMs = Math.max(this.#slowUntilMs, untilMs);
  }

  endSlowSpell(): void {
    this.#slowUntilMs = -1;
  }

  /** Applies to the live view now; durable only after a later fsync completes. */
  write(write: DiskWrite): void {
    applyWrite(this.live, write);
    this.#buffer.push({ seq: this.#nextSeq++, write });
  }

  /** Starts an fsync of everything written so far. Returns its id and completion time. */
  requestFsync(nowMs: number): { id: number; doneAtMs: number } {
    const lat = this.#latency;
    const slow = this.isSlow(nowMs);
    const min = slow ? lat.slowFsyncMinMs : lat.fsyncMinMs;
    const max = slow ? lat.slowFsyncMaxMs : lat.fsyncMaxMs;
    const latencyMs = min + this.#prng.nextInt(max - min + 1);
    // A later fsync never finishes before an earlier one: the device works in order.
    const doneAtMs = Math.max(this.#lastDoneAtMs, nowMs + latencyMs);
    this.#lastDoneAtMs = doneAtMs;
    const fsync = { id: this.#nextFsyncId++, coversSeq: this.#nextSeq, doneAtMs };
    this.#fsyncs.push(fsync);
    return { id: fsync.id, doneAtMs };
  }

  /**
   * The fsync `id` finished: its writes (and those of any earlier fsync) become durable.
   * Returns the writes that became durable, in order. Unknown ids (after a crash) return [].
   */
  completeFsync(id: number): DiskWrite[] {
    const at = this.#fsyncs.findIndex((f) => f.id === id);
    if (at < 0) return [];
    const fsync = this.#fsyncs[at]!;
    this.#fsyncs = this.#fsyncs.slice(at + 1);
    const flushed: DiskWrite[] = [];
    while (this.#buffer.length > 0 && this.#buffer[0]!.seq < fsync.coversSeq) {
      const { write } = this.#buffer.shift()!;
      applyWrite(this.durable, write);
      flushed.push(write);
    }
    return flushed;
  }

  /**
   * Power loss: every write not yet fsynced is gone, pending fsyncs never complete, and the
   * live view is rebuilt from the durable content. Returns how many writes were lost.
   */
  crash(): number {
    const lost = this.#buffer.length;
    this.#buffer = [];
    this.#fsyncs = [];
    this.#lastDoneAtMs = 0;
    // A slow spell is the device's, not the process's: it outlives the crash.
    this.generation++;
    this.live = cloneStorage(this.durable);
    return lost;
  }
}

function applyWrite(storage: MemoryStorage, write: DiskWrite): void {
  switch (write.kind) {
    case 'save':
      storage.save(write.update);
      return;
    case 'createSnapshot':
      storage.createSnapshot(write.index, write.confState, write.data);
      return;
    case 'compact':
      storage.compact(write.index);
      return;
  }
}

/**
 * A fresh MemoryStorage with the same snapshot, entries after it and hard state. Entries
 * covered by the snapshot are not carried over: a restarted node reads the snapshot instead.
 */
export function cloneStorage(source: MemoryStorage): MemoryStorage {
  const copy = new MemoryStorage();
  const snapshot = source.snapshot();
  if (snapshot.metadata.index > 0) copy.applySnapshot(snapshot);
  const first = source.firstIndex();
  const last = source.lastIndex();
  if (last >= first) copy.append(source.entries(first, last + 1));
  copy.setHardState(source.initialState().hardState);
  return copy;
}
