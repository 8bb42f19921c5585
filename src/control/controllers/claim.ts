// Controller references as Kubernetes' ControllerRefManager keeps them: a controller adopts the
// orphans its selector matches (writing a controller ownerReference) and releases what it owns
// but no longer matches (removing its reference), so a bare pod with the right labels counts
// toward a ReplicaSet's replicas and `kubectl label pod x app-` takes a pod out of one.
import { asWorkload, ClientError, isFenced, labelSelectorFromObject, matchesLabels, type Client, type KubeObject, type LabelSelectorQuery, type ResourceInfo } from '../../client/index.ts';
import type { ObjectInformer } from '../../client/cache/index.ts';
import { controllerRef, ownerRefTo } from './pods.ts';

/** Index of the objects without a controller reference, by namespace (the adoption candidates). */
export const ORPHAN_INDEX = 'orphan-namespace';

/** Adds the orphan index to a shared informer once. */
export function withOrphanIndex(informer: ObjectInformer): ObjectInformer {
  // A second addIndex of the same name keeps the first: controllers share these caches.
  informer.addIndex(ORPHAN_INDEX, (o) => (controllerRef(o) ? [] : [o.metadata.namespace ?? '']));
  return informer;
}

/**
 * The controller's selector, or undefined when it may claim nothing: no selector, an empty one
 * (Kubernetes refuses to let a controller select everything) or one that does not parse (the API
 * validates selectors; an object that slipped past is left alone rather than releasing its pods).
 */
export function claimSelector(controller: KubeObject): LabelSelectorQuery | undefined {
  const sel = asWorkload(controller).spec?.selector;
  if (!sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) return undefined;
  try {
    return labelSelectorFromObject(sel);
  } catch {
    return undefined;
  }
}

export interface ClaimPlan {
  /** Already the controller's and still matching. */
  owned: KubeObject[];
  /** Orphans to take (matching, not being deleted). */
  adopt: KubeObject[];
  /** The controller's, but no longer matching: its reference goes. */
  release: KubeObject[];
}

/**
 * Pure: which candidates the controller owns, adopts and releases. Objects controlled by another
 * controller are never touched; a controller being deleted adopts and releases nothing (it keeps
 * claiming what it owns and matches, which needs no write); without a usable selector nothing
 * changes hands. `filter` narrows what counts as a match (e.g. only active pods).
 */
export function planClaims(controller: KubeObject, candidates: readonly KubeObject[], selector: LabelSelectorQuery | undefined, filter: (o: KubeObject) => boolean = () => true): ClaimPlan {
  const plan: ClaimPlan = { owned: [], adopt: [], release: [] };
  const uid = controller.metadata.uid ?? '';
  const deleting = controller.metadata.deletionTimestamp !== undefined;
  for (const o of candidates) {
    const ref = controllerRef(o);
    if (ref && ref.uid !== uid) continue;
    if (selector === undefined) {
      if (ref && filter(o)) plan.owned.push(o);
      continue;
    }
    const match = filter(o) && matchesLabels(selector, o.metadata.labels);
    if (ref) {
      if (match) plan.owned.push(o);
      else if (!deleting && filter(o)) plan.release.push(o);
      continue;
    }
    if (!deleting && match && o.metadata.deletionTimestamp === undefined) plan.adopt.push(o);
  }
  return plan;
}

export interface ClaimResult {
  /** What the controller owns after the writes: owned plus the adoptions that took. */
  owned: KubeObject[];
  adopted: KubeObject[];
  released: KubeObject[];
  /** Writes that lost a race (the object moved since the cache saw it): try again later. */
  conflicts: number;
}

/**
 * Carries out a ClaimPlan through the (fenced) client: each adoption or release is a merge patch
 * of metadata.ownerReferences pinned to the resourceVersion the plan saw, so a concurrent writer
 * (another controller adopting first, the user relabelling) makes it fail with 409 instead of
 * being overwritten. Before the first adoption the controller is read afresh: one deleted or
 * replaced (another uid) since the cache saw it adopts nothing. A fenced 409 is thrown (the
 * manager stops this term's loops); other conflicts are counted; a vanished object is skipped.
 */
export async function executeClaims(
  client: Client,
  controllerInfo: ResourceInfo,
  controller: KubeObject,
  dependentInfo: ResourceInfo,
  dependents: ObjectInformer,
  plan: ClaimPlan,
): Promise<ClaimResult> {
  const result: ClaimResult = { owned: [...plan.owned], adopted: [], released: [], conflicts: 0 };
  const write = async (o: KubeObject, refs: KubeObject['metadata']['ownerReferences']): Promise<KubeObject | undefined> => {
    try {
      // The last reference gone: remove the field (null in a merge patch), as Kubernetes omits an empty list.
      const ownerReferences = refs && refs.length > 0 ? refs : null;
      const patched = await client.patch(dependentInfo, o.metadata.namespace, o.metadata.name ?? '', 'merge', { metadata: { resourceVersion: o.metadata.resourceVersion, ownerReferences } });
      dependents.observe(patched);
      return patched;
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      if (error.code === 404) return undefined;
      if (error.code === 409 && !isFenced(error)) {
        result.conflicts++;
        return undefined;
      }
      throw error;
    }
  };
  if (plan.adopt.length > 0 && (await stillAdopting(client, controllerInfo, controller))) {
    const ref = ownerRefTo(controller);
    for (const o of plan.adopt) {
      const adopted = await write(o, [...(o.metadata.ownerReferences ?? []), ref]);
      if (adopted) {
        result.adopted.push(adopted);
        result.owned.push(adopted);
      }
    }
  }
  for (const o of plan.release) {
    const uid = controller.metadata.uid;
    const released = await write(o, (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid));
    if (released) result.released.push(released);
  }
  return result;
}

/** Kubernetes' RecheckDeletionTimestamp: the controller as stored now, not as cached, may adopt. */
async function stillAdopting(client: Client, info: ResourceInfo, controller: KubeObject): Promise<boolean> {
  try {
    const fresh = await client.get(info, controller.metadata.namespace, controller.metadata.name ?? '');
    return fresh.metadata.uid === controller.metadata.uid && fresh.metadata.deletionTimestamp === undefined;
  } catch (error) {
    if (error instanceof ClientError && error.code === 404) return false;
    throw error;
  }
}

/** Keys (`namespace/name`) of the controllers in `owners` whose selector matches an orphan `obj`. */
export function matchingControllers(owners: ObjectInformer, obj: KubeObject): string[] {
  if (controllerRef(obj) || obj.metadata.deletionTimestamp !== undefined) return [];
  const ns = obj.metadata.namespace ?? '';
  const keys: string[] = [];
  for (const owner of owners.list(ns)) {
    if (owner.metadata.deletionTimestamp !== undefined) continue;
    const sel = claimSelector(owner);
    if (sel && matchesLabels(sel, obj.metadata.labels)) keys.push(`${ns}/${owner.metadata.name ?? ''}`);
  }
  return keys;
}
