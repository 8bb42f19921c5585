// A running digest of everything a simulation does. Two runs of the same seed must fold the
// same values in the same order; comparing digests is how the determinism test (and anyone
// replaying a seed) knows a run was reproduced exactly, without keeping the trace in memory.

const FNV_PRIME = 0x01000193;

export class TraceDigest {
  // Two independent FNV-1a lanes give a 64-bit digest without BigInt arithmetic.
  #a = 0x811c9dc5;
  #b = 0x050c5d1f;
  #count = 0;
  /** When set, every record is also rendered as a line (the CLI's --trace). */
  readonly #sink: ((line: string) => void) | undefined;

  constructor(sink?: (line: string) => void) {
    this.#sink = sink;
  }

  get recordCount(): number {
    return this.#count;
  }

  /** Folds one event: a kind, and numbers/short strings describing it. */
  record(timeMs: number, kind: string, ...fields: (number | string | boolean | null)[]): void {
    this.#count++;
    this.#mixNumber(timeMs);
    this.#mixString(kind);
    for (const field of fields) {
      if (typeof field === 'number') this.#mixNumber(field);
      else if (typeof field === 'string') this.#mixString(field);
      else this.#mixNumber(field === null ? -2 : field ? 1 : 0);
    }
    if (this.#sink) this.#sink(`${timeMs} ${kind} ${fields.map((f) => String(f)).join(' ')}`);
  }

  /** Folds raw bytes (entry payloads, snapshot images). */
  recordBytes(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) this.#mixByte(bytes[i]!);
  }

  hex(): string {
    return (this.#a >>> 0).toString(16).padStart(8, '0') + (this.#b >>> 0).toString(16).padStart(8, '0');
  }

  #mixByte(byte: number): void {
    this.#a = Math.imul(this.#a ^ byte, FNV_PRIME) >>> 0;
    this.#b = Math.imul(this.#b ^ ((byte + 0x5b) & 0xff), FNV_PRIME) >>> 0;
  }

  #mixNumber(value: number): void {
    // Integers up to 2^53 and -1/-2 markers; fractions never appear in the trace.
    const lo = value >>> 0;
    const hi = Math.floor(value / 4294967296) >>> 0;
    this.#mixByte(lo & 0xff);
    this.#mixByte((lo >>> 8) & 0xff);
    this.#mixByte((lo >>> 16) & 0xff);
    this.#mixByte(lo >>> 24);
    if (hi !== 0) {
      this.#mixByte(hi & 0xff);
      this.#mixByte((hi >>> 8) & 0xff);
    }
    this.#mixByte(0xfe);
  }

  #mixString(text: string): void {
    for (let i = 0; i < text.length; i++) this.#mixByte(text.charCodeAt(i) & 0xff);
    this.#mixByte(0xff);
  }
}

/** FNV-1a over bytes; content digests for entries and snapshot images. */
export function digestBytes(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, FNV_PRIME) >>> 0;
  return hash >>> 0;
}

/** Folds integers into a 32-bit hash (chain hashes of applied entries). */
export function mixInts(seed: number, ...values: number[]): number {
  let hash = seed >>> 0;
  for (const value of values) {
    const lo = value >>> 0;
    for (let shift = 0; shift < 32; shift += 8) hash = Math.imul(hash ^ ((lo >>> shift) & 0xff), FNV_PRIME) >>> 0;
    hash = Math.imul(hash ^ (Math.floor(value / 4294967296) & 0xff), FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}
