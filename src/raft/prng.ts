// Seeded pseudo-random numbers. The core must be replayable from a seed, so it never touches
// Math.random; the fault simulator uses the same generator for its own choices.

export interface Prng {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1). */
  nextFloat(): number;
  /** Uniform integer in [0, maxExclusive). maxExclusive must be a positive integer <= 2^32. */
  nextInt(maxExclusive: number): number;
  /** A new generator seeded from this one: independent stream, still deterministic. */
  split(): Prng;
}

/** Folds a string into a 32-bit seed (FNV-1a), e.g. to derive a per-node seed from its id. */
export function seedFromString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** mulberry32: tiny, fast, full 2^32 period; good enough for timeouts and fault schedules. */
class Mulberry32 implements Prng {
  #state: number;

  constructor(seed: number) {
    // Scramble the seed once so small consecutive seeds do not start on correlated streams.
    this.#state = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  }

  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  nextInt(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive <= 0 || maxExclusive > 4294967296) {
      throw new RangeError(`prng: nextInt bound must be an integer in [1, 2^32], got ${maxExclusive}`);
    }
    // Rejection sampling keeps the distribution exactly uniform for bounds that do not divide 2^32.
    const limit = 4294967296 - (4294967296 % maxExclusive);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % maxExclusive;
    }
  }

  split(): Prng {
    return new Mulberry32(this.nextUint32());
  }
}

export function createPrng(seed: number): Prng {
  if (!Number.isFinite(seed)) throw new RangeError(`prng: seed must be a finite number, got ${seed}`);
  return new Mulberry32(Math.trunc(seed));
}
