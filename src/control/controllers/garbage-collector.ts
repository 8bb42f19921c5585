// Garbage collector (ownerReferences): a dependent whose owners are all gone is deleted
// (background propagation); an owner deleted with propagationPolicy=Orphan has the references
// to it removed from its dependents, then its `orphan` finalizer; one deleted with Foreground
// has its dependents deleted first, then its `foregroundDeletion` finalizer removed.
import { ClientError, Kinds, kindOf, type KubeObject, type OwnerReference, type ResourceInfo } from '../../client/index.ts';
import { keyOf, type ObjectInformer, WorkQueue } from '../../client/cache/index.ts';
import type { ControlContext, Controller } from '../manager.ts';

const ORPHAN = 'orphan';
const FOREGROUND = 'foregroundDeletion';
const OWNER_UIDS = 'owner-uids';

/** The kinds whose objects may own or be owned (what this collector watches). */
export const GC_KINDS: readonly ResourceInfo[] = [Kinds.pods, Kinds.replicasets, Kinds.deployments, Kinds.daemonsets, Kinds.jobs, Kinds.services, Kinds.endpoints, Kinds.endpointslices];

export type DependentVerdict =
  | { action: 'keep' }
  | { action: 'delete'; propagationPolicy: 'Background' | 'Foreground' }
  | { action: 'dropRefs'; ownerReferences: OwnerReference[] };

export type OwnerState = 'alive' | 'gone' | 'deletingForeground';

/** Pure: what to do with a dependent, given the state of each of its owners (by uid). */
export function judgeDependent(dependent: KubeObject, owners: ReadonlyMap<string, OwnerState>): DependentVerdict {
  const refs = dependent.metadata.ownerReferences ?? [];
  if (refs.length === 0 || dependent.metadata.deletionTimestamp) return { action: 'keep' };
  const states = refs.map((r) => owners.get(r.uid) ?? 'alive');
  if (states.every((s) => s !== 'alive')) return { action: 'delete', propagationPolicy: states.includes('deletingForeground') ? 'Foreground' : 'Background' };
  if (states.includes('gone')) return { action: 'dropRefs', ownerReferences: refs.filter((_r, i) => states[i] !== 'gone') };
  return { action: 'keep' };
}

export type OwnerVerdict =
  | { action: 'none' }
  | { action: 'orphan'; dependents: KubeObject[] }
  | { action: 'deleteDependents'; dependents: KubeObject[] }
  | { action: 'removeFinalizer'; finalizer: string };

/** Pure: what to do with an owner being deleted, given the objects that still reference it. */
export function judgeOwner(owner: KubeObject, dependents: readonly KubeObject[]): OwnerVerdict {
  const finalizers = owner.metadata.finalizers ?? [];
  if (!owner.metadata.deletionTimestamp) return { action: 'none' };
  if (finalizers.includes(ORPHAN)) return dependents.length > 0 ? { action: 'orphan', dependents: [...dependents] } : { action: 'removeFinalizer', finalizer: ORPHAN };
  if (finalizers.includes(FOREGROUND)) {
    if (dependents.length === 0) return { action: 'removeFinalizer', finalizer: FOREGROUND };
    const pending = dependents.filter((d) => !d.metadata.deletionTimestamp);
    return pending.length > 0 ? { action: 'deleteDependents', dependents: pending } : { action: 'none' };
  }
  return { action: 'none' };
}

