// Opening a store: read and check what the backend holds, or initialize an empty backend.
// Nothing is ever written to a backend that holds data, so a refused store stays as it was.
import type { Backend } from './backend.ts';
import { StoreCorruptError } from './errors.ts';
import type { KeyHistory } from './key-index.ts';
import {
  ALL,
  decodeFormat,
  decodeHistory,
  decodeState,
  encodeFormat,
  encodeState,
  FORMAT_VERSION,
  KEY_SPACE,
  keyFromIndexKey,
  META_FORMAT_KEY,
  META_STATE_KEY,
  parseRevisionKey,
  REVISION_SPACE,
  type StoreState,
} from './layout.ts';
import { describeKey } from './range.ts';
import { pages } from './snapshot-io.ts';
import { SortedMap } from './sorted-map.ts';
import { toKeyString } from './bytes.ts';

export async function loadStore(backend: Backend): Promise<{ state: StoreState; index: SortedMap<KeyHistory> }> {
  const corrupt = (problem: string): StoreCorruptError => new StoreCorruptError(backend.location, problem);
  const formatBytes = await backend.get(META_FORMAT_KEY);
  if (formatBytes === undefined) {
    if ((await backend.entries({ ...ALL, limit: 1 })).length > 0) throw corrupt('it holds data but no format record (m/format)');
    const state: StoreState = { appliedIndex: 0, revision: 0, compactedRevision: 0 };
    await backend.write(
      [
        { type: 'put', key: META_FORMAT_KEY, value: encodeFormat() },
        { type: 'put', key: META_STATE_KEY, value: encodeState(state) },
      ],
      { sync: true },
    );
    return { state, index: new SortedMap() };
  }
  const format = decodeFormat(formatBytes);
  if (typeof format === 'string') throw corrupt(format);
  if (format !== FORMAT_VERSION) throw corrupt(`unknown format version ${format} (this Bramble reads version ${FORMAT_VERSION})`);

  const stateBytes = await backend.get(META_STATE_KEY);
  if (stateBytes === undefined) throw corrupt('the record of the applied index, revision and compaction point (m/state) is missing');
  const state = decodeState(stateBytes);
  if (state === undefined) throw corrupt('the record of the applied index, revision and compaction point (m/state) does not decode');

  const index = new SortedMap<KeyHistory>();
  for await (const rows of pages(backend, KEY_SPACE)) {
    for (const [stored, value] of rows) {
      const key = keyFromIndexKey(stored);
      const history = decodeHistory(value);
      if (history === undefined) throw corrupt(`the index record of key ${describeKey(key)} does not decode`);
      const last = history[history.length - 1]!;
      if (last.revision > state.revision) throw corrupt(`key ${describeKey(key)} changed at revision ${last.revision}, beyond the store's revision ${state.revision}`);
      index.set(toKeyString(key), history);
    }
  }

  // Every batch writes its changes and the state record together, so the newest stored change
  // must be exactly at the recorded revision (a store at revision 0 has none).
  const newest = await backend.lastKey(REVISION_SPACE);
  const newestRevision = newest === undefined ? 0 : parseRevisionKey(newest)?.revision;
  if (newestRevision === undefined) throw corrupt('a change is stored under a malformed key');
  if (newestRevision > state.revision) throw corrupt(`a change at revision ${newestRevision} is stored beyond the recorded revision ${state.revision}`);
  if (newestRevision < state.revision) throw corrupt(`the changes of the recorded revision ${state.revision} are missing`);
  return { state, index };
}
