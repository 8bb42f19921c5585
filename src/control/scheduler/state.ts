// What the scheduler knows of the cluster: each node with the pods bound to it and the sums the
// filters and scores need (requests, host ports, pods per owner), kept incrementally so one
// decision costs O(nodes), not O(pods).
import { DEFAULT_MAX_PODS, parseQuantity, type Condition, type Container, type ContainerPort, type NodeStatus, type ObjectMeta, type OwnerReference, type PodSpec } from '../../client/index.ts';
import type { Node } from '../../client/index.ts';

/** The parts of a container the scheduler reads (image for the architecture, requests, host ports). */
type SchedContainer = Partial<Pick<Container, 'image' | 'resources'>> & { ports?: Partial<ContainerPort>[] };

/**
 * The parts of a Pod (client's typed view) the scheduler reads: every Pod is a SchedPod, and tests
 * build only these fields. Derived from the one set of types, not a copy of it.
 */
export interface SchedPod {
  metadata: Pick<ObjectMeta, 'namespace' | 'uid' | 'labels'> & { name: string; ownerReferences?: Pick<OwnerReference, 'uid' | 'controller'>[] };
  spec: Omit<PodSpec, 'containers' | 'initContainers'> & { containers: SchedContainer[]; initContainers?: SchedContainer[] };
}

/** The parts of a Node the scheduler reads: every Node is a SchedNode. */
export interface SchedNode {
  metadata: Pick<ObjectMeta, 'labels' | 'annotations'> & { name: string };
  spec?: Node['spec'];
  /** Condition statuses are compared as text (tests build them from strings). */
  status?: Pick<NodeStatus, 'allocatable'> & { conditions?: (Pick<Condition, 'type'> & { status: string })[] };
}

/** Nodes plus the pods already bound to each node (by node name). */
export interface Snapshot {
  nodes: SchedNode[];
  boundPods: Record<string, SchedPod[]>;
}

export interface Requests { cpu: number; memory: number }

export function podRequests(pod: SchedPod): Requests {
  let cpu = 0;
  let memory = 0;
  for (const c of pod.spec.containers) {
    cpu += parseQuantity(c.resources?.requests?.cpu ?? '0') ?? 0;
    memory += parseQuantity(c.resources?.requests?.memory ?? '0') ?? 0;
  }
  return { cpu, memory };
}

/** "TCP/8080" for each host port the pod asks for (hostIP ignored: one address per board). */
export function hostPorts(pod: SchedPod): string[] {
  const out: string[] = [];
  for (const c of pod.spec.containers) for (const p of c.ports ?? []) if (p.hostPort) out.push(`${p.protocol ?? 'TCP'}/${p.hostPort}`);
  return out;
}

/** The uid of the pod's controller (ReplicaSet, Job, DaemonSet...), the unit the spread score spreads. */
export function controllerUid(pod: SchedPod): string | undefined {
  return pod.metadata.ownerReferences?.find((r) => r.controller)?.uid;
}

export function labelKey(namespace: string, key: string, value: string): string {
  return `${namespace}|${key}=${value}`;
}

function labelKeys(pod: SchedPod): string[] {
  const ns = pod.metadata.namespace ?? 'default';
  return Object.entries(pod.metadata.labels ?? {}).map(([k, v]) => labelKey(ns, k, v));
}

function podKey(pod: SchedPod): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}

export interface Allocatable { cpu: number; memory: number; pods: number }

/** What a pod adds to its node's sums, kept so removing it needs no parsing again. */
interface PodFacts { requests: Requests; ports: string[]; owner: string | undefined; labelKeys: string[] }

function factsOf(pod: SchedPod): PodFacts {
  return { requests: podRequests(pod), ports: hostPorts(pod), owner: controllerUid(pod), labelKeys: labelKeys(pod) };
}

export class NodeInfo {
  readonly pods = new Map<string, SchedPod>();
  private readonly facts = new Map<string, PodFacts>();
  requested: Requests = { cpu: 0, memory: 0 };
  readonly ports = new Map<string, number>();
  readonly byOwner = new Map<string, number>();
  /** Pods per "namespace|label=value": one-label selectors (the usual app=x) count in O(1). */
  readonly labelCounts = new Map<string, number>();
  allocatable: Allocatable;

