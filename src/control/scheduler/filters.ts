import { parseQuantity } from '../../api/resources/quantity.ts';
import type { SchedNode, SchedPod, Snapshot, Taint, Toleration } from './types.ts';

/** A filter returns undefined when the node fits, else a Kubernetes-style reason. */
export type Filter = (pod: SchedPod, node: SchedNode, snap: Snapshot) => string | undefined;

export function podRequests(pod: SchedPod): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of pod.spec.containers) {
    cpu += parseQuantity(c.resources?.requests?.cpu ?? '0') ?? 0;
    memory += parseQuantity(c.resources?.requests?.memory ?? '0') ?? 0;
  }
  return { cpu, memory };
}

export const nodeReady: Filter = (_pod, node) => {
  if (node.spec?.unschedulable) return "node(s) were unschedulable";
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' ? undefined : "node(s) were not ready";
};

export const nodeSelector: Filter = (pod, node) => {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec.nodeSelector ?? {})) {
    if (labels[k] !== v) return "node(s) didn't match Pod's node affinity/selector";
  }
  return undefined;
};

export const resourcesFit: Filter = (pod, node, snap) => {
  const alloc = node.status?.allocatable ?? {};
  const bound = snap.boundPods[node.metadata.name] ?? [];
  const want = podRequests(pod);
  const used = bound.map(podRequests).reduce((a, b) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory }), { cpu: 0, memory: 0 });
  const maxPods = parseQuantity(alloc.pods ?? '110') ?? 110;
  if (bound.length + 1 > maxPods) return 'Too many pods';
  if (used.cpu + want.cpu > (parseQuantity(alloc.cpu ?? '0') ?? 0)) return 'Insufficient cpu';
  if (used.memory + want.memory > (parseQuantity(alloc.memory ?? '0') ?? 0)) return 'Insufficient memory';
  return undefined;
};

function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key === undefined && t.operator === 'Exists') return true;
  if (t.key !== taint.key) return false;
  return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
}

export const taintToleration: Filter = (pod, node) => {
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!(pod.spec.tolerations ?? []).some((t) => tolerates(t, taint))) {
      return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
    }
  }
  return undefined;
};

export const DEFAULT_FILTERS: readonly Filter[] = [nodeReady, nodeSelector, taintToleration, resourcesFit];
