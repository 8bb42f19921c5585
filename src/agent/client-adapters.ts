// The agent's ports (PodApi, ConfigSource) over the one typed Client: in `bramble up` an
// InProcessClient on the node's own registry, so the agent never goes through HTTP or RBAC.
import { findResource, type KubeObject, type ResourceInfo } from '../api/resources/index.ts';
import { ClientError, type Client, type WatchHandle } from '../client/index.ts';
import type { ConfigSource } from './pods/config-sources.ts';
import type { Pod, PodStatus } from './pods/pod-types.ts';
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
  /** Called when a watch ended and was started again from a fresh list (410 after compaction, or any other end). */
  onRelist?: (reason: string) => void;
  /** Pause before listing again after a failed list. */
  relistDelayMs?: number;
}

/**
 * PodApi over a Client: list + watch of the pods with spec.nodeName=<node>, status through the
 * status subresource, and the end of a graceful deletion as a delete with grace 0. A watch that
 * ends (410 Gone once its revision was compacted) lists again and reports what changed meanwhile,
 * including pods deleted in between.
 */
export class ClientPodApi implements PodApi {
  constructor(
    private readonly client: Client,
    private readonly options: ClientPodApiOptions = {},
  ) {}

  async watchPods(nodeName: string, onEvent: (event: PodEvent) => void): Promise<{ initial: Pod[]; stop(): void }> {
    const fieldSelector = `spec.nodeName=${nodeName}`;
    const known = new Set<string>();
    let handle: WatchHandle | null = null;
    let stopped = false;
    let retry: NodeJS.Timeout | null = null;

    const follow = async (resourceVersion: string): Promise<void> => {
      handle = await this.client.watch(
        podsInfo,
        { fieldSelector, resourceVersion },
        (event) => {
          if (stopped) return;
          const pod = event.object as unknown as Pod;
          if (event.type === 'DELETED') {
            known.delete(pod.metadata.uid);
            onEvent({ type: 'deleted', uid: pod.metadata.uid });
          } else {
            known.add(pod.metadata.uid);
            onEvent({ type: 'upsert', pod });
          }
        },
        (status) => {
          if (stopped) return;
          this.options.onRelist?.(status.message ?? `watch ended with ${status.code ?? '?'}`);
          void relist();
        },
      );
    };

    const relist = async (): Promise<void> => {
      handle?.stop();
      try {
        const list = await this.client.list(podsInfo, { fieldSelector });
        if (stopped) return;
        const now = new Set<string>();
        for (const object of list.items) {
          const pod = object as unknown as Pod;
          now.add(pod.metadata.uid);
          onEvent({ type: 'upsert', pod });
        }
        for (const uid of known) if (!now.has(uid)) onEvent({ type: 'deleted', uid });
        known.clear();
        for (const uid of now) known.add(uid);
        await follow(list.resourceVersion);
      } catch (error) {
        if (stopped) return;
        this.options.onRelist?.(`list failed: ${(error as Error).message}`);
        retry = setTimeout(() => void relist(), this.options.relistDelayMs ?? 1000);
        retry.unref();
      }
    };

    const list = await this.client.list(podsInfo, { fieldSelector });
    const initial = list.items as unknown as Pod[];
    for (const pod of initial) known.add(pod.metadata.uid);
    await follow(list.resourceVersion);
    return {
      initial,
      stop: () => {
        stopped = true;
        if (retry) clearTimeout(retry);
        handle?.stop();
      },
    };
  }

  async writeStatus(pod: Pod, status: PodStatus): Promise<void> {
    // No resourceVersion: the status subresource only replaces status, and the agent owns it.
    const { resourceVersion: _ignored, ...metadata } = pod.metadata as Pod['metadata'] & { resourceVersion?: string };
    try {
      await this.client.update(podsInfo, { ...(pod as unknown as KubeObject), metadata, status } as unknown as KubeObject, { subresource: 'status' });
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
