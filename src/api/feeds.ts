// What the API follows from the store, injected by the node assembly: the api layer sits below
// client/, where the one list-and-watch cache lives (src/client/cache), so it declares these
// narrow ports and `bramble up` plugs in client-layer informers (src/client/cache/api-feeds.ts)
// over an InProcessClient on this registry. One relist-and-retry behaviour for the whole program.
import type { RbacEventType } from './auth/index.ts';
import type { Registry, RegistryStore } from './registry.ts';
import type { KubeObject } from './resources/index.ts';

export interface Feed {
  stop(): void;
}

/** Where RBAC objects go: the API's RbacCache. */
export interface RbacSink {
  apply(type: RbacEventType, object: KubeObject): void;
}

export interface ApiFeeds {
  /**
   * Keeps `sink` equal to the Roles, ClusterRoles and their bindings in `registry` until stop,
   * through every watch end and failed relist; resolves once it holds a first list of each.
   */
  rbac(registry: Registry, sink: RbacSink): Promise<Feed>;
  /**
   * Tells `onChange` the keys and values under `prefix` (raw store keys outside /registry)
   * whenever they change, until stop; resolves after the first list.
   */
  storePrefix(store: RegistryStore, prefix: string, onChange: (entries: ReadonlyMap<string, string>) => void): Promise<Feed>;
}
