// A token bucket per remote address for wrong join proofs. The secret has 128 bits, so guessing
// is hopeless anyway; the limit keeps a misconfigured board or a scanner from filling the log and
// burning the member's CPU on TLS handshakes and HMACs. Only wrong proofs take a token; an address
// whose bucket is empty is refused (HTTP 429) before its proof is checked, until a token refills.

export interface ProofLimitConfig {
  /** Wrong proofs an address may send in a burst. */
  burst: number;
  /** One token comes back every refillMs. */
  refillMs: number;
  /** Addresses tracked at most (a bound on memory); full buckets are forgotten first. */
  maxAddresses: number;
}

export const defaultProofLimit: ProofLimitConfig = { burst: 10, refillMs: 6_000, maxAddresses: 4096 };

interface Bucket {
  tokens: number;
  atMs: number;
}

export class ProofLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly c: ProofLimitConfig = defaultProofLimit,
    private readonly now: () => number = Date.now,
  ) {}

  private refilled(address: string): Bucket {
    const nowMs = this.now();
    const bucket = this.buckets.get(address);
    if (!bucket) return { tokens: this.c.burst, atMs: nowMs };
    return { tokens: Math.min(this.c.burst, bucket.tokens + Math.max(0, nowMs - bucket.atMs) / this.c.refillMs), atMs: nowMs };
  }

  /** 0 when the address may try a proof now, else the milliseconds until it may. */
  blockedForMs(address: string): number {
    const bucket = this.refilled(address);
    return bucket.tokens >= 1 ? 0 : Math.ceil((1 - bucket.tokens) * this.c.refillMs);
  }

  /** Takes a token for a wrong proof; true when this one emptied the bucket (log it once). */
  recordFailure(address: string): boolean {
    const bucket = this.refilled(address);
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.delete(address);
    this.buckets.set(address, bucket);
    this.prune();
    return bucket.tokens < 1;
  }

  /** Addresses tracked now (for tests of the memory bound). */
  get size(): number {
    return this.buckets.size;
  }

  private prune(): void {
    if (this.buckets.size <= this.c.maxAddresses) return;
    for (const address of [...this.buckets.keys()]) {
      if (this.refilled(address).tokens >= this.c.burst) this.buckets.delete(address);
    }
    // Still too many: forget the least recently failed (Map keeps insertion order, refreshed above).
    for (const address of this.buckets.keys()) {
      if (this.buckets.size <= this.c.maxAddresses) break;
      this.buckets.delete(address);
    }
  }
}
