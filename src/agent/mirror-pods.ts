// Mirror pods of the board's built-in components, as a kubelet writes mirror pods for its static
// pods: `kubectl get pods -n kube-system` shows where the course's kube-proxy and CoreDNS are, one of
// each per board (`kube-proxy-<node>`, `coredns-<node>`), Running and Ready while they work. They
// are views, not workloads: the agent never starts a container for them (isMirrorPod), nothing
// schedules them, and the board writes them only when their state changes (an idle cluster writes
// nothing). A mirror pod deleted by hand comes back at the next check, as in Kubernetes; an
// unreachable board's are evicted with its other pods and come back when it does; the Node owns
// them, so removing the Node removes them.
import type { Logger } from 'pino';
import { ClientError, Kinds, type Client, type KubeObject } from '../client/index.ts';

/** Kubernetes' mark of a mirror pod (its value: the source's hash; here the component's name). */
export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const MIRROR_NAMESPACE = 'kube-system';
const DESCRIPTION_ANNOTATION = 'bramble.io/built-in';

export interface ComponentState {
  ready: boolean;
  /** Why not ready (the pod's Ready condition message); empty when ready. */
  message: string;
}

export interface BuiltInComponent {
  /** The pod's name prefix, its container's name and its `component` label (kube-proxy, coredns). */
  name: string;
  /** Where it runs and how to see what it does, shown by `kubectl describe pod`. */
  description: string;
  state(): ComponentState;
}

export interface MirrorPodsOptions {
  client: Client;
  nodeName: string;
  /** The image the pods name: the program they are part of (bramble:<version>). */
  image: string;
  components: readonly BuiltInComponent[];
  logger: Logger;
  /** How often states are read and missing pods recreated (default 10 s). */
  checkIntervalMs?: number;
  now?: () => Date;
}

export function isMirrorPod(pod: KubeObject): boolean {
  return pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined;
}

export const mirrorPodName = (component: string, nodeName: string): string => `${component}-${nodeName}`;

interface NodeView {
  uid: string;
  hostIP: string | undefined;
}

async function nodeView(client: Client, nodeName: string): Promise<NodeView | undefined> {
  const node = await client.get(Kinds.nodes, undefined, nodeName).catch((error: unknown) => {
    if (error instanceof ClientError && error.status.code === 404) return undefined;
    throw error;
  });
  if (!node?.metadata.uid) return undefined;
  const addresses = (node['status'] as { addresses?: Array<{ type?: string; address?: string }> } | undefined)?.addresses ?? [];
  return { uid: node.metadata.uid, hostIP: addresses.find((a) => a.type === 'InternalIP')?.address };
}

function mirrorPod(o: MirrorPodsOptions, component: BuiltInComponent, node: NodeView): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: mirrorPodName(component.name, o.nodeName),
      namespace: MIRROR_NAMESPACE,
      // Not kube-dns's k8s-app label: the kube-dns Service's endpoints are not these pods (each board answers 10.43.0.10 itself).
      labels: { component: component.name, tier: 'node', 'bramble.io/built-in': 'true' },
      annotations: { [MIRROR_ANNOTATION]: component.name, 'kubernetes.io/config.source': 'bramble', [DESCRIPTION_ANNOTATION]: component.description },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: o.nodeName, uid: node.uid, controller: true }],
    },
    spec: {
      nodeName: o.nodeName,
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      containers: [{ name: component.name, image: o.image, imagePullPolicy: 'Never' }],
    },
  };
}

function mirrorStatus(state: ComponentState, component: BuiltInComponent, image: string, node: NodeView, startedAt: string, now: string): Record<string, unknown> {
  const ready = state.ready ? 'True' : 'False';
  const condition = (type: string, status: string) => ({ type, status, lastTransitionTime: now, ...(status === 'True' ? {} : { reason: 'ComponentNotReady', message: state.message }) });
  return {
    phase: 'Running',
    ...(node.hostIP ? { hostIP: node.hostIP, podIP: node.hostIP, podIPs: [{ ip: node.hostIP }] } : {}),
    startTime: startedAt,
    conditions: [condition('PodScheduled', 'True'), condition('Initialized', 'True'), condition('ContainersReady', ready), condition('Ready', ready)],
    containerStatuses: [{ name: component.name, image, imageID: '', ready: state.ready, started: true, restartCount: 0, state: { running: { startedAt } } }],
  };
}

/** What a status write would change: the parts that move (not the transition times). */
const statusKey = (status: Record<string, unknown> | undefined): string => {
  const s = status as { hostIP?: string; containerStatuses?: Array<{ ready?: boolean }>; conditions?: Array<{ type?: string; status?: string; message?: string }> } | undefined;
  return JSON.stringify([s?.hostIP, s?.containerStatuses?.[0]?.ready, s?.conditions?.map((c) => [c.type, c.status, c.message])]);
};

/** Keeps one mirror pod per component in step with it until stopped. */
export function startMirrorPods(o: MirrorPodsOptions): { stop(): void } {
  const now = o.now ?? (() => new Date());
  const startedAt = now().toISOString();
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const checkOne = async (component: BuiltInComponent, node: NodeView): Promise<void> => {
    const name = mirrorPodName(component.name, o.nodeName);
    let pod = await o.client.get(Kinds.pods, MIRROR_NAMESPACE, name).catch((error: unknown) => {
      if (error instanceof ClientError && error.status.code === 404) return undefined;
      throw error;
    });
    // Deleted by hand: gone at once (no container to stop) and written again below.
    if (pod?.metadata.deletionTimestamp) {
      await o.client.delete(Kinds.pods, MIRROR_NAMESPACE, name, { gracePeriodSeconds: 0 }).catch(() => undefined);
      pod = undefined;
    }
    pod ??= await o.client.create(Kinds.pods, mirrorPod(o, component, node));
    const status = mirrorStatus(component.state(), component, o.image, node, startedAt, now().toISOString());
    if (statusKey(pod['status'] as Record<string, unknown> | undefined) === statusKey(status)) return;
    await o.client.update(Kinds.pods, { ...pod, status }, { subresource: 'status' });
  };

  const check = async (): Promise<void> => {
    const node = await nodeView(o.client, o.nodeName);
    if (!node) return; // the Node is written by the agent's first status: the next check
    for (const component of o.components) {
      if (stopped) return;
      await checkOne(component, node).catch((error: unknown) => o.logger.warn({ err: error, component: component.name }, 'mirror pod not written; tried again at the next check'));
    }
  };

  let checking = false;
  // A check still running (a slow API during a leader change) makes the next tick a no-op: checks never pile up.
  const tick = () => {
    if (checking) return;
    checking = true;
    running = running
      .then(check)
      .catch((error: unknown) => o.logger.warn({ err: error }, 'mirror pods not checked; tried again at the next check'))
      .finally(() => (checking = false));
  };
  tick();
  const timer = setInterval(tick, o.checkIntervalMs ?? 10_000);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
