// What a DELETE does to an object, as Kubernetes decides it: remove it now, or mark it
// (deletionTimestamp) and keep it until its finalizers are gone or, for a running pod, until its
// node has stopped it within the grace period.
import type { ResourceInfo } from './catalog.ts';
import { arr, clone, num, obj, str } from './json.ts';
import { formatTime } from './strategy.ts';
import type { KubeObject } from './types.ts';

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

export interface DeleteOptions {
  now: Date;
  /** DeleteOptions.gracePeriodSeconds (`kubectl delete --grace-period`, `--now` = 1, `--force` = 0). */
  gracePeriodSeconds?: number;
  propagationPolicy?: PropagationPolicy;
}

export type DeletionPlan =
  | { action: 'remove' }
  /** Store `object` (marked); it is removed later by whoever clears its finalizers or stops the pod. */
  | { action: 'mark'; object: KubeObject };

const ORPHAN_FINALIZER = 'orphan';
const FOREGROUND_FINALIZER = 'foregroundDeletion';
/** The grace period of a pod that does not set terminationGracePeriodSeconds. */
export const DEFAULT_POD_GRACE_SECONDS = 30;

function podGraceSeconds(pod: KubeObject, requested: number | undefined): number {
  const spec = obj(pod.spec) ?? {};
  const phase = str(obj(pod.status)?.phase);
  // A pod no node runs (never scheduled, or already finished) has nothing to stop: it goes at once.
  if (!str(spec.nodeName) || phase === 'Succeeded' || phase === 'Failed') return 0;
  const grace = requested ?? num(spec.terminationGracePeriodSeconds) ?? DEFAULT_POD_GRACE_SECONDS;
  return Math.max(0, grace);
}

export function planDeletion(info: ResourceInfo, current: KubeObject, opts: DeleteOptions): DeletionPlan {
  const o = clone(current);
  const meta = o.metadata;
  const finalizers = arr(meta.finalizers).filter((f): f is string => typeof f === 'string');
  if (opts.propagationPolicy === 'Orphan' && !finalizers.includes(ORPHAN_FINALIZER)) finalizers.push(ORPHAN_FINALIZER);
  if (opts.propagationPolicy === 'Foreground' && !finalizers.includes(FOREGROUND_FINALIZER)) finalizers.push(FOREGROUND_FINALIZER);
  const grace = info.kind === 'Pod' ? podGraceSeconds(o, opts.gracePeriodSeconds) : 0;
  const alreadyMarked = meta.deletionTimestamp !== undefined;
  if (alreadyMarked) {
    // A second delete may only shorten the grace period (kubectl delete --force after a plain delete).
    const before = meta.deletionGracePeriodSeconds ?? 0;
    if (grace === 0 && finalizers.length === 0) return { action: 'remove' };
    if (grace < before) {
      meta.deletionGracePeriodSeconds = grace;
      meta.deletionTimestamp = formatTime(new Date(opts.now.getTime() + grace * 1000));
    }
    if (finalizers.length > 0) meta.finalizers = finalizers;
    return { action: 'mark', object: o };
  }
  const namespaceWithContent = info.kind === 'Namespace';
  if (grace === 0 && finalizers.length === 0 && !namespaceWithContent) return { action: 'remove' };
  meta.deletionTimestamp = formatTime(new Date(opts.now.getTime() + grace * 1000));
  meta.deletionGracePeriodSeconds = grace;
  if (finalizers.length > 0) meta.finalizers = finalizers;
  if (info.kind === 'Namespace') o.status = { ...(obj(o.status) ?? {}), phase: 'Terminating' };
  return { action: 'mark', object: o };
}

/**
 * After an update of a marked object: true when nothing holds it any more (no finalizers, no spec
 * finalizers of a namespace), so the registry removes it. A pod in its grace period stays until
 * its node's agent deletes it with grace 0 (or the node lifecycle controller forces it).
 */
export function readyToRemove(info: ResourceInfo, o: KubeObject): boolean {
  const meta = o.metadata;
  if (meta.deletionTimestamp === undefined) return false;
  if (arr(meta.finalizers).length > 0) return false;
  if (info.kind === 'Namespace' && arr(obj(o.spec)?.finalizers).length > 0) return false;
  if (info.kind === 'Pod' && (meta.deletionGracePeriodSeconds ?? 0) > 0) return false;
  return true;
}
