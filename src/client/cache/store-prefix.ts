// A ListWatch of raw store keys under a prefix (outside /registry, e.g. the nodes' published CA
// certificates), so those too are followed by the one informer rather than a loop of their own.
import type { RegistryStore } from '../../api/registry.ts';
import type { ListWatch } from './informer.ts';

export interface StoreEntry {
  key: string;
  value: string;
  /** The revision that wrote it (for a delete, the revision of the delete). */
  revision: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function storePrefixListWatch(store: RegistryStore, prefix: string): ListWatch<StoreEntry> {
  const selector = { prefix: enc.encode(prefix) };
  return {
    list: async () => {
      const listed = await store.range(selector);
      return { items: listed.kvs.map((kv) => ({ key: dec.decode(kv.key), value: dec.decode(kv.value), revision: kv.modRevision })), revision: String(listed.header.revision) };
    },
    watch: (revision, onChange, onEnd) => {
      const watch = store.watch({ ...selector, startRevision: Number(revision) + 1 }, (response) => {
        if (response.type === 'compacted') return onEnd(`410 compacted at ${response.compactRevision}`);
        if (response.type === 'cancelled') return onEnd(`store watch cancelled: ${response.reason}`);
        for (const event of response.events) {
          const entry = { key: dec.decode(event.kv.key), value: dec.decode(event.kv.value), revision: event.kv.modRevision };
          onChange({ type: event.type === 'PUT' ? 'put' : 'delete', item: entry });
        }
      });
      return Promise.resolve({ stop: () => watch.cancel() });
    },
  };
}
