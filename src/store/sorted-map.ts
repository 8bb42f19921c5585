/**
 * A map of latin1 key strings kept in key order (byte order, see bytes.ts), for prefix and range
 * scans. A sorted array plus a hash map: lookups are O(1), inserting a key in the middle costs a
 * memmove, which is cheap at the sizes a Bramble cluster holds, and appending in order (what
 * revision-ordered writes do) is O(1).
 */
export class SortedMap<V> {
  private sorted: string[] = [];
  private readonly values = new Map<string, V>();

  get size(): number {
    return this.sorted.length;
  }

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  set(key: string, value: V): void {
    if (!this.values.has(key)) {
      const last = this.sorted[this.sorted.length - 1];
      if (last === undefined || key > last) this.sorted.push(key);
      else this.sorted.splice(this.lowerBound(key), 0, key);
    }
    this.values.set(key, value);
  }

  delete(key: string): void {
    if (!this.values.delete(key)) return;
    this.sorted.splice(this.lowerBound(key), 1);
  }

  clear(): void {
    this.sorted = [];
    this.values.clear();
  }

  /** Keys in [start, end) in order (end null: no upper bound), at most `limit` of them. */
  keysInRange(start: string, end: string | null, limit = Infinity): string[] {
    const keys: string[] = [];
    for (let i = this.lowerBound(start); i < this.sorted.length && keys.length < limit; i++) {
      const key = this.sorted[i]!;
      if (end !== null && key >= end) break;
      keys.push(key);
    }
    return keys;
  }

  /** The greatest key below `end` (null: the greatest key) that is >= start, if any. */
  lastKeyInRange(start: string, end: string | null): string | undefined {
    const i = (end === null ? this.sorted.length : this.lowerBound(end)) - 1;
    const key = this.sorted[i];
    return key !== undefined && key >= start ? key : undefined;
  }

  keys(): readonly string[] {
    return this.sorted;
  }

  clone(): SortedMap<V> {
    const copy = new SortedMap<V>();
    copy.sorted = [...this.sorted];
    for (const [key, value] of this.values) copy.values.set(key, value);
    return copy;
  }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
