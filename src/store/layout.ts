// How the store lies in the backend's ordered key space:
//   m/format                  ['bramble-mvcc', FORMAT_VERSION]
//   m/state                   [appliedIndex, revision, compactedRevision]   (rewritten by every batch)
//   k<key bytes>              the key's history: flat [rev, sub, createRevision, version, ...]
//   r<rev u64 BE><sub u32 BE> one change: [key, value | null (a delete), createRevision, version]
// Big-endian revisions make LevelDB keep the changes in revision order, which is what watch
// replay and snapshots read; `k` records make prefix scans and opening cheap.
import { Encoder } from 'cbor-x';
import { plain } from './bytes.ts';
import { follows, type HistoryEntry, type KeyHistory } from './key-index.ts';

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
const ascii = (text: string): Uint8Array => plain(Buffer.from(text, 'latin1'));

export const FORMAT_VERSION = 1;
export const FORMAT_TAG = 'bramble-mvcc';

export const META_FORMAT_KEY = ascii('m/format');
export const META_STATE_KEY = ascii('m/state');
const KEY_PREFIX = 0x6b; // 'k'
const REVISION_PREFIX = 0x72; // 'r'

/** Bounds of whole key spaces, for scans. */
export const ALL = { gte: new Uint8Array(0), lt: new Uint8Array([0xff]) };
export const KEY_SPACE = { gte: new Uint8Array([KEY_PREFIX]), lt: new Uint8Array([KEY_PREFIX + 1]) };
export const REVISION_SPACE = { gte: new Uint8Array([REVISION_PREFIX]), lt: new Uint8Array([REVISION_PREFIX + 1]) };

export interface StoreState {
  appliedIndex: number;
  revision: number;
  compactedRevision: number;
}

/** One change as stored under its revision: value null for a delete. */
export interface RevisionRecord {
  key: Uint8Array;
  value: Uint8Array | null;
  createRevision: number;
  version: number;
}

export function encodeFormat(): Uint8Array {
  return plain(cbor.encode([FORMAT_TAG, FORMAT_VERSION]));
}

/** The format version, or a description of what is wrong. */
export function decodeFormat(bytes: Uint8Array): number | string {
  const value = tryDecode(bytes);
  if (!Array.isArray(value) || value[0] !== FORMAT_TAG || typeof value[1] !== 'number') return 'the format record does not decode';
  return value[1];
}

export function encodeState(state: StoreState): Uint8Array {
  return plain(cbor.encode([state.appliedIndex, state.revision, state.compactedRevision]));
}

export function decodeState(bytes: Uint8Array): StoreState | undefined {
  const value = tryDecode(bytes);
  if (!Array.isArray(value) || value.length !== 3 || !value.every(isCount)) return undefined;
  const [appliedIndex, revision, compactedRevision] = value as number[];
  if (compactedRevision! > revision!) return undefined;
  return { appliedIndex: appliedIndex!, revision: revision!, compactedRevision: compactedRevision! };
}

export function keyIndexKey(key: Uint8Array): Uint8Array {
  const stored = new Uint8Array(key.byteLength + 1);
  stored[0] = KEY_PREFIX;
  stored.set(key, 1);
  return stored;
}

export function keyFromIndexKey(stored: Uint8Array): Uint8Array {
  return stored.subarray(1);
}

export function encodeHistory(history: KeyHistory): Uint8Array {
  const flat: number[] = [];
  for (const entry of history) flat.push(entry.revision, entry.sub, entry.createRevision, entry.version);
  return plain(cbor.encode(flat));
}

/** The history, or undefined when the bytes are not a well-formed one (see follows()). */
export function decodeHistory(bytes: Uint8Array): KeyHistory | undefined {
  const flat = tryDecode(bytes);
  if (!Array.isArray(flat) || flat.length === 0 || flat.length % 4 !== 0 || !flat.every(isCount)) return undefined;
  const history: HistoryEntry[] = [];
  for (let i = 0; i < flat.length; i += 4) {
    const entry: HistoryEntry = { revision: flat[i]!, sub: flat[i + 1]!, createRevision: flat[i + 2]!, version: flat[i + 3]! };
    if (!follows(history[history.length - 1], entry)) return undefined;
    history.push(entry);
  }
  return history;
}

export function revisionKey(revision: number, sub: number): Uint8Array {
  const stored = Buffer.alloc(13);
  stored[0] = REVISION_PREFIX;
  stored.writeBigUInt64BE(BigInt(revision), 1);
  stored.writeUInt32BE(sub, 9);
  return plain(stored);
}

export function parseRevisionKey(stored: Uint8Array): { revision: number; sub: number } | undefined {
  if (stored.byteLength !== 13 || stored[0] !== REVISION_PREFIX) return undefined;
  const buffer = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const revision = buffer.readBigUInt64BE(1);
  if (revision > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { revision: Number(revision), sub: buffer.readUInt32BE(9) };
}

export function encodeRecord(record: RevisionRecord): Uint8Array {
  return plain(cbor.encode([record.key, record.value, record.createRevision, record.version]));
}

export function decodeRecord(bytes: Uint8Array): RevisionRecord | undefined {
  const value = tryDecode(bytes);
  if (!Array.isArray(value) || value.length !== 4) return undefined;
  const [key, stored, createRevision, version] = value as unknown[];
  if (!(key instanceof Uint8Array) || !(stored === null || stored instanceof Uint8Array) || !isCount(createRevision) || !isCount(version)) return undefined;
  if ((stored === null) !== (version === 0)) return undefined;
  return { key: plain(key), value: stored === null ? null : plain(stored), createRevision, version };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function tryDecode(bytes: Uint8Array): unknown {
  try {
    return cbor.decode(bytes) as unknown;
  } catch {
    return undefined;
  }
}
