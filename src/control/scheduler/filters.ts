// Filter plugins: each says why a node cannot take the pod, in the words Kubernetes' scheduler
// uses, or undefined when it can. `prepare` computes once per pod what several filters share.
import { compileSelector, selects, termMatches } from './selectors.ts';
import { hostPorts, labelKey, podRequests, type ClusterState, type NodeInfo, type Requests, type SchedNode, type SchedPod } from './state.ts';
import { NodeAnnotations, NodeLabels, type LabelSelectorQuery, type PodAffinityTerm, type Taint, type Toleration, type TopologySpreadConstraint } from '../../client/index.ts';

/** Per-pod facts computed once per scheduling attempt. */
export interface PodContext {
  pod: SchedPod;
  requests: Requests;
  ports: string[];
  /** Topology domains ("key=value") holding pods that the pod's required (anti-)affinity terms select. */
  antiAffinityDomains: Set<string>[];
  affinityDomains: Set<string>[];
  antiTerms: PodAffinityTerm[];
  affinityTerms: PodAffinityTerm[];
  /** Whether some existing pod matches each required affinity term at all (a first pod may place itself). */
  affinityAnyMatch: boolean[];
  /** The pod's images -> platforms ("linux/arm64") reported by nodes (annotation IMAGE_PLATFORMS_ANNOTATION). */
  imagePlatforms: Map<string, Set<string>>;
  /** Per topologySpreadConstraint: matching pods per domain, the smallest and the largest count. */
  spread: { constraint: TopologySpreadConstraint; counts: Map<string, number>; min: number; max: number }[];
  /** Per preferred anti-affinity term: the domains already holding selected pods. */
  preferredAntiDomains: Set<string>[];
  /** Scores' per-pod values computed once (e.g. the largest owner count over feasible nodes). */
  memo: Map<string, number>;
}

/**
 * A selector over pods of some namespaces, prepared once per decision: a one-label selector (the
 * usual app=x) becomes the NodeInfo.labelCounts keys to add up, O(1) per node.
 */
export interface PodMatcher {
  namespaces: readonly string[];
  sel: LabelSelectorQuery;
  /** Set for one-label selectors. */
  labelKeys?: string[];
}

export function podMatcher(namespaces: readonly string[], sel: LabelSelectorQuery): PodMatcher {
  const only = !sel.nothing && sel.requirements.length === 1 ? sel.requirements[0]! : undefined;
  if (only && (only.operator === '=' || only.operator === '==' || (only.operator === 'in' && only.values.length === 1))) {
    return { namespaces, sel, labelKeys: namespaces.map((ns) => labelKey(ns, only.key, only.values[0] ?? '')) };
  }
  return { namespaces, sel };
}

/** Pods on the node in `namespaces` that `sel` selects: O(1) for one-label selectors, a scan otherwise. */
export function countMatching(info: NodeInfo, matcher: PodMatcher): number {
  const { sel, namespaces, labelKeys } = matcher;
  if (sel.nothing) return 0;
  let n = 0;
  if (labelKeys) {
    for (const key of labelKeys) n += info.labelCounts.get(key) ?? 0;
    return n;
  }
  for (const other of info.pods.values()) if (namespaces.includes(other.metadata.namespace ?? 'default') && selects(sel, other.metadata.labels)) n++;
  return n;
}

export type Filter = (ctx: PodContext, node: NodeInfo, state: ClusterState) => string | undefined;

/**
 * A node's agent may list the platforms of the images its engine holds, as JSON
 * `{"<image>": ["linux/arm64", ...]}`: the one place the scheduler can learn an image's
 * architectures on a cluster without a registry.
 */
export const IMAGE_PLATFORMS_ANNOTATION = NodeAnnotations.imagePlatforms;

function domainsFor(term: PodAffinityTerm, pod: SchedPod, state: ClusterState): Set<string> {
  const namespaces = term.namespaces && term.namespaces.length > 0 ? term.namespaces : [pod.metadata.namespace ?? 'default'];
  const matcher = podMatcher(namespaces, compileSelector(term.labelSelector));
  const domains = new Set<string>();
  for (const info of state.nodes.values()) {
    const value = domainOf(info.node, term.topologyKey);
    if (value === undefined || domains.has(value)) continue;
    if (countMatching(info, matcher) > 0) domains.add(value);
  }
  return domains;
}

// Each Node's annotation parsed once per object (an update brings a new object), not once per pod:
// a node listing a few hundred images would otherwise cost a JSON parse per node per decision.
const parsedPlatforms = new WeakMap<SchedNode, ReadonlyMap<string, readonly string[]>>();

