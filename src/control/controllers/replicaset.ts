// ReplicaSet: keeps spec.replicas active pods matching its selector (its own, and orphans it
// adopts), created from the template, deleting the least useful first, and reports replicas /
// ready / available in its status.
import { asReplicaSet, Kinds, MAX_POD_CREATES_PER_SYNC, type KubeObject } from '../../client/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { ownerLoop } from './owned.ts';
import { deletionOrder, isActive, isAvailable, isReady, podFromTemplate } from './pods.ts';

export interface ReplicaSetPlan {
  create: number;
  delete: KubeObject[];
  status: Record<string, unknown>;
  /** Re-check after this many ms (a pod becomes available after minReadySeconds). */
  recheckMs?: number;
}

/** Pure: what the ReplicaSet needs, given the pods it owns. */
export function planReplicaSet(rs: KubeObject, owned: readonly KubeObject[], now: Date): ReplicaSetPlan {
  const spec = asReplicaSet(rs).spec ?? {};
  const replicas = spec.replicas ?? 1;
  const minReady = spec.minReadySeconds ?? 0;
  const active = owned.filter(isActive);
  const diff = active.length - replicas;
  const toDelete = diff > 0 ? [...active].sort(deletionOrder).slice(0, diff) : [];
  const labels = spec.template?.metadata?.labels ?? {};
  const ready = active.filter(isReady);
  const available = active.filter((p) => isAvailable(p, minReady, now));
  const status: Record<string, unknown> = {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
    readyReplicas: ready.length,
    availableReplicas: available.length,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  const plan: ReplicaSetPlan = { create: Math.max(0, -diff), delete: toDelete, status };
  if (ready.length > available.length) plan.recheckMs = minReady * 1000;
  return plan;
}

export function createReplicaSetController(ctx: ControlContext): Controller {
  const loop = ownerLoop(ctx, 'replicaset', Kinds.replicasets, async (rs, l) => {
    if (rs.metadata.deletionTimestamp) return;
    // Adopt matching orphans and release pods relabelled out of the selector first: they count (or stop counting) now.
    const plan = planReplicaSet(rs, await l.claimPods(rs, isActive), new Date());
    const template = asReplicaSet(rs).spec?.template ?? {};
    await Promise.all([
      ...Array.from({ length: Math.min(plan.create, MAX_POD_CREATES_PER_SYNC) }, () => l.createPod(podFromTemplate(rs, template, `${rs.metadata.name ?? 'rs'}-`))),
      ...plan.delete.map((p) => l.deletePod(p)),
    ]);
    // Status from the pods as they are now (the creates above are in the cache).
    await l.writeStatus(rs, planReplicaSet(rs, l.ownedPods(rs), new Date()).status);
    if (plan.recheckMs !== undefined) l.queue.addAfter(`${rs.metadata.namespace}/${rs.metadata.name}`, plan.recheckMs);
  });
  return loop.controller;
}
