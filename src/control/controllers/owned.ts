// The plumbing shared by controllers that own pods (ReplicaSet, DaemonSet, Job): a queue of owner
// keys fed by the owner's and its pods' events (and by orphan pods its selector matches), the
// claim of pods (adopt matching orphans, release what no longer matches) and the writes that keep
// the caches in step.
import { ClientError, Kinds, type KubeObject, type ResourceInfo } from '../../client/index.ts';
import { keyOf, type ObjectInformer, splitKey, WorkQueue } from '../../client/cache/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { executeClaims, matchingControllers, ORPHAN_INDEX, planClaims, claimSelector, withOrphanIndex } from './claim.ts';
import { controllerRef } from './pods.ts';

export const OWNER_INDEX = 'controller-uid';

/** The pods informer with the index of each pod's controller uid (shared by all controllers). */
export function podsByOwner(ctx: ControlContext): ObjectInformer {
  const pods = ctx.informer(Kinds.pods);
  // A second addIndex of the same name keeps the first: controllers share these caches.
  pods.addIndex(OWNER_INDEX, (p) => {
    const ref = controllerRef(p);
    return ref ? [ref.uid] : [];
  });
  return pods;
}

export interface OwnerLoop {
  owners: ObjectInformer;
  pods: ObjectInformer;
  queue: WorkQueue;
  controller: Controller;
  ownedPods(owner: KubeObject): KubeObject[];
  /**
   * The pods the owner controls once it has adopted the matching orphans of its namespace and
   * released its pods that no longer match (claim.ts). `filter` limits what it claims (a
   * ReplicaSet claims only active pods, as Kubernetes'). Rejects after the writes when one lost a
   * race, so the key is retried with back-off.
   */
  claimPods(owner: KubeObject, filter?: (pod: KubeObject) => boolean): Promise<KubeObject[]>;
  createPod(pod: KubeObject): Promise<void>;
  deletePod(pod: KubeObject): Promise<void>;
  /** Writes the owner's status if it changed. */
  writeStatus(owner: KubeObject, status: Record<string, unknown>): Promise<void>;
}

export function ownerLoop(ctx: ControlContext, name: string, info: ResourceInfo, reconcile: (owner: KubeObject, loop: OwnerLoop) => Promise<void>, options: { workers?: number } = {}): OwnerLoop {
  const owners = ctx.informer(info);
  const pods = withOrphanIndex(podsByOwner(ctx));
  const namespaces = ctx.informer(Kinds.namespaces);
  const loop: OwnerLoop = {
    owners,
    pods,
    queue: new WorkQueue(
      async (key) => {
        const owner = owners.get(key);
        if (owner) await reconcile(owner, loop);
      },
      { paused: true, workers: options.workers ?? 4, onError: (key, error) => ctx.failed(name, key, error) },
    ),
    controller: {
      name,
      start: () => loop.queue.resume(),
      stop: () => loop.queue.stop(),
    },
    ownedPods: (owner) => pods.byIndex(OWNER_INDEX, owner.metadata.uid ?? ''),
    claimPods: async (owner, filter) => {
      const candidates = [...loop.ownedPods(owner), ...pods.byIndex(ORPHAN_INDEX, owner.metadata.namespace ?? '')];
      const plan = planClaims(owner, candidates, claimSelector(owner), filter);
      if (plan.adopt.length === 0 && plan.release.length === 0) return plan.owned;
      const result = await executeClaims(ctx.client, info, owner, Kinds.pods, pods, plan);
      if (result.conflicts > 0) throw new Error(`${result.conflicts} pod(s) changed while ${info.kind} ${owner.metadata.name ?? ''} claimed them; retrying`);
      return result.owned;
    },
    createPod: async (pod) => {
      // The in-process client skips admission: refuse new pods in a namespace being deleted here.
      if (namespaces.get(pod.metadata.namespace ?? 'default')?.metadata.deletionTimestamp) return;
      try {
        pods.observe(await ctx.client.create(Kinds.pods, pod));
      } catch (error) {
        // A namespace being deleted refuses new pods: nothing to retry.
        if (error instanceof ClientError && error.code === 403) return;
        throw error;
      }
    },
    deletePod: async (pod) => {
      try {
        const result = await ctx.client.delete(Kinds.pods, pod.metadata.namespace, pod.metadata.name ?? '');
        if (result.kind === 'Pod' && (result as KubeObject).metadata.deletionTimestamp) pods.observe(result as KubeObject);
        else pods.forget(pod);
      } catch (error) {
        if (error instanceof ClientError && error.code === 404) return pods.forget(pod);
        throw error;
      }
    },
    writeStatus: async (owner, status) => {
      if (JSON.stringify(owner['status'] ?? {}) === JSON.stringify(status)) return;
      owners.observe(await ctx.client.update(info, { ...owner, status }, { subresource: 'status' }));
    },
  };
  owners.on((_type, obj) => loop.queue.add(keyOf(obj)));
  pods.on((type, pod, old) => {
    for (const p of old && old !== pod ? [pod, old] : [pod]) {
      const ref = controllerRef(p);
      if (ref && ref.kind === info.kind) loop.queue.add(p.metadata.namespace ? `${p.metadata.namespace}/${ref.name}` : ref.name);
    }
    // An orphan (new, relabelled, or just released by its controller): whoever matches may adopt it.
    if (type !== 'delete') for (const key of matchingControllers(owners, pod)) loop.queue.add(key);
  });
  return loop;
}

export { splitKey };
