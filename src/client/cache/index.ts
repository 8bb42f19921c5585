// The list-and-watch cache and the work queue (client-go's informer, indexer and workqueue).
export { backoffDelay, type BackoffOptions } from './backoff.ts';
export { Indexer, type IndexFunc } from './indexer.ts';
export { type CacheLogger, type Change, DEFAULT_RELIST_BACKOFF, type EventHandler, type EventType, Informer, type InformerOptions, type ListWatch } from './informer.ts';
export { keyOf, revisionOf, splitKey } from './keys.ts';
export { clientListWatch, ObjectInformer, type ObjectInformerOptions } from './objects.ts';
export { DEFAULT_RETRY_BACKOFF, WorkQueue, type WorkQueueOptions } from './queue.ts';
export { apiFeeds } from './api-feeds.ts';
export { type StoreEntry, storePrefixListWatch } from './store-prefix.ts';
