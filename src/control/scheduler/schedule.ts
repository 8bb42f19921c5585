import { DEFAULT_FILTERS, podRequests, type Filter } from './filters.ts';
import { parseQuantity } from '../../api/resources/quantity.ts';
import type { SchedNode, SchedPod, Snapshot } from './types.ts';

export type ScheduleResult = { nodeName: string } | { unschedulable: string };

/** Least-allocated score in [0,100] after placing the pod (cpu and memory averaged). */
function leastAllocated(pod: SchedPod, node: SchedNode, snap: Snapshot): number {
  const alloc = node.status?.allocatable ?? {};
  const used = [...(snap.boundPods[node.metadata.name] ?? []), pod].map(podRequests);
  const frac = (k: 'cpu' | 'memory'): number => {
    const cap = parseQuantity(alloc[k] ?? '0') ?? 0;
    return cap > 0 ? 1 - used.reduce((s, r) => s + r[k], 0) / cap : 0;
  };
  return ((frac('cpu') + frac('memory')) / 2) * 100;
}

/** Ties are broken by node name (lexicographically smallest wins) so results are reproducible. */
export function schedule(pod: SchedPod, snap: Snapshot, filters: readonly Filter[] = DEFAULT_FILTERS): ScheduleResult {
  const reasons = new Map<string, number>();
  const feasible: SchedNode[] = [];
  for (const node of snap.nodes) {
    const reason = filters.map((f) => f(pod, node, snap)).find((r) => r !== undefined);
    if (reason === undefined) feasible.push(node);
    else reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  if (feasible.length === 0) {
    // Kubernetes sorts the whole "<count> <reason>" strings (FitError.Error), so we do too.
    const parts = [...reasons.entries()].map(([r, n]) => `${n} ${r}`).sort();
    return { unschedulable: `0/${snap.nodes.length} nodes are available: ${parts.join(', ')}.` };
  }
  const scored = feasible
    .map((n) => ({ name: n.metadata.name, score: leastAllocated(pod, n, snap) }))
    .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  return { nodeName: scored[0]!.name };
}

export function podScheduledFalse(message: string, now: Date): { type: 'PodScheduled'; status: 'False'; reason: 'Unschedulable'; message: string; lastTransitionTime: string } {
  return { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: now.toISOString() };
}
