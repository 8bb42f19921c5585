// One scheduling decision: filter every node, score the feasible ones, pick the best; or the
// aggregate "0/N nodes are available: ..." message Kubernetes writes when none fits.
import { DEFAULT_FILTERS, prepare, type Filter } from './filters.ts';
import { DEFAULT_SCORES, type Score } from './scores.ts';
import { ClusterState, type NodeInfo, type SchedPod, type Snapshot } from './state.ts';

export type ScheduleResult = { nodeName: string } | { unschedulable: string };

export interface Plugins {
  filters: readonly Filter[];
  scores: readonly { score: Score; weight: number }[];
}

export const DEFAULT_PLUGINS: Plugins = { filters: DEFAULT_FILTERS, scores: DEFAULT_SCORES };

/** Ties are broken by node name (lexicographically smallest wins) so results are reproducible. */
export function schedule(pod: SchedPod, cluster: Snapshot | ClusterState, plugins: Plugins = DEFAULT_PLUGINS): ScheduleResult {
  const state = cluster instanceof ClusterState ? cluster : ClusterState.fromSnapshot(cluster);
  const ctx = prepare(pod, state);
  const reasons = new Map<string, number>();
  const feasible: NodeInfo[] = [];
  const { filters, scores } = plugins;
  for (const info of state.nodes.values()) {
    let reason: string | undefined;
    for (let i = 0; i < filters.length && reason === undefined; i++) reason = filters[i]!(ctx, info, state);
    if (reason === undefined) feasible.push(info);
    else reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  if (feasible.length === 0) {
    // Kubernetes sorts the whole "<count> <reason>" strings (FitError.Error), so we do too.
    const parts = [...reasons.entries()].map(([r, n]) => `${n} ${r}`).sort();
    return { unschedulable: `0/${state.nodes.size} nodes are available: ${parts.join(', ')}.` };
  }
  let best: { name: string; score: number } | undefined;
  for (const info of feasible) {
    let score = 0;
    for (let i = 0; i < scores.length; i++) score += scores[i]!.weight * scores[i]!.score(ctx, info, feasible, state);
    if (!best || score > best.score + 1e-9 || (Math.abs(score - best.score) <= 1e-9 && info.name < best.name)) best = { name: info.name, score };
  }
  return { nodeName: best!.name };
}

export function podScheduledFalse(message: string, now: Date): { type: 'PodScheduled'; status: 'False'; reason: 'Unschedulable'; message: string; lastTransitionTime: string } {
  return { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: now.toISOString() };
}
