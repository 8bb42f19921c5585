// A real store (a ReplicatedStore of a real Raft node) with two faults a test can cause at will,
// each one that the real system produces: reads that fail as a linearizable read fails with no
// leader, and watches that end as they do when the store is compacted past them or restored
// from a snapshot. For proving that what follows the store recovers from both.
import type { RegistryStore } from '../../src/api/registry.ts';
import type { WatchResponse } from '../../src/store/index.ts';

export interface FaultyStore {
  store: RegistryStore;
  /** The next `count` range reads reject like a read with no leader. */
  failReads(count: number): void;
  /** How many reads were refused so far. */
  readonly refused: number;
  /** Ends every open watch with `response` (compacted or cancelled), as the store would. */
  endWatches(response: Extract<WatchResponse, { type: 'compacted' | 'cancelled' }>): number;
}

export function faultyStore(real: RegistryStore): FaultyStore {
  let failing = 0;
  let refused = 0;
  const open = new Set<{ end(response: WatchResponse): void }>();
  return {
    failReads: (count) => void (failing = count),
    get refused() {
      return refused;
    },
    endWatches: (response) => {
      const ended = [...open];
      for (const w of ended) w.end(response);
      return ended.length;
    },
    store: {
      range: (options, consistency) => {
        if (failing > 0) {
          failing--;
          refused++;
          return Promise.reject(new Error('request timed out after 5000 ms: read index (no leader)'));
        }
        return real.range(options, consistency);
      },
      txn: (request) => real.txn(request),
      watch: (options, callback) => {
        const inner = real.watch(options, callback);
        const entry = {
          end: (response: WatchResponse) => {
            inner.cancel();
            open.delete(entry);
            callback(response);
          },
        };
        open.add(entry);
        return {
          id: inner.id,
          cancel: () => {
            open.delete(entry);
            inner.cancel();
          },
        };
      },
    },
  };
}
