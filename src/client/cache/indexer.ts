// The items of a cache by key, with secondary indexes (client-go's Indexer): an index function
// gives the values an item is filed under (its node name, its owners' uids), and byIndex answers
// from memory, kept in step on every add, update and delete.

export type IndexFunc<T> = (item: T) => string[];

export class Indexer<T> {
  private readonly items = new Map<string, T>();
  private readonly indexes = new Map<string, { fn: IndexFunc<T>; map: Map<string, Set<string>> }>();

  get size(): number {
    return this.items.size;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  values(): T[] {
    return [...this.items.values()];
  }

  hasIndex(name: string): boolean {
    return this.indexes.has(name);
  }

  /** Adds an index, filed from the items already held. Adding a name twice keeps the first. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.indexes.has(name)) return;
    const map = new Map<string, Set<string>>();
    this.indexes.set(name, { fn, map });
    for (const [key, item] of this.items) file(map, fn(item), key);
  }

  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`no index ${name}`);
    return [...(index.map.get(value) ?? [])].map((k) => this.items.get(k)).filter((item): item is T => item !== undefined);
  }

  /** Stores `item` under `key`; returns what it replaced. */
  set(key: string, item: T): T | undefined {
    const old = this.items.get(key);
    if (old !== undefined) this.unfile(key, old);
    this.items.set(key, item);
    for (const { fn, map } of this.indexes.values()) file(map, fn(item), key);
    return old;
  }

  /** Removes `key`; returns what it held. */
  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (old === undefined) return undefined;
    this.unfile(key, old);
    this.items.delete(key);
    return old;
  }

  private unfile(key: string, item: T): void {
    for (const { fn, map } of this.indexes.values()) {
      for (const v of fn(item)) {
        const set = map.get(v);
        set?.delete(key);
        if (set?.size === 0) map.delete(v);
      }
    }
  }
}

function file(map: Map<string, Set<string>>, values: string[], key: string): void {
  for (const v of values) {
    let set = map.get(v);
    if (!set) map.set(v, (set = new Set()));
    set.add(key);
  }
}
