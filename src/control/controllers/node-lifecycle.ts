// Node lifecycle: the leader knows from Raft when it last heard from each member (in memory, no
// heartbeat writes). A member not heard from for the grace period becomes Ready=Unknown and is
// tainted node.kubernetes.io/unreachable (NoSchedule + NoExecute); its pods are deleted at once
// (or after their tolerationSeconds) so their controllers replace them on other boards. A node
// heard from again loses the taints; its agent writes Ready again and removes the stale containers.
import { asNode, asPod, ClientError, Kinds, type KubeObject, type Taint } from '../../client/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { nowString, setCondition, statusOf } from './pods.ts';

export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
const UNKNOWN_REASON = 'NodeStatusUnknown';

export interface NodePlan {
  /** The node with the unreachable taints added or removed (main resource write). */
  spec?: KubeObject;
  /** The node's status with Ready changed (status write). */
  status?: KubeObject;
  /** Pods to delete now (grace 0: the board that ran them is gone). */
  evict: KubeObject[];
  /** Look again after this long (a toleration runs out). */
  recheckMs?: number;
}

function taintsOf(node: KubeObject): Taint[] {
  return (asNode(node).spec?.taints ?? []).slice();
}

/** How long a pod may stay on an unreachable node: 0 = evict now, Infinity = never. */
export function toleratedMs(pod: KubeObject): number {
  const tolerations = (asPod(pod).spec.tolerations ?? []).filter(
    (t) => (t.effect === undefined || t.effect === '' || t.effect === 'NoExecute') && (t.key === UNREACHABLE_TAINT || ((t.key === undefined || t.key === '') && t.operator === 'Exists')),
  );
  if (tolerations.length === 0) return 0;
  return Math.max(...tolerations.map((t) => (t.tolerationSeconds === undefined ? Infinity : Math.max(0, t.tolerationSeconds) * 1000)));
}

/** Pure: what to do about one node, given whether the leader hears from it and the pods bound to it. */
export function planNode(node: KubeObject, alive: boolean, silentForMs: number, pods: readonly KubeObject[], now: Date): NodePlan {
  const taints = taintsOf(node);
  const ours = taints.filter((t) => t.key === UNREACHABLE_TAINT);
  const status = asNode(node).status ?? {};
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  const plan: NodePlan = { evict: [] };
  if (alive) {
    // Ready comes back from the node's own agent (it rewrites a condition that differs from what it
    // sees): Raft contact alone does not prove the agent runs, so the leader only lifts the taints.
    if (ours.length > 0) plan.spec = { ...node, spec: { ...asNode(node).spec, taints: taints.filter((t) => t.key !== UNREACHABLE_TAINT) } };
    return plan;
  }
  if (ours.length < 2) {
    const stamp = ours[0]?.timeAdded ?? nowString(now);
    plan.spec = {
      ...node,
      spec: { ...asNode(node).spec, taints: [...taints.filter((t) => t.key !== UNREACHABLE_TAINT), { key: UNREACHABLE_TAINT, effect: 'NoSchedule', timeAdded: stamp }, { key: UNREACHABLE_TAINT, effect: 'NoExecute', timeAdded: stamp }] },
    };
  }
  if (ready?.status !== 'Unknown') {
    const message = `the Raft leader has not heard from this node for ${(silentForMs / 1000).toFixed(1)}s`;
    plan.status = { ...node, status: { ...status, conditions: setCondition(status.conditions, { type: 'Ready', status: 'Unknown', reason: UNKNOWN_REASON, message }, now) } };
  }
  const taintedAt = Date.parse(ours.find((t) => t.effect === 'NoExecute')?.timeAdded ?? nowString(now));
  for (const pod of pods) {
    const tolerated = toleratedMs(pod);
    if (tolerated === Infinity) continue;
    const left = taintedAt + tolerated - now.getTime();
    if (left <= 0) plan.evict.push(pod);
    else plan.recheckMs = Math.min(plan.recheckMs ?? Infinity, left);
  }
  return plan;
}

const NODE_INDEX = 'spec.nodeName';

export function createNodeLifecycleController(ctx: ControlContext): Controller {
  const nodes = ctx.informer(Kinds.nodes);
  const pods = ctx.informer(Kinds.pods);
  pods.addIndex(NODE_INDEX, (p) => {
    const n = asPod(p).spec.nodeName;
    return n ? [n] : [];
  });
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let stopped = false;

  const check = async (): Promise<void> => {
    const members = ctx.leadership.status().members;
    const contact = ctx.leadership.lastContact();
    const nowMs = Date.now();
    for (const node of nodes.list()) {
      if (stopped) return;
      const name = node.metadata.name ?? '';
      // Only Raft members can be judged by peer contact; this node hears itself.
      if (name === ctx.nodeName || !(name in members)) continue;
      const lastMs = Math.max(contact.get(name) ?? 0, ctx.leadingSinceMs);
      const silentForMs = nowMs - lastMs;
      const alive = silentForMs <= ctx.config.nodeGraceMs;
      const bound = pods.byIndex(NODE_INDEX, name).filter((p) => !statusOf(p).phase?.match(/^(Succeeded|Failed)$/));
      const plan = planNode(node, alive, silentForMs, bound, new Date(nowMs));
      try {
        if (plan.spec) nodes.observe(await ctx.client.update(Kinds.nodes, plan.spec));
        if (plan.status) {
          const current = nodes.get(name) ?? node;
          nodes.observe(await ctx.client.update(Kinds.nodes, { ...current, status: plan.status['status'] }, { subresource: 'status' }));
        }
        if (!alive && plan.spec) ctx.logger.warn({ node: name, silentForMs }, 'node unreachable: tainted, evicting its pods');
        if (alive && plan.spec) ctx.logger.info({ node: name }, 'node reachable again');
      } catch (error) {
        ctx.failed('node-lifecycle', name, error);
      }
      await Promise.all(
        plan.evict.map(async (pod) => {
          try {
            await ctx.client.delete(Kinds.pods, pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0 });
            pods.forget(pod);
          } catch (error) {
            if (!(error instanceof ClientError && error.code === 404)) ctx.failed('node-lifecycle', name, error);
          }
        }),
      );
    }
  };

  return {
    name: 'node-lifecycle',
    start() {
      timer = setInterval(() => {
        if (running) return;
        running = true;
        void check().finally(() => (running = false));
      }, ctx.config.nodeCheckIntervalMs);
      timer.unref();
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
