// The changes of one apply batch, staged over the committed state: commands of the batch see
// each other's effects here, nothing outside sees them until the backend has written the whole
// batch and commit() swaps them in (synchronously, so readers never see half a batch).
import type { BackendReader, BatchOp } from './backend.ts';
import { fromKeyString, toKeyString } from './bytes.ts';
import { compactHistory, type HistoryEntry, type KeyHistory } from './key-index.ts';
import { decodeRecord, encodeHistory, encodeRecord, encodeState, keyIndexKey, META_STATE_KEY, revisionKey, type RevisionRecord, type StoreState } from './layout.ts';
import type { IndexView, Located } from './range.ts';
import type { SortedMap } from './sorted-map.ts';

/** One change, positioned, as watchers receive it. */
export interface Change {
  revision: number;
  sub: number;
  /** The key as a latin1 string (see bytes.ts). */
  name: string;
  record: RevisionRecord;
}

export class WriteTxn implements IndexView {
  readonly state: StoreState;
  /** Key -> its new history (null: no history left). */
  private readonly histories = new Map<string, KeyHistory | null>();
  /** Revision key (latin1) -> record to write (null: to delete). */
  private readonly records = new Map<string, RevisionRecord | null>();
  readonly changes: Change[] = [];
  /** Highest compaction point of this batch, if it compacts. */
  compactedTo: number | undefined;

  constructor(
    private readonly committed: SortedMap<KeyHistory>,
    private readonly backend: BackendReader,
    state: StoreState,
  ) {
    this.state = { ...state };
  }

  history(key: string): KeyHistory | undefined {
    const staged = this.histories.get(key);
    if (staged === null) return undefined;
    return staged ?? this.committed.get(key);
  }

  keysInRange(start: string, end: string | null): string[] {
    const keys = this.committed.keysInRange(start, end).filter((key) => this.histories.get(key) !== null);
    const added = [...this.histories.keys()].filter(
      (key) => this.histories.get(key) !== null && !this.committed.has(key) && key >= start && (end === null || key < end),
    );
    return added.length === 0 ? keys : [...keys, ...added].sort();
  }

  /** Records of located entries, staged ones first, then from the backend. */
  readonly source = async (located: Located[]): Promise<(RevisionRecord | undefined)[]> => {
    const result: (RevisionRecord | undefined)[] = [];
    const missing: { at: number; key: Uint8Array }[] = [];
    located.forEach(({ entry }, at) => {
      const key = revisionKey(entry.revision, entry.sub);
      const staged = this.records.get(toKeyString(key));
      result.push(staged ?? undefined);
      if (staged === undefined) missing.push({ at, key });
    });
    const fetched = await this.backend.getMany(missing.map(({ key }) => key));
    missing.forEach(({ at }, i) => {
      const bytes = fetched[i];
      result[at] = bytes === undefined ? undefined : decodeRecord(bytes);
    });
    return result;
  };

  /** Records a put of `key` at (revision, sub); returns the entry it supersedes, if live. */
  put(key: Uint8Array, value: Uint8Array, revision: number, sub: number): HistoryEntry | undefined {
    const name = toKeyString(key);
    const history = this.history(name) ?? [];
    const last = history[history.length - 1];
    const live = last !== undefined && last.version > 0 ? last : undefined;
    const entry: HistoryEntry = { revision, sub, createRevision: live?.createRevision ?? revision, version: (live?.version ?? 0) + 1 };
    this.append(name, history, entry, { key, value, createRevision: entry.createRevision, version: entry.version });
    return live;
  }

  /** Records a delete of a live key at (revision, sub). */
  delete(name: string, revision: number, sub: number): void {
    const history = this.history(name) ?? [];
    this.append(name, history, { revision, sub, createRevision: 0, version: 0 }, { key: fromKeyString(name), value: null, createRevision: 0, version: 0 });
  }

  /** Drops what compaction at `revision` no longer needs, from every key. */
  compact(revision: number): void {
    const keys = new Set([...this.committed.keys(), ...this.histories.keys()]);
    for (const name of keys) {
      const history = this.history(name);
      if (history === undefined || history[0]!.revision > revision) continue;
      const { kept, dropped } = compactHistory(history, revision);
      if (dropped.length === 0) continue;
      this.histories.set(name, kept.length > 0 ? kept : null);
      for (const entry of dropped) this.records.set(toKeyString(revisionKey(entry.revision, entry.sub)), null);
    }
    this.state.compactedRevision = revision;
    this.compactedTo = revision;
  }

  /** The whole batch as backend ops, state record included. */
  batch(): BatchOp[] {
    const ops: BatchOp[] = [{ type: 'put', key: META_STATE_KEY, value: encodeState(this.state) }];
    for (const [name, history] of this.histories) {
      const key = keyIndexKey(fromKeyString(name));
      ops.push(history === null ? { type: 'del', key } : { type: 'put', key, value: encodeHistory(history) });
    }
    for (const [name, record] of this.records) {
      const key = fromKeyString(name);
      ops.push(record === null ? { type: 'del', key } : { type: 'put', key, value: encodeRecord(record) });
    }
    return ops;
  }

  /** Makes the staged histories the committed ones (after the batch is written). */
  commit(): void {
    for (const [name, history] of this.histories) {
      if (history === null) this.committed.delete(name);
      else this.committed.set(name, history);
    }
  }

  private append(name: string, history: KeyHistory, entry: HistoryEntry, record: RevisionRecord): void {
    this.histories.set(name, [...history, entry]);
    this.records.set(toKeyString(revisionKey(entry.revision, entry.sub)), record);
    this.changes.push({ revision: entry.revision, sub: entry.sub, name, record });
  }
}
