// The key of an object in caches and work queues: "namespace/name", or "name" for cluster-scoped
// kinds (client-go's MetaNamespaceKeyFunc).
import type { KubeObject } from '../../api/resources/index.ts';

export function keyOf(obj: KubeObject): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name ?? ''}` : (name ?? '');
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** resourceVersion as a number (the store revision it was written at); 0 when absent. */
export function revisionOf(obj: KubeObject): number {
  return Number(obj.metadata.resourceVersion ?? 0) || 0;
}
