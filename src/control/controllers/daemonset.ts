// DaemonSet: one pod per eligible node (node selector / required affinity of its template, taints
// it tolerates), pinned to its node by node affinity on metadata.name so the scheduler still checks
// resources and ports; a node added later gets its pod; pods on nodes no longer eligible go; a new
// template replaces pods one node at a time (RollingUpdate, maxUnavailable, default 1).
import { asDaemonSet, asNode, asPod, Kinds, type KubeObject, type PodTemplateSpec, type Toleration } from '../../client/index.ts';
import { nodeMatchesSelectorAndAffinity, tolerates } from '../scheduler/filters.ts';
import type { SchedPod } from '../scheduler/state.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { templateHash } from './hash.ts';
import { ownerLoop } from './owned.ts';
import { isActive, isAvailable, isReady, podFromTemplate } from './pods.ts';
import { resolveIntOrPercent } from './deployment.ts';

export const REVISION_HASH = 'controller-revision-hash';

/** Tolerations Kubernetes adds to every DaemonSet pod: they stay through node trouble and cordons. */
export const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** The node a DaemonSet pod is for: its nodeName, else the metadata.name its required affinity pins. */
export function targetNode(pod: KubeObject): string | undefined {
  const spec = asPod(pod).spec;
  if (spec.nodeName) return spec.nodeName;
  for (const term of spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/**
 * What a DaemonSet claims: pods bound or pinned to a node (Kubernetes skips the others too); an
 * unplaced bare pod adopted would only be deleted as misplaced.
 */
export function placed(pod: KubeObject): boolean {
  return targetNode(pod) !== undefined;
}

export function eligible(template: PodTemplateSpec, node: KubeObject): boolean {
  const pod: SchedPod = { metadata: { name: '' }, spec: { containers: [], ...template.spec } };
  const n = asNode(node);
  if (!nodeMatchesSelectorAndAffinity(pod, n)) return false;
  const tolerations = [...(pod.spec.tolerations ?? []), ...DAEMON_TOLERATIONS];
  const taints = (n.spec?.taints ?? []).filter((t) => t.effect !== 'PreferNoSchedule');
  return taints.every((t) => tolerations.some((tol) => tolerates(tol, t)));
}

export interface DaemonSetPlan {
  create: { nodeName: string; pod: KubeObject }[];
  delete: KubeObject[];
  status: Record<string, unknown>;
}

/** Pure: the DaemonSet's pods to create and delete, given the nodes and the pods it owns. */
export function planDaemonSet(ds: KubeObject, nodes: readonly KubeObject[], owned: readonly KubeObject[], now: Date): DaemonSetPlan {
  const spec = asDaemonSet(ds).spec ?? {};
  const template = spec.template ?? {};
  const hash = templateHash(template);
  const minReady = spec.minReadySeconds ?? 0;
  const wanted = nodes.filter((n) => eligible(template, n));
  const wantedNames = new Set(wanted.map((n) => n.metadata.name ?? ''));
  const active = owned.filter(isActive);
  const byNode = new Map<string, KubeObject[]>();
  for (const p of active) {
    const n = targetNode(p) ?? '';
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const plan: DaemonSetPlan = { create: [], delete: [], status: {} };
  for (const [n, pods] of byNode) {
    if (!wantedNames.has(n)) plan.delete.push(...pods);
    // Two pods on one node (a race, or a rollout's new one): keep the newest of the current template.
    else if (pods.length > 1) {
      const sorted = [...pods].sort((a, b) => Number(b.metadata.labels?.[REVISION_HASH] === hash) - Number(a.metadata.labels?.[REVISION_HASH] === hash) || (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''));
      plan.delete.push(...sorted.slice(1));
    }
  }
  for (const node of wanted) {
    const name = node.metadata.name ?? '';
    if ((byNode.get(name) ?? []).length > 0) continue;
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [name] }] }] } } };
    const tolerations = [...(template.spec?.tolerations ?? []), ...DAEMON_TOLERATIONS];
    plan.create.push({ nodeName: name, pod: podFromTemplate(ds, template, `${ds.metadata.name ?? 'ds'}-`, { labels: { [REVISION_HASH]: hash }, spec: { affinity, tolerations } }) });
  }
  // Rolling update: replace outdated pods while at most maxUnavailable nodes lack an available pod.
  const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const maxUnavailable = Math.max(1, resolveIntOrPercent(spec.updateStrategy?.rollingUpdate?.maxUnavailable, '1', wanted.length, false));
  const current = (n: string) => (byNode.get(n) ?? []).filter((p) => !plan.delete.includes(p));
  let unavailable = wanted.filter((n) => !current(n.metadata.name ?? '').some((p) => isAvailable(p, minReady, now))).length;
  if (rolling) {
    for (const node of wanted) {
      const pods = current(node.metadata.name ?? '');
      const old = pods.filter((p) => p.metadata.labels?.[REVISION_HASH] !== hash);
      if (old.length === 0) continue;
      const oldAvailable = old.some((p) => isAvailable(p, minReady, now));
      if (oldAvailable && unavailable >= maxUnavailable) continue;
      plan.delete.push(...old);
      if (oldAvailable) unavailable++;
    }
  }
  const scheduled = wanted.filter((n) => current(n.metadata.name ?? '').length > 0);
  const podsOnWanted = wanted.flatMap((n) => current(n.metadata.name ?? '').slice(0, 1));
  plan.status = {
    desiredNumberScheduled: wanted.length,
    currentNumberScheduled: scheduled.length,
    numberMisscheduled: [...byNode.keys()].filter((n) => !wantedNames.has(n)).length,
    numberReady: podsOnWanted.filter(isReady).length,
    numberAvailable: podsOnWanted.filter((p) => isAvailable(p, minReady, now)).length,
    updatedNumberScheduled: podsOnWanted.filter((p) => p.metadata.labels?.[REVISION_HASH] === hash).length,
    observedGeneration: ds.metadata.generation ?? 1,
  };
  const unavailableNow = wanted.length - (plan.status['numberAvailable'] as number);
  if (unavailableNow > 0) plan.status['numberUnavailable'] = unavailableNow;
  return plan;
}

export function createDaemonSetController(ctx: ControlContext): Controller {
  const nodes = ctx.informer(Kinds.nodes);
  const loop = ownerLoop(ctx, 'daemonset', Kinds.daemonsets, async (ds, l) => {
    if (ds.metadata.deletionTimestamp) return;
    const plan = planDaemonSet(ds, nodes.list(), await l.claimPods(ds, placed), new Date());
    await Promise.all([...plan.create.map((c) => l.createPod(c.pod)), ...plan.delete.map((p) => l.deletePod(p))]);
    await l.writeStatus(ds, planDaemonSet(ds, nodes.list(), l.ownedPods(ds), new Date()).status);
  });
  nodes.on(() => {
    for (const ds of loop.owners.list()) loop.queue.add(`${ds.metadata.namespace}/${ds.metadata.name}`);
  });
  return loop.controller;
}
