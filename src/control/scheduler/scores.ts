// Score plugins: each rates a feasible node in [0, 100]; schedule() sums them by weight.
import { NodeHealthAnnotations } from '../../client/index.ts';
import { domainOf, type PodContext } from './filters.ts';
import { termMatches } from './selectors.ts';
import { controllerUid, type ClusterState, type NodeInfo, type SchedNode } from './state.ts';

export type Score = (ctx: PodContext, node: NodeInfo, feasible: readonly NodeInfo[], state: ClusterState) => number;

// Scores run for every feasible node of every decision: no closures or array callbacks in them.

function freeShare(used: number, cap: number): number {
  return cap > 0 ? Math.max(0, 1 - used / cap) : 0;
}

/** Least allocated: the free share of cpu and memory after placing the pod, averaged. */
export const leastAllocated: Score = ({ requests }, info) =>
  ((freeShare(info.requested.cpu + requests.cpu, info.allocatable.cpu) + freeShare(info.requested.memory + requests.memory, info.allocatable.memory)) / 2) * 100;

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
  for (const { constraint, counts, max } of ctx.spread) {
    if (constraint.whenUnsatisfiable !== 'ScheduleAnyway') continue;
    const d = domainOf(info.node, constraint.topologyKey);
    if (d !== undefined && max > 0) score = Math.min(score, 100 * (1 - (counts.get(d) ?? 0) / (max + 1)));
  }
  return score;
};

/** Preferred node affinity: the weights of the preferences the node matches, out of all of them. */
export const preferredNodeAffinity: Score = ({ pod }, info) => {
  const prefs = pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
  if (!prefs) return 0;
  let total = 0;
  let matched = 0;
  for (const p of prefs) {
    total += p.weight;
    if (termMatches(p.preference, info.node)) matched += p.weight;
  }
  return total === 0 ? 0 : (100 * matched) / total;
};

/** Preferred pod anti-affinity: a node whose domain already holds selected pods loses the term's weight. */
export const preferredPodAntiAffinity: Score = ({ pod, preferredAntiDomains }, info) => {
  const prefs = pod.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
  if (!prefs) return 0;
  let total = 0;
  let lost = 0;
  for (let i = 0; i < prefs.length; i++) {
    const p = prefs[i]!;
    total += p.weight;
    const d = domainOf(info.node, p.podAffinityTerm.topologyKey);
    if (d !== undefined && preferredAntiDomains[i]!.has(d)) lost += p.weight;
  }
  return total === 0 ? 0 : (100 * (total - lost)) / total;
};

/** At or below this the temperature part of the health score is full. */
export const HEALTH_COOL_CELSIUS = 40;
/** At or above this it is zero: the Pi firmware's soft limit, where it starts to throttle. */
export const HEALTH_HOT_CELSIUS = 80;

const healthCache = new WeakMap<SchedNode, number>();

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function annotationNumber(node: SchedNode, key: string): number | undefined {
  const raw = node.metadata.annotations?.[key];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * A node's health in [0, 100], independent of the pod: 0 when the node reports ThermalThrottling
 * or UnderVoltage True (a throttled or under-powered board runs everything slower and may reset);
 * otherwise 10 + 90 x the mean of the parts it publishes: temperature (full at 40 °C, none at
 * 80 °C) and 5-minute load per CPU (full at 0, none at 1 or more). A node that publishes neither
 * (no sensors, an older agent) is neutral (55), so it is neither preferred to a cool idle board nor
 * avoided like a hot one. Cached per Node object (a new object on every Node change).
 */
export function nodeHealthOf(node: SchedNode): number {
  const cached = healthCache.get(node);
  if (cached !== undefined) return cached;
  let value: number;
  if (node.status?.conditions?.some((c) => (c.type === 'ThermalThrottling' || c.type === 'UnderVoltage') && c.status === 'True')) {
    value = 0;
  } else {
    const parts: number[] = [];
    const celsius = annotationNumber(node, NodeHealthAnnotations.temperatureCelsius);
    if (celsius !== undefined) parts.push(clamp01((HEALTH_HOT_CELSIUS - celsius) / (HEALTH_HOT_CELSIUS - HEALTH_COOL_CELSIUS)));
    const load = annotationNumber(node, NodeHealthAnnotations.loadPerCpu);
    if (load !== undefined && load >= 0) parts.push(clamp01(1 - load));
    const mean = parts.length > 0 ? parts.reduce((a, b) => a + b, 0) / parts.length : 0.5;
    value = 10 + 90 * mean;
  }
  healthCache.set(node, value);
  return value;
}

/** Node health: prefer cool, unthrottled, lightly loaded boards (see nodeHealthOf). */
export const nodeHealth: Score = (_ctx, info) => nodeHealthOf(info.node);

/**
 * Weights as Kubernetes' defaults rank them: spread counts double. Node health counts double too:
 * a throttled board (0) then loses to a healthy one (~90) even when the healthy one already holds
 * a replica of the same owner (spread: 100 vs 50), while a few degrees or a quarter of load
 * (~10-25 points) do not outweigh that first replica's spread; a user's preferred node affinity
 * (up to 200) still beats a throttled board's loss (up to 180).
 */
export const DEFAULT_SCORES: readonly { score: Score; weight: number }[] = [
  { score: leastAllocated, weight: 1 },
  { score: nodeHealth, weight: 2 },
  { score: ownerSpread, weight: 2 },
  { score: preferredNodeAffinity, weight: 2 },
  { score: preferredPodAntiAffinity, weight: 2 },
];
