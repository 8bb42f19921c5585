// The API's feeds (src/api/feeds.ts) as informers of this layer: the node assembly passes
// apiFeeds(logger) to startApi, so the RBAC cache and the peer CAs follow the store with the same
// list, watch, relist-with-backoff and logging as every other cache.
import type { ApiFeeds, Feed } from '../../api/feeds.ts';
import { findResource } from '../../api/resources/index.ts';
import { InProcessClient } from '../in-process.ts';
import { type CacheLogger, Informer } from './informer.ts';
import { ObjectInformer } from './objects.ts';
import { storePrefixListWatch } from './store-prefix.ts';

const RBAC_RESOURCES = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'];
const RBAC_EVENT = { add: 'ADDED', update: 'MODIFIED', delete: 'DELETED' } as const;

function stopAll(informers: ReadonlyArray<{ stop(): void }>): Feed {
  return { stop: () => informers.forEach((i) => i.stop()) };
}

export function apiFeeds(logger: CacheLogger): ApiFeeds {
  return {
    rbac: async (registry, sink) => {
      const client = new InProcessClient(registry);
      const informers = RBAC_RESOURCES.map((plural) => {
        const info = findResource('rbac.authorization.k8s.io', 'v1', plural);
        if (!info) throw new Error(`rbac resource ${plural} missing from the catalog`);
        const informer = new ObjectInformer(client, info, { logger });
        informer.on((type, object) => sink.apply(RBAC_EVENT[type], object));
        return informer;
      });
      await Promise.all(informers.map((i) => i.start()));
      return stopAll(informers);
    },
    storePrefix: async (store, prefix, onChange) => {
      const informer = new Informer(storePrefixListWatch(store, prefix), { name: `store ${prefix}`, key: (e) => e.key, revision: (e) => e.revision, logger });
      const publish = (): void => onChange(new Map(informer.list().map((e) => [e.key, e.value])));
      // After the first list, one call per change (the first list is published once, below).
      informer.on(() => {
        if (informer.hasSynced()) publish();
      });
      await informer.start();
      publish();
      return stopAll([informer]);
    },
  };
}
