// Reconnect delays: exponential, capped, with "equal jitter" (half fixed, half random). The fixed
// half keeps a dead peer from being hammered; the random half keeps a cluster that lost a node
// from reconnecting in lock-step. The random source is injected so tests are deterministic.

export interface BackoffOptions {
  reconnectBackoffBaseMs: number;
  reconnectBackoffMaxMs: number;
  /** Uniform in [0, 1). */
  random: () => number;
}

export class Backoff {
  readonly #o: BackoffOptions;
  #failures = 0;

  constructor(options: BackoffOptions) {
    this.#o = options;
  }

  /** Delay before the next attempt after one more failure. */
  nextDelayMs(): number {
    // Doubling stops at the cap; the exponent is clamped so it never overflows to Infinity.
    const ceilingMs = Math.min(this.#o.reconnectBackoffMaxMs, this.#o.reconnectBackoffBaseMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    const half = ceilingMs / 2;
    return Math.round(half + half * this.#o.random());
  }

  /** A connection succeeded: the next failure starts from the base delay again. */
  reset(): void {
    this.#failures = 0;
  }

  get failures(): number {
    return this.#failures;
  }
}
