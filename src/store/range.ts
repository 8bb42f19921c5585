// Range evaluation shared by reads of the committed state and by reads inside a transaction:
// pick the keys and their versions from an index (synchronously, so the choice is one
// consistent cut), then fetch the values of the ones returned.
import { fromKeyString, prefixRangeEnd, toKeyString, UNBOUNDED_RANGE_END, equalBytes } from './bytes.ts';
import { liveAt, type HistoryEntry, type KeyHistory } from './key-index.ts';
import type { RevisionRecord } from './layout.ts';
import type { KeySelector, KeyValue, RangeOptions } from './types.ts';

/** Keys in [start, end) as latin1 strings; end null: no upper bound; `single`: just `start`. */
export interface Bounds {
  start: string;
  end: string | null;
  single: boolean;
}

export interface IndexView {
  history(key: string): KeyHistory | undefined;
  /** Keys with some history in [start, end), in order. */
  keysInRange(start: string, end: string | null): string[];
}

export interface Located {
  key: string;
  entry: HistoryEntry;
}

/** Fetches the stored change of each located entry (undefined: not stored). */
export type RecordSource = (located: Located[]) => Promise<(RevisionRecord | undefined)[]>;

/** An index entry whose change is not stored: compaction or a restore raced the read (or the store is damaged). */
export class MissingRecordError extends Error {
  constructor(readonly located: Located) {
    super(`the change at revision ${located.entry.revision} of key ${describeKey(fromKeyString(located.key))} is not stored`);
    this.name = 'MissingRecordError';
  }
}

export function toBounds(selector: KeySelector): Bounds {
  if (selector.prefix !== undefined) {
    const end = prefixRangeEnd(selector.prefix);
    return { start: toKeyString(selector.prefix), end: equalBytes(end, UNBOUNDED_RANGE_END) ? null : toKeyString(end), single: false };
  }
  if (selector.rangeEnd === undefined) return { start: toKeyString(selector.key), end: null, single: true };
  const end = equalBytes(selector.rangeEnd, UNBOUNDED_RANGE_END) ? null : toKeyString(selector.rangeEnd);
  return { start: toKeyString(selector.key), end, single: false };
}

export function inBounds(bounds: Bounds, key: string): boolean {
  if (bounds.single) return key === bounds.start;
  return key >= bounds.start && (bounds.end === null || key < bounds.end);
}

/** The keys alive at `revision` in bounds, with the version each had then. */
export function selectLive(view: IndexView, bounds: Bounds, revision: number): Located[] {
  const keys = bounds.single ? [bounds.start] : bounds.end !== null && bounds.end <= bounds.start ? [] : view.keysInRange(bounds.start, bounds.end);
  const located: Located[] = [];
  for (const key of keys) {
    const entry = liveAt(view.history(key), revision);
    if (entry !== undefined) located.push({ key, entry });
  }
  return located;
}

export async function readRange(view: IndexView, source: RecordSource, options: RangeOptions, revision: number): Promise<{ kvs: KeyValue[]; count: number; more: boolean }> {
  const located = selectLive(view, toBounds(options), revision);
  const limit = options.limit !== undefined && options.limit > 0 ? options.limit : located.length;
  const more = located.length > limit;
  if (options.countOnly === true) return { kvs: [], count: located.length, more };
  const returned = located.slice(0, limit);
  if (options.keysOnly === true) {
    return { kvs: returned.map(({ key, entry }) => versionOf(fromKeyString(key), new Uint8Array(0), entry)), count: located.length, more };
  }
  return { kvs: await fetchValues(source, returned), count: located.length, more };
}

/** The KeyValue of each located live entry; throws MissingRecordError when one is not stored. */
export async function fetchValues(source: RecordSource, located: Located[]): Promise<KeyValue[]> {
  if (located.length === 0) return [];
  const records = await source(located);
  return located.map((item, i) => {
    const record = records[i];
    if (record === undefined || record.value === null) throw new MissingRecordError(item);
    return versionOf(record.key, record.value, item.entry);
  });
}

export function versionOf(key: Uint8Array, value: Uint8Array, entry: HistoryEntry): KeyValue {
  return { key, value, createRevision: entry.createRevision, modRevision: entry.revision, version: entry.version };
}

/** A key for messages: its text when it is printable UTF-8, hex otherwise. */
export function describeKey(key: Uint8Array): string {
  const text = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('utf8');
  // eslint-disable-next-line no-control-regex
  return /^[^\u0000-\u001f\u007f\ufffd]*$/.test(text) ? JSON.stringify(text) : `0x${Buffer.from(key).toString('hex')}`;
}
