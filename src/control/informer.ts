// A cache of one kind kept by list + watch (client-go's informer): handlers see every add, update
// and delete; a watch that ends (410 after compaction, an error) lists again and reports what
// changed meanwhile, so the cache never drifts from the store.
import type { Client, KubeObject, ResourceInfo, Status, WatchHandle } from '../client/index.ts';

export type EventHandler = (type: 'add' | 'update' | 'delete', obj: KubeObject, old: KubeObject | undefined) => void;

/** "namespace/name", or "name" for cluster-scoped kinds: the key controllers queue. */
export function keyOf(obj: KubeObject): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name ?? ''}` : (name ?? '');
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export class Informer {
  private readonly items = new Map<string, KubeObject>();
  private readonly handlers: EventHandler[] = [];
  private readonly indexes = new Map<string, { fn: (o: KubeObject) => string[]; map: Map<string, Set<string>> }>();
  private watch: WatchHandle | undefined;
  private stopped = false;

  constructor(
    private readonly client: Client,
    readonly info: ResourceInfo,
    private readonly onTrouble: (message: string, error: unknown) => void = () => undefined,
  ) {}

  on(handler: EventHandler): void {
    this.handlers.push(handler);
  }

  /** An index: `fn` gives the index values of an object (e.g. its node name, its owner's uid). */
  addIndex(name: string, fn: (o: KubeObject) => string[]): void {
    const map = new Map<string, Set<string>>();
    for (const [key, o] of this.items) for (const v of fn(o)) (map.get(v) ?? map.set(v, new Set()).get(v)!).add(key);
    this.indexes.set(name, { fn, map });
  }

  byIndex(name: string, value: string): KubeObject[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`no index ${name} on ${this.info.resource}`);
    return [...(index.map.get(value) ?? [])].map((k) => this.items.get(k)).filter((o): o is KubeObject => o !== undefined);
  }

  get(key: string): KubeObject | undefined {
    return this.items.get(key);
  }

  list(namespace?: string): KubeObject[] {
    const all = [...this.items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /** Lists, then watches from the list's revision; resolves once the cache holds the list. */
  async start(): Promise<void> {
    const list = await this.client.list(this.info);
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const o of list.items) {
      seen.add(keyOf(o));
      this.upsert(o);
    }
    for (const [key, o] of [...this.items]) if (!seen.has(key)) this.remove(o);
    this.watch = await this.client.watch(
      this.info,
      { resourceVersion: list.resourceVersion },
      (event) => {
        if (this.stopped) return;
        if (event.type === 'DELETED') this.remove(event.object);
        else this.upsert(event.object);
      },
      (status: Status) => this.restart(`watch ended: ${status.message ?? status.code ?? ''}`, undefined),
    );
    if (this.stopped) this.watch.stop();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
  }

  /**
   * Folds in an object this process just wrote, so a reconcile that follows does not act on the
   * older copy before the watch delivers it. Older versions than the cached one are ignored.
   */
  observe(obj: KubeObject): void {
    const cached = this.items.get(keyOf(obj));
    if (cached && Number(cached.metadata.resourceVersion) >= Number(obj.metadata.resourceVersion)) return;
    this.upsert(obj);
  }

  /** Drops an object this process just deleted (the watch's DELETED will find nothing). */
  forget(obj: KubeObject): void {
    if (this.items.has(keyOf(obj))) this.remove(obj);
  }

  private restart(message: string, error: unknown): void {
    if (this.stopped) return;
    this.watch?.stop();
    this.onTrouble(`${this.info.resource}: ${message}; listing again`, error);
    const again = (): void => {
      if (this.stopped) return;
      this.start().catch((e: unknown) => {
        this.onTrouble(`${this.info.resource}: list failed`, e);
        setTimeout(again, 500).unref();
      });
    };
    again();
  }

  private upsert(obj: KubeObject): void {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (old && Number(old.metadata.resourceVersion) > Number(obj.metadata.resourceVersion)) return;
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    for (const { fn, map } of this.indexes.values()) for (const v of fn(obj)) (map.get(v) ?? map.set(v, new Set()).get(v)!).add(key);
    for (const h of this.handlers) h(old ? 'update' : 'add', obj, old);
  }

  private remove(obj: KubeObject): void {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (!old) return;
    this.unindex(key, old);
    this.items.delete(key);
    for (const h of this.handlers) h('delete', old, old);
  }

  private unindex(key: string, obj: KubeObject): void {
    for (const { fn, map } of this.indexes.values()) {
      for (const v of fn(obj)) {
        const set = map.get(v);
        set?.delete(key);
        if (set?.size === 0) map.delete(v);
      }
    }
  }
}
