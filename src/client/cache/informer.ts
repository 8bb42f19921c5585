// The one list-and-watch cache (client-go's SharedInformer: reflector + indexer + handlers), used
// by control, the agent and, through node/, the API. It lists, watches from the list's revision,
// and when the watch ends (410 after compaction, a store restored from a snapshot, a closed
// stream) or a list fails (no leader for a linearizable read) it lists again after an
// exponential, jittered backoff, forever until stop(). The relist reports what changed meanwhile
// (adds, updates, deletes), so the cache never drifts from the store. Every failure is logged;
// none escapes as a rejection.
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { Indexer, type IndexFunc } from './indexer.ts';

/** One change seen by a watch: the item as written, or as it was when deleted. */
export type Change<T> = { type: 'put' | 'delete'; item: T };

/** Where a cache comes from: a list with its revision, and a watch of what follows it. */
export interface ListWatch<T> {
  list(): Promise<{ items: T[]; revision: string }>;
  /** Changes after `revision`; `onEnd` once if the watch ends by itself (compaction, closed). */
  watch(revision: string, onChange: (change: Change<T>) => void, onEnd: (reason: string) => void): Promise<{ stop(): void }>;
}

export type EventType = 'add' | 'update' | 'delete';
/** For 'delete', `item` and `old` are both the last known version. */
export type EventHandler<T> = (type: EventType, item: T, old: T | undefined) => void;

/** The part of a pino Logger the caches use. */
export interface CacheLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface InformerOptions<T> {
  /** Names the cache in log lines. */
  name: string;
  key(item: T): string;
  /** The store revision an item was written at: an older copy never replaces a newer one. */
  revision(item: T): number;
  logger: CacheLogger;
  backoff?: Partial<BackoffOptions>;
  /** A watch that ran this long and ended was healthy (410 after a compaction): relist at once. */
  healthyWatchMs?: number;
}

export const DEFAULT_RELIST_BACKOFF: BackoffOptions = { baseMs: 200, maxMs: 30_000, jitter: 1 };

export class Informer<T> {
  private readonly indexer = new Indexer<T>();
  private readonly handlers: EventHandler<T>[] = [];
  private readonly backoff: BackoffOptions;
  private watch: { stop(): void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by every list-and-watch cycle: callbacks of an older cycle are ignored. */
  private cycle = 0;
  private failures = 0;
  private synced = false;
  private stopped = false;
  private starting: Promise<void> | undefined;
  private readonly syncWaiters: Array<() => void> = [];

  constructor(
    private readonly source: ListWatch<T>,
    private readonly o: InformerOptions<T>,
  ) {
    this.backoff = { ...DEFAULT_RELIST_BACKOFF, ...o.backoff };
  }

  /** Starts the loop; resolves once the cache holds a first list (or stop() came first). */
  start(): Promise<void> {
    this.starting ??= new Promise<void>((resolve) => {
      this.syncWaiters.push(resolve);
      this.schedule(0);
    });
    return this.starting;
  }

  /** True once a first list is in the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  stop(): void {
    this.stopped = true;
    this.cycle++;
    clearTimeout(this.timer);
    this.watch?.stop();
    this.watch = undefined;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }

  /** Handlers run in registration order; one registered late first sees every cached item as an add. */
  on(handler: EventHandler<T>): void {
    this.handlers.push(handler);
    for (const item of this.indexer.values()) this.call(handler, 'add', item, undefined);
  }

  addIndex(name: string, fn: IndexFunc<T>): void {
    this.indexer.addIndex(name, fn);
  }

  hasIndex(name: string): boolean {
    return this.indexer.hasIndex(name);
  }

  byIndex(name: string, value: string): T[] {
    return this.indexer.byIndex(name, value);
  }

  get(key: string): T | undefined {
    return this.indexer.get(key);
  }

  list(): T[] {
    return this.indexer.values();
  }

  /**
   * Folds in an item this process just wrote, so a reconcile that follows does not act on the
   * older copy before the watch delivers it. An older version than the cached one is ignored.
   */
  observe(item: T): void {
    this.upsert(item);
  }

  /** Drops an item this process just deleted (the watch's delete will find nothing). */
  forget(item: T): void {
    this.remove(item);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    // Always through a timer, also for 0: a watch may end before its handle is returned.
    this.timer = setTimeout(() => this.run(), delayMs);
    this.timer.unref();
  }

  private run(): void {
    if (this.stopped) return;
    const cycle = ++this.cycle;
    this.watch?.stop();
    this.watch = undefined;
    this.listAndWatch(cycle).catch((error: unknown) => this.failed(cycle, 'list or watch failed', error));
  }

  private async listAndWatch(cycle: number): Promise<void> {
    const listed = await this.source.list();
    if (cycle !== this.cycle) return;
    this.replace(listed.items);
    this.markSynced();
    const since = Date.now();
    const handle = await this.source.watch(
      listed.revision,
      (change) => {
        if (cycle !== this.cycle) return;
        if (change.type === 'delete') this.remove(change.item);
        else this.upsert(change.item);
      },
      (reason) => this.ended(cycle, reason, Date.now() - since),
    );
    if (cycle !== this.cycle) handle.stop();
    else this.watch = handle;
  }

  private ended(cycle: number, reason: string, livedMs: number): void {
    if (cycle !== this.cycle) return;
    if (livedMs >= (this.o.healthyWatchMs ?? 1000)) {
      this.failures = 0;
      this.o.logger.info({ cache: this.o.name, reason }, 'watch ended; listing again');
      this.schedule(0);
    } else this.failed(cycle, `watch ended after ${livedMs} ms: ${reason}`, undefined);
  }

  /** The one retry-and-log behaviour: warn with the cause, list again after the backoff. */
  private failed(cycle: number, what: string, error: unknown): void {
    if (cycle !== this.cycle || this.stopped) return;
    this.failures++;
    const retryInMs = backoffDelay(this.failures, this.backoff);
    this.o.logger.warn({ cache: this.o.name, err: error, failures: this.failures, retryInMs }, `${what}; listing again`);
    this.schedule(retryInMs);
  }

  private markSynced(): void {
    this.synced = true;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }

  /** A fresh list: updates what changed, adds what is new, deletes what is gone. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(this.o.key(item));
      this.upsert(item);
    }
    for (const key of this.indexer.keys()) {
      const old = this.indexer.get(key);
      if (!seen.has(key) && old !== undefined) this.remove(old);
    }
  }

  private upsert(item: T): void {
    const key = this.o.key(item);
    const old = this.indexer.get(key);
    if (old !== undefined && this.o.revision(old) >= this.o.revision(item)) return;
    this.indexer.set(key, item);
    this.emit(old === undefined ? 'add' : 'update', item, old);
  }

  private remove(item: T): void {
    const old = this.indexer.delete(this.o.key(item));
    if (old !== undefined) this.emit('delete', old, old);
  }

  private emit(type: EventType, item: T, old: T | undefined): void {
    for (const handler of this.handlers) this.call(handler, type, item, old);
  }

  /** A throwing handler is logged; the cache and the other handlers go on. */
  private call(handler: EventHandler<T>, type: EventType, item: T, old: T | undefined): void {
    try {
      handler(type, item, old);
    } catch (error) {
      this.o.logger.error({ cache: this.o.name, err: error, event: type, key: this.o.key(item) }, 'a cache event handler threw');
    }
  }
}
