// The one work queue of keys (client-go's rate-limited workqueue), used by the controllers and
// the agent's pod reconciler: a key queued many times is processed once; a key queued while it
// is processed runs again after (never two at once); a failing key is reported to onError and
// retried after a per-key exponential backoff until it succeeds or is forgotten; stop() drops
// everything at once and drain() waits for the keys in flight.
import { backoffDelay, type BackoffOptions } from './backoff.ts';

export interface WorkQueueOptions {
  /** Called for every failure before the retry is scheduled: the queue's one log point. */
  onError: (key: string, error: unknown, failures: number) => void;
  /** Per-key retry delays (default 20 ms doubling to 5 s, no jitter). */
  backoff?: Partial<BackoffOptions>;
  /** Keys processed at the same time. */
  workers?: number;
  /** Hold keys until resume() (a controller queues from its caches before they are complete). */
  paused?: boolean;
}

export const DEFAULT_RETRY_BACKOFF: BackoffOptions = { baseMs: 20, maxMs: 5_000, jitter: 0 };

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys queued while processed: they run again once the current run ends. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly drainWaiters: Array<() => void> = [];
  private readonly backoff: BackoffOptions;
  private readonly workers: number;
  private stopped = false;
  private paused: boolean;

  constructor(
    private readonly handler: (key: string) => Promise<void>,
    private readonly o: WorkQueueOptions,
  ) {
    this.backoff = { ...DEFAULT_RETRY_BACKOFF, ...o.backoff };
    this.workers = o.workers ?? 1;
    this.paused = o.paused ?? false;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Queues `key` after `delayMs` (a later call replaces an earlier pending one). */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) return this.add(key);
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Queues `key` again after its backoff, which grows with each call until forget(key). */
  addRateLimited(key: string): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    this.addAfter(key, backoffDelay(n, this.backoff));
  }

  /** Resets the key's backoff (done after each success); a pending retry still runs. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Consecutive failures of `key` since it last succeeded or was forgotten. */
  requeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  get length(): number {
    return this.queue.length;
  }

  /** True when nothing is queued, running or waiting for a retry. */
  get idle(): boolean {
    return this.queue.length === 0 && this.processing.size === 0 && this.timers.size === 0;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.dirty.clear();
    this.notifyDrained();
  }

  /** Resolves when no key is queued or running (pending retries do not count). */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private pump(): void {
    while (!this.stopped && !this.paused && this.processing.size < this.workers && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.handler(key).then(
        () => this.finish(key, undefined),
        (error: unknown) => this.finish(key, error ?? new Error('failed')),
      );
    }
  }

  private finish(key: string, error: unknown): void {
    this.processing.delete(key);
    if (!this.stopped) {
      if (error === undefined) this.forget(key);
      else {
        this.report(key, error);
        this.addRateLimited(key);
      }
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
    this.notifyDrained();
  }

  private report(key: string, error: unknown): void {
    try {
      this.o.onError(key, error, (this.failures.get(key) ?? 0) + 1);
    } catch {
      // A logger that throws must not stop the queue.
    }
  }

  private notifyDrained(): void {
    if (this.queue.length === 0 && this.processing.size === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}