function platformsOfNode(node: SchedNode): ReadonlyMap<string, readonly string[]> {
  let parsed = parsedPlatforms.get(node);
  if (parsed) return parsed;
  const out = new Map<string, string[]>();
  const raw = node.metadata.annotations?.[IMAGE_PLATFORMS_ANNOTATION];
  if (raw) {
    try {
      const value = JSON.parse(raw) as unknown;
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [image, platforms] of Object.entries(value as Record<string, unknown>)) {
          if (Array.isArray(platforms)) out.set(image, platforms.filter((p): p is string => typeof p === 'string'));
        }
      }
    } catch {
      // an unreadable annotation tells nothing
    }
  }
  parsed = out;
  parsedPlatforms.set(node, parsed);
  return parsed;
}

/** The platforms some node reported for each of the pod's images (the union over nodes). */
function imagePlatformsOf(pod: SchedPod, state: ClusterState): Map<string, Set<string>> {
  const images = new Set([...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.image).filter((i): i is string => !!i));
  const out = new Map<string, Set<string>>();
  if (images.size === 0) return out;
  for (const info of state.nodes.values()) {
    const listed = platformsOfNode(info.node);
    if (listed.size === 0) continue;
    for (const image of images) {
      const platforms = listed.get(image);
      if (!platforms) continue;
      const set = out.get(image) ?? out.set(image, new Set()).get(image)!;
      for (const p of platforms) set.add(p);
    }
  }
  return out;
}

export function prepare(pod: SchedPod, state: ClusterState): PodContext {
  const antiTerms = pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  const affinityTerms = pod.spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  const affinityDomains = affinityTerms.map((t) => domainsFor(t, pod, state));
  return {
    pod,
    requests: podRequests(pod),
    ports: hostPorts(pod),
    antiTerms,
    affinityTerms,
    antiAffinityDomains: antiTerms.map((t) => domainsFor(t, pod, state)),
    affinityDomains,
    affinityAnyMatch: affinityDomains.map((d) => d.size > 0),
    imagePlatforms: imagePlatformsOf(pod, state),
    preferredAntiDomains: (pod.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => domainsFor(p.podAffinityTerm, pod, state)),
    memo: new Map(),
    spread: (pod.spec.topologySpreadConstraints ?? []).map((constraint) => {
      const counts = spreadCounts(pod, constraint.topologyKey, compileSelector(constraint.labelSelector), state);
      let min = Infinity;
      let max = 0;
      for (const n of counts.values()) {
        min = Math.min(min, n);
        max = Math.max(max, n);
      }
      return { constraint, counts, min: counts.size === 0 ? 0 : min, max };
    }),
  };
}

// Filters run for every node of every decision: plain loops, no closures or iterators in them.

export const nodeReady: Filter = (_ctx, { node }) => {
  if (node.spec?.unschedulable) return 'node(s) were unschedulable';
  for (const c of node.status?.conditions ?? []) if (c.type === 'Ready') return c.status === 'True' ? undefined : 'node(s) were not ready';
  return 'node(s) were not ready';
};

export function nodeMatchesSelectorAndAffinity(pod: SchedPod, node: SchedNode): boolean {
  const selector = pod.spec.nodeSelector;
  if (selector) {
    const labels = node.metadata.labels ?? {};
    for (const k in selector) if (labels[k] !== selector[k]) return false;
  }
  const required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  // Terms are ORed; a required affinity without terms matches no node, as in Kubernetes.
  for (const t of required.nodeSelectorTerms ?? []) if (termMatches(t, node)) return true;
  return false;
}

/** nodeSelector and required node affinity (kubernetes.io/arch, hostname, any label): one reason, as Kubernetes words it. */
export const nodeAffinity: Filter = ({ pod }, { node }) => (nodeMatchesSelectorAndAffinity(pod, node) ? undefined : "node(s) didn't match Pod's node affinity/selector");

/**
 * Whether a node labelled `arch` (and `variant`) runs an image of `platform` ("linux/arm/v7")
 * natively, as the agent decides (src/agent/runtime/platforms.ts): 64-bit Pis also run 32-bit arm
 * images, an armv7 board runs armv6 ones, a missing variant on either side matches any.
 */
export function nodeRunsPlatform(platform: string, arch: string, variant: string | undefined): boolean {
  const [os, a, v] = platform.split('/');
  if (os !== 'linux') return false;
  if (a === arch) return v === undefined || variant === undefined || v === variant || (arch === 'arm' && variant === 'v7' && v === 'v6');
  return arch === 'arm64' && a === 'arm';
}

