/**
 * Runs an async task one at a time. A request while it runs gets exactly one more run after it,
 * however many requests arrive meanwhile: the running task may have read its inputs before the
 * change that asked for the request, and a burst of changes needs only one more look.
 */
export class Coalescer {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  /** `onError` gets what the task throws; the next run is not affected. */
  constructor(
    private readonly task: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Resolves once a run that began after this call has ended (at once after `stop`). */
  run(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.queued) return this.queued;
    if (!this.running) return this.launch();
    this.queued = this.running.then(() => {
      this.queued = null;
      return this.stopped ? undefined : this.launch();
    });
    return this.queued;
  }

  /**
   * A run `delayMs` from the first of a burst of requests: a `docker load` sends a dozen events,
   * and one look after the burst is enough.
   */
  runSoon(delayMs: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, delayMs);
    this.timer.unref();
  }

  /** No more runs; resolves when the one in progress (and one queued) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await (this.queued ?? this.running);
  }

  private launch(): Promise<void> {
    const run = this.task()
      .catch((error: unknown) => this.onError(error))
      .then(() => {
        this.running = null;
      });
    this.running = run;
    return run;
  }
}
