// Exponential backoff with full jitter, shared by the informer's relist and the work queue's
// retries: the delay doubles per consecutive failure up to a cap, and jitter spreads the retries
// of many caches (every board relists when the same leader dies) so they do not arrive together.

export interface BackoffOptions {
  /** Delay after the first failure. */
  baseMs: number;
  /** Longest delay. */
  maxMs: number;
  /** 0: exact delays; 1: each delay is drawn from [d/2, d] (half jitter keeps a floor). */
  jitter: number;
  random?: () => number;
}

/** The delay before retry number `failures` (1 = after the first failure). */
export function backoffDelay(failures: number, o: BackoffOptions): number {
  if (failures <= 0) return 0;
  const exact = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(failures - 1, 30));
  const spread = exact * (o.jitter / 2) * (o.random ?? Math.random)();
  return Math.round(exact - spread);
}