/** The image's architectures, when some node reported them, must include one the node runs. */
export const imageArchitecture: Filter = ({ pod, imagePlatforms }, { node }) => {
  const arch = node.metadata.labels?.['kubernetes.io/arch'];
  if (!arch) return undefined;
  const variant = node.metadata.labels?.[NodeLabels.archVariant];
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    const platforms = c.image ? imagePlatforms.get(c.image) : undefined;
    if (!platforms || platforms.size === 0) continue;
    if (![...platforms].some((p) => nodeRunsPlatform(p, arch, variant))) {
      return `node(s) didn't match image architecture (${[...platforms].map((p) => p.split('/').slice(1).join('/')).sort().join(', ')})`;
    }
  }
  return undefined;
};

export const resourcesFit: Filter = ({ requests }, info) => {
  const a = info.allocatable;
  if (info.pods.size + 1 > a.pods) return 'Too many pods';
  if (info.requested.cpu + requests.cpu > a.cpu) return 'Insufficient cpu';
  if (info.requested.memory + requests.memory > a.memory) return 'Insufficient memory';
  return undefined;
};

export const hostPortsFree: Filter = ({ ports }, info) => {
  for (const p of ports) if (info.ports.has(p)) return "node(s) didn't have free ports for the requested pod ports";
  return undefined;
};

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key === undefined || t.key === '') return t.operator === 'Exists';
  if (t.key !== taint.key) return false;
  return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
}

export const taintToleration: Filter = ({ pod }, { node }) => {
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!(pod.spec.tolerations ?? []).some((t) => tolerates(t, taint))) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
  }
  return undefined;
};

export function domainOf(node: SchedNode, topologyKey: string): string | undefined {
  return node.metadata.labels?.[topologyKey] ?? (topologyKey === 'kubernetes.io/hostname' ? node.metadata.name : undefined);
}

/** Required pod anti-affinity (no selected pod in the node's topology domain) and affinity (some selected pod there). */
export const interPodAffinity: Filter = (ctx, { node }) => {
  for (let i = 0; i < ctx.antiTerms.length; i++) {
    const d = domainOf(node, ctx.antiTerms[i]!.topologyKey);
    if (d !== undefined && ctx.antiAffinityDomains[i]!.has(d)) return "node(s) didn't match pod anti-affinity rules";
  }
  for (let i = 0; i < ctx.affinityTerms.length; i++) {
    const term = ctx.affinityTerms[i]!;
    const d = domainOf(node, term.topologyKey);
    if (d === undefined) return "node(s) didn't match pod affinity rules";
    // The first pod of a group that selects itself may go anywhere, as in Kubernetes.
    if (!ctx.affinityAnyMatch[i] && selects(compileSelector(term.labelSelector), ctx.pod.metadata.labels)) continue;
    if (!ctx.affinityDomains[i]!.has(d)) return "node(s) didn't match pod affinity rules";
  }
  return undefined;
};

/** topologySpreadConstraints with whenUnsatisfiable=DoNotSchedule: placing here must keep skew <= maxSkew. */
export const podTopologySpread: Filter = ({ spread }, { node }) => {
  for (const { constraint: c, counts, min } of spread) {
    if (c.whenUnsatisfiable !== 'DoNotSchedule') continue;
    const here = domainOf(node, c.topologyKey);
    if (here === undefined) return "node(s) didn't match pod topology spread constraints (missing required label)";
    if ((counts.get(here) ?? 0) + 1 - min > c.maxSkew) return "node(s) didn't match pod topology spread constraints";
  }
  return undefined;
};

/** Matching pods per topology domain, over the nodes the pod's node selector/affinity allow. */
export function spreadCounts(pod: SchedPod, topologyKey: string, sel: LabelSelectorQuery, state: ClusterState): Map<string, number> {
  const counts = new Map<string, number>();
  const matcher = podMatcher([pod.metadata.namespace ?? 'default'], sel);
  for (const info of state.nodes.values()) {
    const d = domainOf(info.node, topologyKey);
    if (d === undefined || !nodeMatchesSelectorAndAffinity(pod, info.node)) continue;
    counts.set(d, (counts.get(d) ?? 0) + countMatching(info, matcher));
  }
  return counts;
}

export const DEFAULT_FILTERS: readonly Filter[] = [nodeReady, nodeAffinity, taintToleration, imageArchitecture, hostPortsFree, resourcesFit, interPodAffinity, podTopologySpread];
