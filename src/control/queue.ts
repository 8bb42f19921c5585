// A work queue of keys, as Kubernetes' client-go workqueue: a key queued many times is processed
// once; a key being processed that is queued again runs again after; a failing key is retried
// with a per-key exponential delay; stop() drops everything at once.

export interface WorkQueueOptions {
  /** First retry delay of a failing key; doubles per consecutive failure. */
  baseRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Keys processed at the same time. */
  workers?: number;
  /** Hold keys until resume() (a controller queues from its caches before they are complete). */
  paused?: boolean;
  onError?: (key: string, error: unknown) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = 0;
  private stopped = false;
  private paused: boolean;
  private readonly o: Required<Omit<WorkQueueOptions, 'onError'>> & Pick<WorkQueueOptions, 'onError'>;

  constructor(
    private readonly handler: (key: string) => Promise<void>,
    options: WorkQueueOptions = {},
  ) {
    this.o = { baseRetryDelayMs: 20, maxRetryDelayMs: 5_000, workers: 1, paused: false, ...options };
    this.paused = this.o.paused;
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

  /** Queues `key` after `delayMs` (a later call with a shorter delay wins). */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) return this.add(key);
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Queues a failed key again after its backoff. */
  retry(key: string): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    this.addAfter(key, Math.min(this.o.maxRetryDelayMs, this.o.baseRetryDelayMs * 2 ** (n - 1)));
  }

  get length(): number {
    return this.queue.length;
  }

  /** True when nothing is queued, running or waiting for a retry. */
  get idle(): boolean {
    return this.queue.length === 0 && this.running === 0 && this.timers.size === 0;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.dirty.clear();
  }

  private pump(): void {
    while (!this.stopped && !this.paused && this.running < this.o.workers && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.running++;
      void this.handler(key).then(
        () => this.finish(key, undefined),
        (error: unknown) => this.finish(key, error ?? new Error('failed')),
      );
    }
  }

  private finish(key: string, error: unknown): void {
    this.running--;
    this.processing.delete(key);
    if (this.stopped) return;
    if (error !== undefined) {
      this.o.onError?.(key, error);
      this.retry(key);
    } else {
      this.failures.delete(key);
    }
    if (this.dirty.delete(key)) this.add(key);
    this.pump();
  }
}
