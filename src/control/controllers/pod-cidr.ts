// Pod subnets (host-gw): the leader gives each Node one /24 of the cluster CIDR in spec.podCIDR
// (and podCIDRs), once. What is taken is read from the Nodes themselves, never kept elsewhere: a
// Node's subnet is free again when the Node is gone, and a new leader, whose caches are filled
// after it claimed the write fence, sees every subnet its predecessor handed out (a deposed
// leader's later writes fail on the fence). One worker: two Nodes are never given the same /24 by
// one leader. A full range leaves the Node without a subnet, with NetworkUnavailable=True
// (NoCIDRAvailable) and a CIDRNotAvailable Event saying what to do. These two reasons are this
// controller's; once a Node has its subnet, the board's pod network writes the others
// (RouteCreated, or what keeps host-gw from working: src/net/node-condition.ts).
import { asNode, formatIPv4, ipv4Network, Kinds, parseIPv4, parseIPv4Cidr, type Ipv4Cidr, type KubeObject } from '../../client/index.ts';
import { keyOf, WorkQueue } from '../../client/cache/index.ts';
import { DEFAULT_CONTROL_CONFIG, type ControlContext, type Controller } from '../manager.ts';
import { nowString, setCondition } from './pods.ts';

export const DEFAULT_CLUSTER_CIDR = DEFAULT_CONTROL_CONFIG.clusterCidr;
/** Every board gets a /24: 253 pod addresses after the network, the bridge and broadcast ones. */
export const NODE_MASK = 24;
export const NO_CIDR_REASON = 'NoCIDRAvailable';
export const CIDR_ASSIGNED_REASON = 'CIDRAssigned';

/** An IPv4 range the /24s are cut from. */
export type ClusterCidr = Ipv4Cidr;

/** Parses and checks a cluster CIDR; the error message says what is wrong and what would do. */
export function parseClusterCidr(text: string): ClusterCidr {
  const cidr = parseIPv4Cidr(text);
  if (!cidr) throw new Error(`"${text}" is not an IPv4 CIDR (a.b.c.d/n), e.g. ${DEFAULT_CLUSTER_CIDR}`);
  const { base, prefix } = cidr;
  if (prefix > NODE_MASK) throw new Error(`${text} is too small: each board gets a /${NODE_MASK}, so the prefix must be /${NODE_MASK} or shorter (e.g. ${DEFAULT_CLUSTER_CIDR}: 256 boards)`);
  const network = ipv4Network(base, prefix);
  if (network !== base) throw new Error(`${text} has host bits set: the network is ${formatIPv4(network)}/${prefix}`);
  return { base, prefix, text: `${formatIPv4(base)}/${prefix}` };
}

/** How many /24s the range holds. */
export function subnetCount(range: ClusterCidr): number {
  return 2 ** (NODE_MASK - range.prefix);
}

export function subnetAt(range: ClusterCidr, index: number): string {
  return `${formatIPv4((range.base + index * 256) >>> 0)}/${NODE_MASK}`;
}

/** The index of a /24 of the range, or undefined for anything else (foreign, malformed, other size). */
export function subnetIndex(range: ClusterCidr, cidr: string): number | undefined {
  const [address, prefix] = cidr.split('/');
  const value = address === undefined ? undefined : parseIPv4(address);
  if (value === undefined || prefix !== String(NODE_MASK) || value % 256 !== 0) return undefined;
  const index = (value - range.base) / 256;
  return index >= 0 && index < subnetCount(range) ? index : undefined;
}

export type PodCidrPlan =
  | { kind: 'keep' }
  /** Write spec.podCIDR(s) (podCIDRs filled from an older podCIDR alone too). */
  | { kind: 'assign'; cidr: string }
  | { kind: 'exhausted'; message: string };

