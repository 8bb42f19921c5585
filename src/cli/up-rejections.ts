// A process-wide net for promise rejections nobody handled. Node 20 ends the process on one,
// silently for an orchestrator whose stderr nobody reads: a board would drop its pods and its
// Raft vote for a slip in one background loop. `bramble up` instead logs each one as an error,
// with the rejection's stack (its origin), and keeps serving: every loop that matters retries
// on its own (the caches, the queues, the Raft node), and a node that fails outright stops
// through its onFatal path, not through a stray rejection. It is logged at error, never hidden.
import type { Logger } from 'pino';

/** Installs the handler; the returned function removes it (node stop). */
export function logUnhandledRejections(logger: Logger): () => void {
  const onRejection = (reason: unknown): void => {
    const err = reason instanceof Error ? reason : new Error(`a promise was rejected with a non-Error: ${String(reason)}`);
    logger.error({ err, origin: 'unhandledRejection' }, 'unhandled promise rejection (a bug: please report it); the node keeps running');
  };
  process.on('unhandledRejection', onRejection);
  return () => process.off('unhandledRejection', onRejection);
}
