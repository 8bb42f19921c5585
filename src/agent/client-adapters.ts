// The agent's ports (PodApi, ConfigSource) over the one typed Client: in `bramble up` an
// InProcessClient on the node's own registry, so the agent never goes through HTTP or RBAC.
import { findResource, type KubeObject, type ResourceInfo } from '../api/resources/index.ts';
import { type CacheLogger, ObjectInformer } from '../client/cache/index.ts';
import { asPod, asService, ClientError, type Client } from '../client/index.ts';
import type { ServiceLister } from './pods/service-env.ts';
import type { ConfigSource } from './pods/config-sources.ts';
import type { Pod, PodStatus } from '../client/index.ts';
import type { PodApi, PodEvent } from './pods/reconciler.ts';

function core(plural: string): ResourceInfo {
  const info = findResource('', 'v1', plural);
  if (!info) throw new Error(`core/v1 ${plural} missing from the catalog`);
  return info;
}

const podsInfo = core('pods');

function isNotFound(error: unknown): boolean {
  return error instanceof ClientError && error.code === 404;
}

export interface ClientPodApiOptions {
  /** Where the pod cache reports watch ends and failed relists (it retries them itself). */
  logger: CacheLogger;
}

/**
 * PodApi over a Client: the pods with spec.nodeName=<node> through the one list-and-watch cache
 * (src/client/cache: relists with backoff after a watch end or a failed list and reports what
 * changed meanwhile, deletions included), status through the status subresource, and the end of
 * a graceful deletion as a delete with grace 0.
 */
export class ClientPodApi implements PodApi {
  constructor(
    private readonly client: Client,
    private readonly options: ClientPodApiOptions,
  ) {}

  async watchPods(nodeName: string, onEvent: (event: PodEvent) => void): Promise<{ initial: Pod[]; stop(): void }> {
    const informer = new ObjectInformer(this.client, podsInfo, { logger: this.options.logger, listOptions: { fieldSelector: `spec.nodeName=${nodeName}` } });
    informer.on((type, object, old) => {
      // The first list is handed over as `initial`; events are what follows it.
      if (!informer.hasSynced()) return;
      const pod = asPod(object);
      if (type === 'delete') return onEvent({ type: 'deleted', uid: pod.metadata.uid });
      // Same name, new uid (deleted and created again while the watch was down): two pods to the agent.
      if (old !== undefined && old.metadata.uid !== pod.metadata.uid) onEvent({ type: 'deleted', uid: old.metadata.uid ?? '' });
      onEvent({ type: 'upsert', pod });
    });
    await informer.start();
    return { initial: informer.list().map(asPod), stop: () => informer.stop() };
  }

  async writeStatus(pod: Pod, status: PodStatus): Promise<void> {
    // No resourceVersion: the status subresource only replaces status, and the agent owns it.
    const { resourceVersion: _ignored, ...metadata } = pod.metadata;
    try {
      await this.client.update(podsInfo, { ...pod, metadata, status }, { subresource: 'status' });
    } catch (error) {
      if (!isNotFound(error)) throw error; // deleted meanwhile: its DELETED event follows
    }
  }

  async finishDeletion(pod: Pod): Promise<void> {
    try {
      await this.client.delete(podsInfo, pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0 });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

/**
 * The cluster's Services for the containers' Service variables, through the one list-and-watch
 * cache (it relists with backoff by itself); `list()` is undefined until its first list arrived.
 */
export function clientServiceLister(client: Client, logger: CacheLogger): ServiceLister & { stop(): void } {
  const informer = new ObjectInformer(client, core('services'), { logger });
  informer.start().catch(() => undefined);
  return { list: () => (informer.hasSynced() ? informer.list().map(asService) : undefined), stop: () => informer.stop() };
}

/** ConfigMaps and Secrets read through the Client (null when the object does not exist). */
export function clientConfigSource(client: Client): ConfigSource {
  const configMaps = core('configmaps');
  const secrets = core('secrets');
  return {
    configMap: async (namespace, name) => {
      try {
        const object = (await client.get(configMaps, namespace, name)) as KubeObject & { data?: Record<string, string> };
        return { ...(object.data ?? {}) };
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },
    secret: async (namespace, name) => {
      try {
        const object = (await client.get(secrets, namespace, name)) as KubeObject & { data?: Record<string, string> };
        return Object.fromEntries(Object.entries(object.data ?? {}).map(([key, value]) => [key, new Uint8Array(Buffer.from(value, 'base64'))]));
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },
  };
}