/** Pure: what a Node needs, given every Node of the cluster (itself included). */
export function planPodCidr(node: KubeObject, nodes: readonly KubeObject[], range: ClusterCidr): PodCidrPlan {
  const spec = asNode(node).spec ?? {};
  if (spec.podCIDR) return spec.podCIDRs?.[0] === spec.podCIDR ? { kind: 'keep' } : { kind: 'assign', cidr: spec.podCIDR };
  const taken = new Set<number>();
  for (const other of nodes) {
    const cidr = asNode(other).spec?.podCIDR;
    const index = cidr === undefined ? undefined : subnetIndex(range, cidr);
    if (index !== undefined && other.metadata.name !== node.metadata.name) taken.add(index);
  }
  const count = subnetCount(range);
  for (let index = 0; index < count; index++) if (!taken.has(index)) return { kind: 'assign', cidr: subnetAt(range, index) };
  return {
    kind: 'exhausted',
    message: `no free /${NODE_MASK} left in the cluster CIDR ${range.text} (${count} taken): delete a Node that is gone, or start the cluster with a larger --cluster-cidr`,
  };
}

function conditionOf(node: KubeObject): { status?: string; reason?: string } | undefined {
  return asNode(node).status?.conditions?.find((c) => c.type === 'NetworkUnavailable');
}

function cidrEvent(node: KubeObject, message: string, reportingInstance: string, now: Date): KubeObject {
  const name = node.metadata.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${name}.${now.getTime().toString(16)}`, namespace: 'default' },
    involvedObject: { kind: 'Node', name, uid: node.metadata.uid ?? '', apiVersion: 'v1' },
    reason: 'CIDRNotAvailable',
    message,
    type: 'Warning',
    source: { component: 'pod-cidr-allocator' },
    reportingComponent: 'pod-cidr-allocator',
    reportingInstance,
    firstTimestamp: nowString(now),
    lastTimestamp: nowString(now),
    count: 1,
  };
}

export function createPodCidrController(ctx: ControlContext): Controller {
  const range = parseClusterCidr(ctx.config.clusterCidr);
  const nodes = ctx.informer(Kinds.nodes);

  const writeCondition = async (node: KubeObject, status: 'True' | 'False', reason: string, message: string): Promise<KubeObject> => {
    const current = asNode(node).status ?? {};
    const conditions = setCondition(current.conditions, { type: 'NetworkUnavailable', status, reason, message }, new Date());
    const written = await ctx.client.update(Kinds.nodes, { ...node, status: { ...current, conditions } }, { subresource: 'status' });
    nodes.observe(written);
    return written;
  };

  const reconcile = async (key: string): Promise<void> => {
    const node = nodes.get(key);
    if (!node) return;
    const plan = planPodCidr(node, nodes.list(), range);
    const name = node.metadata.name ?? '';
    if (plan.kind === 'exhausted') {
      if (conditionOf(node)?.reason === NO_CIDR_REASON) return;
      ctx.logger.warn({ node: name }, plan.message);
      await writeCondition(node, 'True', NO_CIDR_REASON, plan.message);
      await ctx.client.create(Kinds.events, cidrEvent(node, plan.message, ctx.nodeName, new Date())).catch(() => undefined);
      return;
    }
    if (plan.kind === 'assign') {
      // An update pinned to the cached resourceVersion: a concurrent writer wins (409) and the key is retried.
      const written = await ctx.client.update(Kinds.nodes, { ...node, spec: { ...asNode(node).spec, podCIDR: plan.cidr, podCIDRs: [plan.cidr] } });
      nodes.observe(written);
      ctx.logger.info({ node: name, podCIDR: plan.cidr }, 'pod subnet assigned');
      if (conditionOf(written)?.reason === NO_CIDR_REASON) await writeCondition(written, 'False', CIDR_ASSIGNED_REASON, `pod subnet ${plan.cidr} assigned`);
    }
  };

  const queue = new WorkQueue(reconcile, { paused: true, workers: 1, onError: (key, error) => ctx.failed('pod-cidr', key, error) });
  nodes.on((type, node) => {
    queue.add(keyOf(node));
    // A deleted Node frees its subnet: the Nodes still waiting for one try again.
    if (type === 'delete') for (const other of nodes.list()) if (!asNode(other).spec?.podCIDR) queue.add(keyOf(other));
  });
  return { name: 'pod-cidr', start: () => queue.resume(), stop: () => queue.stop() };
}
