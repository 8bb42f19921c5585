// The informer of one Kubernetes kind over the typed Client (in-process or HTTPS): what control
// loops and the agent cache. Optional selectors narrow it (the agent's pods of one node).
import type { KubeObject, ResourceInfo } from '../../api/resources/index.ts';
import type { Client, ListOptions } from '../client.ts';
import type { BackoffOptions } from './backoff.ts';
import { type CacheLogger, Informer, type ListWatch } from './informer.ts';
import { keyOf, revisionOf } from './keys.ts';

export function clientListWatch(client: Client, info: ResourceInfo, options: ListOptions = {}): ListWatch<KubeObject> {
  return {
    list: async () => {
      const listed = await client.list(info, options);
      return { items: listed.items, revision: listed.resourceVersion };
    },
    watch: (revision, onChange, onEnd) =>
      client.watch(
        info,
        { ...options, resourceVersion: revision },
        (event) => onChange({ type: event.type === 'DELETED' ? 'delete' : 'put', item: event.object }),
        (status) => onEnd(`${status.code ?? '?'} ${status.reason ?? ''}: ${status.message ?? ''}`),
      ),
  };
}

export interface ObjectInformerOptions {
  logger: CacheLogger;
  listOptions?: ListOptions;
  backoff?: Partial<BackoffOptions>;
}

/** A cache of one kind, keyed "namespace/name" (keys.ts). */
export class ObjectInformer extends Informer<KubeObject> {
  constructor(
    client: Client,
    readonly info: ResourceInfo,
    options: ObjectInformerOptions,
  ) {
    const selectors = [options.listOptions?.namespace, options.listOptions?.labelSelector, options.listOptions?.fieldSelector].filter(Boolean).join(',');
    super(clientListWatch(client, info, options.listOptions), {
      name: selectors ? `${info.resource}(${selectors})` : info.resource,
      key: keyOf,
      revision: revisionOf,
      logger: options.logger,
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
  }

  /** The cached objects, all or of one namespace. */
  override list(namespace?: string): KubeObject[] {
    const all = super.list();
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }
}
