// Score plugins: each rates a feasible node in [0, 100]; schedule() sums them by weight.
import { domainOf, type PodContext } from './filters.ts';
import { termMatches } from './selectors.ts';
import { controllerUid, type ClusterState, type NodeInfo } from './state.ts';

export type Score = (ctx: PodContext, node: NodeInfo, feasible: readonly NodeInfo[], state: ClusterState) => number;

/** Least allocated: the free share of cpu and memory after placing the pod, averaged. */
export const leastAllocated: Score = ({ requests }, info) => {
  const frac = (used: number, cap: number): number => (cap > 0 ? Math.max(0, 1 - used / cap) : 0);
  return ((frac(info.requested.cpu + requests.cpu, info.allocatable.cpu) + frac(info.requested.memory + requests.memory, info.allocatable.memory)) / 2) * 100;
};

/**
 * Spread the pods of one controller (ReplicaSet, Job, DaemonSet...) across nodes: fewer of its pods
 * on a node scores higher. Also counts ScheduleAnyway topology spread constraints the same way.
 */
export const ownerSpread: Score = (ctx, info, feasible) => {
  const owner = controllerUid(ctx.pod);
  let score = 100;
  if (owner) {
    let max = ctx.memo.get('ownerMax');
    if (max === undefined) {
      max = 0;
      for (const n of feasible) max = Math.max(max, n.byOwner.get(owner) ?? 0);
      ctx.memo.set('ownerMax', max);
    }
    if (max > 0) score = 100 * (1 - (info.byOwner.get(owner) ?? 0) / (max + 1));
  }
  for (const { constraint, counts } of ctx.spread) {
    if (constraint.whenUnsatisfiable !== 'ScheduleAnyway') continue;
    const d = domainOf(info.node, constraint.topologyKey);
    const max = Math.max(0, ...counts.values());
    if (d !== undefined && max > 0) score = Math.min(score, 100 * (1 - (counts.get(d) ?? 0) / (max + 1)));
  }
  return score;
};

/** Preferred node affinity: the weights of the preferences the node matches, out of all of them. */
export const preferredNodeAffinity: Score = ({ pod }, info) => {
  const prefs = pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const total = prefs.reduce((s, p) => s + p.weight, 0);
  if (total === 0) return 0;
  return (100 * prefs.filter((p) => termMatches(p.preference, info.node)).reduce((s, p) => s + p.weight, 0)) / total;
};

/** Preferred pod anti-affinity: a node whose domain already holds selected pods loses the term's weight. */
export const preferredPodAntiAffinity: Score = ({ pod, preferredAntiDomains }, info) => {
  const prefs = pod.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const total = prefs.reduce((s, p) => s + p.weight, 0);
  if (total === 0) return 0;
  let lost = 0;
  for (const [i, p] of prefs.entries()) {
    const d = domainOf(info.node, p.podAffinityTerm.topologyKey);
    if (d !== undefined && preferredAntiDomains[i]!.has(d)) lost += p.weight;
  }
  return (100 * (total - lost)) / total;
};

/** Weights as Kubernetes' defaults rank them: spread counts double. */
export const DEFAULT_SCORES: readonly { score: Score; weight: number }[] = [
  { score: leastAllocated, weight: 1 },
  { score: ownerSpread, weight: 2 },
  { score: preferredNodeAffinity, weight: 2 },
  { score: preferredPodAntiAffinity, weight: 2 },
];
