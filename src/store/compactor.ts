import type { Logger } from 'pino';
import type { ReplicatedStore } from './replicated-store.ts';

export interface CompactorOptions {
  store: ReplicatedStore;
  /** How much history is kept, and how often the leader compacts (Kubernetes' API server: 5 min). */
  intervalMs: number;
  logger: Logger;
}

export interface Compactor {
  /** One step as the timer runs it; exposed so tests need not wait for the clock. */
  tick(): Promise<number | undefined>;
  stop(): void;
}

/**
 * Keeps the MVCC history bounded: every interval the leader compacts to the revision it saw one
 * interval earlier, so a watch can still resume from anything newer than one interval ago.
 * Nothing is proposed when the store has not moved since the last compaction: an idle cluster
 * writes nothing for it.
 */
export function startCompactor(o: CompactorOptions): Compactor {
  let leading = o.store.node.status().role === 'leader';
  let seenRevision: number | undefined;
  let running = false;
  const unsubscribe = o.store.node.onLeadershipChange((isLeader) => {
    leading = isLeader;
    // A new leader starts its own interval: what an earlier leader saw is not known here.
    seenRevision = undefined;
  });
  const tick = async (): Promise<number | undefined> => {
    if (!leading || running) return undefined;
    running = true;
    try {
      const target = seenRevision;
      seenRevision = o.store.local.revision();
      if (target === undefined || target <= o.store.local.compactedRevision()) return undefined;
      await o.store.compact(target);
      o.logger.debug({ revision: target }, 'store history compacted');
      return target;
    } catch (error) {
      o.logger.warn({ err: error }, 'store compaction failed; trying again next interval');
      return undefined;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), o.intervalMs);
  timer.unref();
  return {
    tick,
    stop: () => {
      clearInterval(timer);
      unsubscribe();
    },
  };
}
