// Namespace deletion: a namespace marked for deletion (Terminating) has every namespaced object in
// it deleted; once nothing is left its `kubernetes` finalizer is cleared and the API removes it.
import { asNamespace, ClientError, Kinds, namespacedKinds, type KubeObject, type Namespace } from '../../client/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { keyOf, WorkQueue } from '../../client/cache/index.ts';
import { setCondition } from './pods.ts';

/** Pure: the namespace once its contents are gone (spec.finalizers without `kubernetes`), or with a status saying what remains. */
export function finishNamespace(ns: KubeObject, remaining: ReadonlyMap<string, number>, now: Date): { finalize?: KubeObject; status?: Namespace['status'] } {
  const spec = asNamespace(ns).spec ?? {};
  if ([...remaining.values()].every((n) => n === 0)) return { finalize: { ...ns, spec: { ...spec, finalizers: (spec.finalizers ?? []).filter((f) => f !== 'kubernetes') } } };
  const left = [...remaining.entries()].filter(([, n]) => n > 0).map(([r, n]) => `${r} has ${n} resource instances`).sort();
  const status = asNamespace(ns).status ?? {};
  return { status: { ...status, phase: 'Terminating', conditions: setCondition(status.conditions, { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${left.join(', ')}` }, now) } };
}

export function createNamespaceController(ctx: ControlContext): Controller {
  const namespaces = ctx.informer(Kinds.namespaces);
  const reconcile = async (key: string): Promise<void> => {
    const ns = namespaces.get(key);
    if (!ns?.metadata.deletionTimestamp) return;
    const name = ns.metadata.name ?? '';
    const remaining = new Map<string, number>();
    for (const info of namespacedKinds()) {
      // Events go with the namespace: deleting them one by one would only write more.
      const { items } = await ctx.client.list(info, { namespace: name });
      remaining.set(info.resource, items.length);
      for (const o of items) {
        if (o.metadata.deletionTimestamp) continue;
        try {
          await ctx.client.delete(info, name, o.metadata.name ?? '', { propagationPolicy: 'Background' });
        } catch (error) {
          if (!(error instanceof ClientError && error.code === 404)) throw error;
        }
      }
    }
    // Deleted without a grace period they are gone already; list again to see what truly remains.
    for (const info of namespacedKinds()) if ((remaining.get(info.resource) ?? 0) > 0) remaining.set(info.resource, (await ctx.client.list(info, { namespace: name })).items.length);
    const plan = finishNamespace(ns, remaining, new Date());
    if (plan.finalize) {
      await ctx.client.update(Kinds.namespaces, plan.finalize);
      return;
    }
    const prev = JSON.stringify((asNamespace(ns).status?.conditions ?? []).map((c) => c.message));
    const next = JSON.stringify((plan.status?.conditions ?? []).map((c) => c.message));
    if (prev !== next) namespaces.observe(await ctx.client.update(Kinds.namespaces, { ...ns, status: plan.status }, { subresource: 'status' }));
    // Pods stopping on their boards take their grace period: look again soon.
    queue.addAfter(key, 1_000);
  };
  const queue = new WorkQueue(reconcile, { paused: true, workers: 2, onError: (key, error) => ctx.failed('namespace', key, error) });
  namespaces.on((type, ns) => {
    if (type !== 'delete' && ns.metadata.deletionTimestamp) queue.add(keyOf(ns));
  });
  return { name: 'namespace', start: () => queue.resume(), stop: () => queue.stop() };
}