export function createGarbageCollector(ctx: ControlContext): Controller {
  const informers = new Map<string, ObjectInformer>(GC_KINDS.map((k) => [k.resource, ctx.informer(k)]));
  const byUid = new Map<string, { resource: string; obj: KubeObject }>();
  for (const inf of informers.values()) {
    inf.addIndex(OWNER_UIDS, (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid));
  }
  const dependentsOf = (uid: string): { resource: string; obj: KubeObject }[] => [...informers.entries()].flatMap(([resource, inf]) => inf.byIndex(OWNER_UIDS, uid).map((obj) => ({ resource, obj })));

  const ownerState = async (dep: KubeObject, ref: OwnerReference): Promise<OwnerState> => {
    const cached = byUid.get(ref.uid)?.obj;
    const info = kindOf(ref.apiVersion, ref.kind);
    let owner = cached;
    if (!owner) {
      // Not in the caches (or a kind not watched): ask the store before deleting anything.
      if (!info) return 'alive';
      try {
        owner = await ctx.client.get(info, info.namespaced ? dep.metadata.namespace : undefined, ref.name);
      } catch (error) {
        if (error instanceof ClientError && error.code === 404) return 'gone';
        throw error;
      }
      if (owner.metadata.uid !== ref.uid) return 'gone';
    }
    if (owner.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FOREGROUND)) return 'deletingForeground';
    return 'alive';
  };

  const reconcile = async (qkey: string): Promise<void> => {
    const [mode, resource, key] = qkey.split('|', 3) as ['dep' | 'own', string, string];
    const inf = informers.get(resource);
    const obj = inf?.get(key);
    if (!inf || !obj) return;
    if (mode === 'dep') {
      const states = new Map<string, OwnerState>();
      for (const ref of obj.metadata.ownerReferences ?? []) states.set(ref.uid, await ownerState(obj, ref));
      const verdict = judgeDependent(obj, states);
      if (verdict.action === 'delete') {
        try {
          await ctx.client.delete(inf.info, obj.metadata.namespace, obj.metadata.name ?? '', { propagationPolicy: verdict.propagationPolicy });
        } catch (error) {
          if (!(error instanceof ClientError && error.code === 404)) throw error;
        }
      } else if (verdict.action === 'dropRefs') {
        inf.observe(await ctx.client.update(inf.info, { ...obj, metadata: { ...obj.metadata, ownerReferences: verdict.ownerReferences } }));
      }
      return;
    }
    const uid = obj.metadata.uid ?? '';
    const verdict = judgeOwner(obj, dependentsOf(uid).map((d) => d.obj));
    if (verdict.action === 'orphan') {
      for (const { resource: r, obj: d } of dependentsOf(uid)) {
        const dInf = informers.get(r)!;
        dInf.observe(await ctx.client.update(dInf.info, { ...d, metadata: { ...d.metadata, ownerReferences: (d.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== uid) } }));
      }
      queue.add(qkey);
    } else if (verdict.action === 'deleteDependents') {
      for (const d of verdict.dependents) {
        const dInf = informers.get(dependentsOf(uid).find((x) => x.obj === d)?.resource ?? '')!;
        await ctx.client.delete(dInf.info, d.metadata.namespace, d.metadata.name ?? '', { propagationPolicy: 'Foreground' }).catch((e: unknown) => (e instanceof ClientError && e.code === 404 ? undefined : Promise.reject(e)));
      }
    } else if (verdict.action === 'removeFinalizer') {
      const updated = await ctx.client.update(inf.info, { ...obj, metadata: { ...obj.metadata, finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== verdict.finalizer) } });
      if (updated.metadata.deletionTimestamp && (updated.metadata.finalizers ?? []).length > 0) inf.observe(updated);
    }
  };

  const queue = new WorkQueue(reconcile, { paused: true, workers: 4, onError: (key, error) => ctx.failed('garbage-collector', key, error) });
  for (const [resource, inf] of informers) {
    inf.on((type, obj) => {
      const uid = obj.metadata.uid ?? '';
      if (type === 'delete') {
        byUid.delete(uid);
        for (const d of dependentsOf(uid)) queue.add(`dep|${d.resource}|${keyOf(d.obj)}`);
      } else {
        byUid.set(uid, { resource, obj });
        if ((obj.metadata.ownerReferences ?? []).length > 0) queue.add(`dep|${resource}|${keyOf(obj)}`);
        if (obj.metadata.deletionTimestamp) {
          queue.add(`own|${resource}|${keyOf(obj)}`);
          // Foreground: the dependents learn that their owner is going.
          for (const d of dependentsOf(uid)) queue.add(`dep|${d.resource}|${keyOf(d.obj)}`);
        }
      }
      // A dependent leaving may release an owner waiting in foreground deletion.
      for (const ref of obj.metadata.ownerReferences ?? []) {
        const owner = byUid.get(ref.uid);
        if (owner?.obj.metadata.deletionTimestamp) queue.add(`own|${owner.resource}|${keyOf(owner.obj)}`);
      }
    });
  }
  return { name: 'garbage-collector', start: () => queue.resume(), stop: () => queue.stop() };
}
