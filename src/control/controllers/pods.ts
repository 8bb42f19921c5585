// Facts about pods and owners that every controller reads the same way.
import { asPod, type Condition, type KubeObject, type OwnerReference, type PodSpec, type PodStatus, type PodTemplateSpec } from '../../client/index.ts';

export type { Condition };

export function statusOf(pod: KubeObject): PodStatus {
  return asPod(pod).status ?? {};
}

/** Counts toward its owner's replicas: not being deleted, not finished. */
export function isActive(pod: KubeObject): boolean {
  const phase = statusOf(pod).phase;
  return pod.metadata.deletionTimestamp === undefined && phase !== 'Succeeded' && phase !== 'Failed';
}

export function isReady(pod: KubeObject): boolean {
  return statusOf(pod).conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Ready for at least `minReadySeconds` (Kubernetes' "available"). */
export function isAvailable(pod: KubeObject, minReadySeconds: number, now: Date): boolean {
  if (!isReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = statusOf(pod).conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
  return since !== undefined && now.getTime() - Date.parse(since) >= minReadySeconds * 1000;
}

export function controllerRef(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

export function ownerRefTo(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** A new pod from an owner's template, named `<prefix><random>` by the API (generateName). */
export function podFromTemplate(owner: KubeObject, template: PodTemplateSpec, generateName: string, extra: { labels?: Record<string, string>; spec?: Partial<PodSpec> } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName,
      namespace: owner.metadata.namespace ?? 'default',
      labels: { ...(template.metadata?.labels ?? {}), ...(extra.labels ?? {}) },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [ownerRefTo(owner)],
    },
    spec: { ...structuredClone(template.spec ?? {}), ...(extra.spec ?? {}) },
  };
}

/** Which pods to delete first when scaling down, as Kubernetes ranks them: unscheduled, pending, not ready, newest. */
export function deletionOrder(a: KubeObject, b: KubeObject): number {
  const rank = (p: KubeObject): number[] => {
    const scheduled = asPod(p).spec.nodeName ? 1 : 0;
    const running = statusOf(p).phase === 'Running' ? 1 : 0;
    const ready = isReady(p) ? 1 : 0;
    return [scheduled, running, ready];
  };
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
  return (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '');
}

export function nowString(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Sets a condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(conditions: readonly Condition[] | undefined, next: Condition, now: Date): Condition[] {
  const out = [...(conditions ?? [])];
  const i = out.findIndex((c) => c.type === next.type);
  const old = i >= 0 ? out[i] : undefined;
  const stamped: Condition = { ...next, lastUpdateTime: nowString(now), lastTransitionTime: old && old.status === next.status ? (old.lastTransitionTime ?? nowString(now)) : nowString(now) };
  if (old && old.status === next.status && old.reason === next.reason && old.message === next.message) stamped.lastUpdateTime = old.lastUpdateTime ?? stamped.lastUpdateTime;
  if (i >= 0) out[i] = stamped;
  else out.push(stamped);
  return out;
}

/** JSON equality for status comparisons (write only on change). */
export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
