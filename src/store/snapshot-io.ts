// Snapshot images against a backend: streaming one out of a read view, replacing the whole
// state with one in a single batch.
import type { Backend, BackendReader, BackendView, BatchOp, KeyRange } from './backend.ts';
import { toKeyString } from './bytes.ts';
import { SnapshotImageError, StoreClosedError } from './errors.ts';
import type { KeyHistory } from './key-index.ts';
import { ALL, encodeFormat, encodeHistory, encodeState, keyIndexKey, META_FORMAT_KEY, META_STATE_KEY, REVISION_SPACE, type StoreState } from './layout.ts';
import { fromKeyString } from './bytes.ts';
import { decodeImage, encodeImage, type StoredPair } from './snapshot.ts';
import { SortedMap } from './sorted-map.ts';

const PAGE_ROWS = 1000;

/** An image being produced from a consistent view; see MvccStore.snapshotStream(). */
export class SnapshotStream {
  readonly appliedIndex: number;
  readonly revision: number;
  readonly compactedRevision: number;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly state: StoreState,
    private readonly view: BackendView,
  ) {
    this.appliedIndex = state.appliedIndex;
    this.revision = state.revision;
    this.compactedRevision = state.compactedRevision;
  }

  /** The image, chunk by chunk (one frame each); closes the stream when done or abandoned. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    try {
      yield* encodeImage(this.state, pages(this.view, REVISION_SPACE));
    } finally {
      await this.close();
    }
  }

  close(): Promise<void> {
    this.closed ??= this.view.close();
    return this.closed;
  }
}

export async function collectImage(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * Writes the state an image holds over everything in the backend, in one synced batch (a
 * restore is rare and the Raft log no longer has the entries it replaces). Returns the new
 * state and key index. Throws SnapshotImageError, before writing, for a bad image.
 */
export async function replaceState(backend: Backend, image: Uint8Array, index: number | undefined): Promise<{ state: StoreState; index: SortedMap<KeyHistory> }> {
  const decoded =
    image.byteLength === 0
      ? { state: { appliedIndex: index ?? 0, revision: 0, compactedRevision: 0 }, records: [] as StoredPair[], index: new SortedMap<KeyHistory>() }
      : decodeImage(image);
  if (index !== undefined && decoded.state.appliedIndex !== index) {
    throw new SnapshotImageError(`it was taken at applied index ${decoded.state.appliedIndex}, not at ${index}`);
  }
  const ops: BatchOp[] = [
    { type: 'put', key: META_FORMAT_KEY, value: encodeFormat() },
    { type: 'put', key: META_STATE_KEY, value: encodeState(decoded.state) },
  ];
  for (const name of decoded.index.keys()) ops.push({ type: 'put', key: keyIndexKey(fromKeyString(name)), value: encodeHistory(decoded.index.get(name)!) });
  for (const [key, value] of decoded.records) ops.push({ type: 'put', key, value });
  const kept = new Set(ops.map(({ key }) => toKeyString(key)));
  for await (const rows of pages(backend, ALL)) {
    for (const [key] of rows) if (!kept.has(toKeyString(key))) ops.push({ type: 'del', key });
  }
  try {
    await backend.write(ops, { sync: true });
  } catch (error) {
    throw new StoreClosedError('writing a restored snapshot failed; reopen the store to recover', { cause: error });
  }
  return { state: decoded.state, index: decoded.index };
}

/** Every row of a range, a page at a time. */
export async function* pages(reader: BackendReader, range: KeyRange): AsyncGenerator<StoredPair[]> {
  let gte = range.gte;
  for (;;) {
    const rows = await reader.entries({ gte, lt: range.lt, limit: PAGE_ROWS });
    if (rows.length > 0) yield rows;
    const last = rows[rows.length - 1];
    if (rows.length < PAGE_ROWS || last === undefined) return;
    gte = new Uint8Array([...last[0], 0]);
  }
}
