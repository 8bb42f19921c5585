/**
 * Restart back-off per container, as the kubelet does it: the first crash restarts at once, each
 * further crash within the window waits twice as long as the last (initial, 2x, 4x, ... max), and
 * a container that ran longer than twice the maximum starts over. In memory only: a restarted
 * agent forgets it, like the kubelet.
 */
export class RestartBackoff {
  private readonly delays = new Map<string, number>();

  constructor(
    readonly initialDelayMs = 10_000,
    readonly maxDelayMs = 300_000,
  ) {}

  /** The moment a restart is allowed, or null when it is allowed now. */
  backedOffUntil(key: string, finishedAtMs: number, startedAtMs: number | null, nowMs: number): number | null {
    const delay = this.delays.get(key);
    if (delay === undefined) return null;
    if (startedAtMs !== null && finishedAtMs - startedAtMs > 2 * this.maxDelayMs) {
      this.delays.delete(key);
      return null;
    }
    return nowMs < finishedAtMs + delay ? finishedAtMs + delay : null;
  }

  /** Called when a restart happens: the next crash waits longer. */
  recordRestart(key: string): void {
    const delay = this.delays.get(key);
    this.delays.set(key, delay === undefined ? this.initialDelayMs : Math.min(delay * 2, this.maxDelayMs));
  }

  /** The delay the next crash would get, for messages ("back-off 20s"). */
  currentDelayMs(key: string): number {
    return this.delays.get(key) ?? 0;
  }

  forgetPod(podUid: string): void {
    for (const key of this.delays.keys()) if (key.startsWith(`${podUid}/`)) this.delays.delete(key);
  }
}