  constructor(public node: SchedNode) {
    this.allocatable = NodeInfo.allocatableOf(node);
  }

  static allocatableOf(node: SchedNode): Allocatable {
    const a = node.status?.allocatable ?? {};
    return { cpu: parseQuantity(a.cpu ?? '0') ?? 0, memory: parseQuantity(a.memory ?? '0') ?? 0, pods: parseQuantity(a.pods ?? String(DEFAULT_MAX_PODS)) ?? DEFAULT_MAX_PODS };
  }

  get name(): string {
    return this.node.metadata.name;
  }

  setNode(node: SchedNode): void {
    this.node = node;
    this.allocatable = NodeInfo.allocatableOf(node);
  }

  add(key: string, pod: SchedPod): void {
    if (this.pods.has(key)) this.remove(key);
    this.pods.set(key, pod);
    const facts = factsOf(pod);
    this.facts.set(key, facts);
    const r = facts.requests;
    this.requested = { cpu: this.requested.cpu + r.cpu, memory: this.requested.memory + r.memory };
    for (const p of facts.ports) this.ports.set(p, (this.ports.get(p) ?? 0) + 1);
    const owner = facts.owner;
    if (owner) this.byOwner.set(owner, (this.byOwner.get(owner) ?? 0) + 1);
    for (const key of facts.labelKeys) this.labelCounts.set(key, (this.labelCounts.get(key) ?? 0) + 1);
  }

  remove(key: string): void {
    const facts = this.facts.get(key);
    if (!facts) return;
    this.pods.delete(key);
    this.facts.delete(key);
    const r = facts.requests;
    this.requested = { cpu: this.requested.cpu - r.cpu, memory: this.requested.memory - r.memory };
    for (const p of facts.ports) {
      const n = (this.ports.get(p) ?? 1) - 1;
      if (n === 0) this.ports.delete(p);
      else this.ports.set(p, n);
    }
    const owner = facts.owner;
    if (owner) {
      const n = (this.byOwner.get(owner) ?? 1) - 1;
      if (n === 0) this.byOwner.delete(owner);
      else this.byOwner.set(owner, n);
    }
    for (const key of facts.labelKeys) {
      const n = (this.labelCounts.get(key) ?? 1) - 1;
      if (n === 0) this.labelCounts.delete(key);
      else this.labelCounts.set(key, n);
    }
  }
}

export class ClusterState {
  readonly nodes = new Map<string, NodeInfo>();
  /** Pods bound to a node the scheduler does not know (yet): kept so they count once it appears. */
  private readonly placement = new Map<string, { nodeName: string; pod: SchedPod }>();

  static fromSnapshot(snap: Snapshot): ClusterState {
    const state = new ClusterState();
    for (const node of snap.nodes) state.setNode(node);
    for (const [nodeName, pods] of Object.entries(snap.boundPods)) for (const pod of pods) state.placePod(podKey(pod), nodeName, pod);
    return state;
  }

  setNode(node: SchedNode): void {
    const existing = this.nodes.get(node.metadata.name);
    if (existing) return existing.setNode(node);
    const info = new NodeInfo(node);
    this.nodes.set(node.metadata.name, info);
    for (const [key, p] of this.placement) if (p.nodeName === info.name) info.add(key, p.pod);
  }

  removeNode(name: string): void {
    this.nodes.delete(name);
  }

  /** Records that `pod` (key "ns/name") occupies `nodeName`; replaces an earlier placement of the same key. */
  placePod(key: string, nodeName: string, pod: SchedPod): void {
    this.unplacePod(key);
    this.placement.set(key, { nodeName, pod });
    this.nodes.get(nodeName)?.add(key, pod);
  }

  unplacePod(key: string): void {
    const p = this.placement.get(key);
    if (!p) return;
    this.placement.delete(key);
    this.nodes.get(p.nodeName)?.remove(key);
  }

  nodeOf(key: string): string | undefined {
    return this.placement.get(key)?.nodeName;
  }
}
