// Watches. Each watch has a cursor: the position (revision, sub) of the next change it has not
// taken yet. A watch that is caught up takes the changes of every committed batch straight from
// memory; one that is behind (a replay from an old revision, or a slow prevKv lookup) reads the
// stored changes page by page until it catches up. One delivery loop per watch keeps its events
// in order, and callbacks never run inside apply.
import { inBounds, toBounds, type Bounds } from './range.ts';
import type { KeyValue, Watch, WatchCallback, WatchEvent, WatchOptions, WatchResponse } from './types.ts';
import type { Change } from './write-txn.ts';

export interface Position {
  revision: number;
  sub: number;
}

export interface WatchSource {
  revision(): number;
  compactedRevision(): number;
  /** The compaction point including one being written right now (its deletes may already be visible). */
  compactFloor(): number;
  /** Changes when the whole state is being or was replaced by a snapshot. */
  epoch(): number;
  /** Resolves when no restore is in progress. */
  settled(): Promise<void>;
  /** Stored changes from `from` up to revision `to` inclusive, in order, at most `limit`. */
  readChanges(from: Position, to: number, limit: number): Promise<Change[]>;
  /** The previous version of each change's key, where history still holds it. */
  previous(changes: Change[]): Promise<(KeyValue | undefined)[]>;
}

const PAGE_CHANGES = 1000;

class Watcher {
  inbox: Change[] = [];
  pumping = false;
  closed = false;

  constructor(
    readonly id: number,
    readonly bounds: Bounds,
    readonly prevKv: boolean,
    readonly callback: WatchCallback,
    public cursor: Position,
  ) {}
}

export class WatchHub {
  private nextId = 1;
  private readonly watchers = new Set<Watcher>();

  constructor(
    private readonly source: WatchSource,
    private readonly onCallbackError: (error: unknown, watchId: number) => void,
  ) {}

  get size(): number {
    return this.watchers.size;
  }

  watch(options: WatchOptions, callback: WatchCallback): Watch {
    const startRevision = options.startRevision !== undefined && options.startRevision > 0 ? options.startRevision : this.source.revision() + 1;
    const watcher = new Watcher(this.nextId++, toBounds(options), options.prevKv === true, callback, { revision: startRevision, sub: 0 });
    this.watchers.add(watcher);
    const compactRevision = this.source.compactedRevision();
    if (startRevision < compactRevision) queueMicrotask(() => this.finish(watcher, { type: 'compacted', compactRevision }));
    else this.schedule(watcher);
    return { id: watcher.id, cancel: () => this.remove(watcher) };
  }

  /** A batch was committed; `changes` are its changes in order. */
  committed(changes: Change[]): void {
    const first = changes[0];
    const last = changes[changes.length - 1];
    if (first === undefined || last === undefined) return;
    const end = { revision: last.revision + 1, sub: 0 };
    for (const watcher of this.watchers) {
      // Caught up to this batch: take what it watches from memory. Behind: the pump reads it back.
      if (compare(watcher.cursor, { revision: first.revision, sub: 0 }) >= 0) {
        for (const change of changes) {
          if (compare(change, watcher.cursor) >= 0 && inBounds(watcher.bounds, change.name)) watcher.inbox.push(change);
        }
        if (compare(watcher.cursor, end) < 0) watcher.cursor = end;
      }
      this.schedule(watcher);
    }
  }

  /** The state was replaced by a snapshot: watches resume from the new history or end. */
  restored(): void {
    for (const watcher of this.watchers) {
      if (watcher.cursor.revision > this.source.revision() + 1) this.finish(watcher, { type: 'cancelled', reason: 'restored' });
      else this.schedule(watcher);
    }
  }

  closeAll(): void {
    for (const watcher of this.watchers) this.finish(watcher, { type: 'cancelled', reason: 'closed' });
  }

  private remove(watcher: Watcher): void {
    watcher.closed = true;
    watcher.inbox = [];
    this.watchers.delete(watcher);
  }

  private finish(watcher: Watcher, response: WatchResponse): void {
    if (watcher.closed) return;
    this.remove(watcher);
    this.deliver(watcher, response, true);
  }

  private schedule(watcher: Watcher): void {
    if (!watcher.pumping && !watcher.closed) queueMicrotask(() => void this.pump(watcher));
  }

  private async pump(watcher: Watcher): Promise<void> {
    if (watcher.pumping) return;
    watcher.pumping = true;
    try {
      while (!watcher.closed) {
        let changes: Change[];
        if (watcher.inbox.length > 0) {
          changes = watcher.inbox;
          watcher.inbox = [];
        } else if (compare(watcher.cursor, { revision: this.source.revision() + 1, sub: 0 }) < 0) {
          const read = await this.readBehind(watcher);
          if (read === undefined) continue;
          changes = read;
        } else break;
        if (changes.length > 0 && !watcher.closed) await this.send(watcher, changes);
      }
    } catch (error) {
      // A read failed: the store closed under the watch or its backend broke.
      this.finish(watcher, { type: 'cancelled', reason: 'closed' });
      if (!(error instanceof Error && error.name === 'StoreClosedError')) this.onCallbackError(error, watcher.id);
    } finally {
      watcher.pumping = false;
    }
  }

  /** The next page of stored changes for a watch that is behind (undefined: retry, the state moved). */
  private async readBehind(watcher: Watcher): Promise<Change[] | undefined> {
    await this.source.settled();
    const from = watcher.cursor;
    if (watcher.closed) return [];
    if (from.revision < this.source.compactFloor()) {
      this.finish(watcher, { type: 'compacted', compactRevision: Math.max(this.source.compactedRevision(), this.source.compactFloor()) });
      return [];
    }
    const epoch = this.source.epoch();
    const to = this.source.revision();
    const page = await this.source.readChanges(from, to, PAGE_CHANGES);
    if (watcher.closed) return [];
    if (epoch !== this.source.epoch()) return undefined;
    // A compaction that overtook the read may have removed part of the page.
    if (from.revision < this.source.compactFloor()) {
      this.finish(watcher, { type: 'compacted', compactRevision: this.source.compactFloor() });
      return [];
    }
    const last = page[page.length - 1];
    watcher.cursor = page.length < PAGE_CHANGES || last === undefined ? { revision: to + 1, sub: 0 } : { revision: last.revision, sub: last.sub + 1 };
    return page.filter((change) => inBounds(watcher.bounds, change.name));
  }

  private async send(watcher: Watcher, changes: Change[]): Promise<void> {
    const previous = watcher.prevKv ? await this.source.previous(changes) : [];
    if (watcher.closed) return;
    const events = changes.map((change, i) => toEvent(change, previous[i]));
    this.deliver(watcher, { type: 'events', events }, false);
  }

  private deliver(watcher: Watcher, response: WatchResponse, final: boolean): void {
    try {
      watcher.callback(response);
    } catch (error) {
      if (!final) this.remove(watcher);
      this.onCallbackError(error, watcher.id);
    }
  }
}

function toEvent(change: Change, prevKv: KeyValue | undefined): WatchEvent {
  const { record } = change;
  const event: WatchEvent =
    record.value === null
      ? { type: 'DELETE', kv: { key: record.key, value: new Uint8Array(0), createRevision: 0, modRevision: change.revision, version: 0 } }
      : { type: 'PUT', kv: { key: record.key, value: record.value, createRevision: record.createRevision, modRevision: change.revision, version: record.version } };
  if (prevKv !== undefined) event.prevKv = prevKv;
  return event;
}

export function compare(a: Position, b: Position): number {
  return a.revision !== b.revision ? a.revision - b.revision : a.sub - b.sub;
}
