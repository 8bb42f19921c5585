// The snapshot image: a self-checking sequence of frames (u32 BE length + CBOR), so it can be
// produced and sent in chunks:
//   ['bramble-mvcc-snapshot', version, appliedIndex, revision, compactedRevision]
//   [revisionKey, record, revisionKey, record, ...]           (any number of these, in key order)
//   ['end', recordCount, sha256 of every byte before this frame]
// It holds the stored changes only; the key index is rebuilt from them on restore. Two replicas
// at the same applied index produce byte-identical images.
import { createHash } from 'node:crypto';
import { Encoder } from 'cbor-x';
import { compareBytes, plain, toKeyString } from './bytes.ts';
import { SnapshotImageError } from './errors.ts';
import { follows, type HistoryEntry } from './key-index.ts';
import { decodeRecord, parseRevisionKey, type StoreState } from './layout.ts';
import { SortedMap } from './sorted-map.ts';

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
const TAG = 'bramble-mvcc-snapshot';
const IMAGE_VERSION = 1;

export type StoredPair = [key: Uint8Array, value: Uint8Array];

export async function* encodeImage(state: StoreState, pages: AsyncIterable<StoredPair[]>): AsyncGenerator<Uint8Array> {
  const hash = createHash('sha256');
  const hashed = (payload: unknown): Uint8Array => {
    const bytes = frame(payload);
    hash.update(bytes);
    return bytes;
  };
  yield hashed([TAG, IMAGE_VERSION, state.appliedIndex, state.revision, state.compactedRevision]);
  let count = 0;
  for await (const page of pages) {
    if (page.length === 0) continue;
    count += page.length;
    yield hashed(page.flat());
  }
  yield frame(['end', count, plain(hash.digest())]);
}

export interface DecodedImage {
  state: StoreState;
  records: StoredPair[];
  index: SortedMap<HistoryEntry[]>;
}

/** Decodes and checks an image; throws SnapshotImageError. */
export function decodeImage(image: Uint8Array): DecodedImage {
  const frames = splitFrames(image);
  const header = frames[0];
  const trailer = frames[frames.length - 1];
  if (header === undefined || trailer === undefined || frames.length < 2) throw new SnapshotImageError('it is truncated');
  const head = decodeFrame(image, header);
  if (!Array.isArray(head) || head[0] !== TAG) throw new SnapshotImageError('it does not start with an MVCC snapshot header');
  if (head[1] !== IMAGE_VERSION) throw new SnapshotImageError(`unknown image version ${String(head[1])}`);
  const [appliedIndex, revision, compactedRevision] = head.slice(2) as unknown[];
  if (!isCount(appliedIndex) || !isCount(revision) || !isCount(compactedRevision) || compactedRevision > revision) {
    throw new SnapshotImageError('the header holds no valid applied index, revision and compaction point');
  }
  const end = decodeFrame(image, trailer);
  const digest = plain(createHash('sha256').update(image.subarray(0, trailer.start)).digest());
  if (!Array.isArray(end) || end[0] !== 'end' || !(end[2] instanceof Uint8Array) || compareBytes(end[2], digest) !== 0) {
    throw new SnapshotImageError('its checksum does not match (damaged or truncated in transfer)');
  }
  const records: StoredPair[] = [];
  for (const body of frames.slice(1, -1)) {
    const flat = decodeFrame(image, body);
    if (!Array.isArray(flat) || flat.length % 2 !== 0 || !flat.every((item) => item instanceof Uint8Array)) throw new SnapshotImageError('a record frame is malformed');
    for (let i = 0; i < flat.length; i += 2) records.push([plain(flat[i] as Uint8Array), plain(flat[i + 1] as Uint8Array)]);
  }
  if (end[1] !== records.length) throw new SnapshotImageError(`it announces ${String(end[1])} records but holds ${records.length}`);
  const state: StoreState = { appliedIndex, revision, compactedRevision };
  return { state, records, index: rebuildIndex(state, records) };
}

/** The key index that the stored changes imply, checking that they fit together. */
function rebuildIndex(state: StoreState, records: StoredPair[]): SortedMap<HistoryEntry[]> {
  const index = new SortedMap<HistoryEntry[]>();
  let previousKey: Uint8Array | undefined;
  let lastRevision = 0;
  for (const [key, value] of records) {
    const position = parseRevisionKey(key);
    const record = decodeRecord(value);
    if (position === undefined || record === undefined) throw new SnapshotImageError('a record does not decode');
    if (previousKey !== undefined && compareBytes(previousKey, key) >= 0) throw new SnapshotImageError('its records are not in revision order');
    if (position.revision > state.revision) throw new SnapshotImageError(`a record at revision ${position.revision} is beyond the image's revision ${state.revision}`);
    previousKey = key;
    lastRevision = position.revision;
    const name = toKeyString(record.key);
    const history = index.get(name) ?? [];
    const entry: HistoryEntry = { revision: position.revision, sub: position.sub, createRevision: record.createRevision, version: record.version };
    if (record.key.byteLength === 0 || !follows(history[history.length - 1], entry)) throw new SnapshotImageError(`the history of a key does not fit together at revision ${position.revision}`);
    history.push(entry);
    if (history.length === 1) index.set(name, history);
  }
  if (state.revision > 0 && lastRevision !== state.revision) throw new SnapshotImageError(`the changes of its revision ${state.revision} are missing`);
  return index;
}

function frame(payload: unknown): Uint8Array {
  const body = cbor.encode(payload);
  const bytes = new Uint8Array(4 + body.byteLength);
  new DataView(bytes.buffer).setUint32(0, body.byteLength);
  bytes.set(body, 4);
  return bytes;
}

function splitFrames(image: Uint8Array): { start: number; end: number }[] {
  const frames: { start: number; end: number }[] = [];
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  for (let at = 0; at < image.byteLength; ) {
    if (at + 4 > image.byteLength) throw new SnapshotImageError('it is truncated');
    const end = at + 4 + view.getUint32(at);
    if (end > image.byteLength) throw new SnapshotImageError('it is truncated');
    frames.push({ start: at, end });
    at = end;
  }
  return frames;
}

function decodeFrame(image: Uint8Array, at: { start: number; end: number }): unknown {
  try {
    return cbor.decode(image.subarray(at.start + 4, at.end)) as unknown;
  } catch {
    throw new SnapshotImageError(`the frame at byte ${at.start} does not decode`);
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
