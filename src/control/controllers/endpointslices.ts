// EndpointSlices (discovery.k8s.io/v1), beside the Endpoints: for each Service with a selector, its
// backends (service-backends.ts, shared with endpoints.ts) grouped by resolved port set, at most
// 100 per slice as Kubernetes cuts them, each with conditions ready/serving/terminating, nodeName
// and targetRef; a Service without backends keeps one empty slice, as Kubernetes' placeholder.
// Slices are named from the Service and a hash of their port set (stable across leaders, so a new
// leader updates rather than duplicates), carry `kubernetes.io/service-name` and Bramble's
// managed-by value, are owned by the Service (garbage collector), and are written only on change.
import { ClientError, Kinds, type EndpointSliceEndpoint, type EndpointSlicePort, type KubeObject } from '../../client/index.ts';
import { keyOf, WorkQueue, type ObjectInformer } from '../../client/cache/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { templateHash } from './hash.ts';
import { ownerRefTo, same } from './pods.ts';
import { selectedPods, selectorOf, serviceBackends, servicesOfPod, type Backend, type BackendPort } from './service-backends.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** Kubernetes' controller writes `endpointslice-controller.k8s.io`; Bramble's own value says who did. */
export const MANAGED_BY = 'endpointslice-controller.bramble.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;

/** What one slice holds (the rest of the object is derived from the Service). */
export interface SliceContent {
  name: string;
  endpoints: EndpointSliceEndpoint[];
  ports?: EndpointSlicePort[];
}

function endpointOf(b: Backend): EndpointSliceEndpoint {
  const { pod } = b;
  return {
    addresses: [b.ip],
    conditions: { ready: b.serving && !b.terminating, serving: b.serving, terminating: b.terminating },
    ...(b.hostname ? { hostname: b.hostname } : {}),
    ...(b.nodeName ? { nodeName: b.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' },
  };
}

/** Kubernetes names every slice port (an unnamed Service port is ""). */
const slicePort = (p: BackendPort): EndpointSlicePort => ({ name: p.name ?? '', port: p.port, protocol: p.protocol });

/** Pure: the slices of a Service from its backends (`backends` from serviceBackends). */
export function desiredSlices(serviceName: string, backends: readonly Backend[]): SliceContent[] {
  const groups = new Map<string, Backend[]>();
  for (const b of backends) {
    const sig = JSON.stringify(b.ports);
    (groups.get(sig) ?? groups.set(sig, []).get(sig)!).push(b);
  }
  if (groups.size === 0) return [{ name: `${serviceName}-${templateHash([])}`, endpoints: [] }];
  const out: SliceContent[] = [];
  for (const members of groups.values()) {
    const ports = members[0]!.ports.map(slicePort);
    const base = `${serviceName}-${templateHash(ports)}`;
    for (let i = 0; i < members.length; i += MAX_ENDPOINTS_PER_SLICE) {
      const chunk = members.slice(i, i + MAX_ENDPOINTS_PER_SLICE).map(endpointOf);
      out.push({ name: i === 0 ? base : `${base}-${i / MAX_ENDPOINTS_PER_SLICE}`, endpoints: chunk, ports });
    }
  }
  return out;
}

/** The labels of a Service's slices: the Service's own (as Kubernetes copies them) and the two that find them. */
function sliceLabels(service: KubeObject, managedBy: string): Record<string, string> {
  return { ...(service.metadata.labels ?? {}), [SERVICE_NAME_LABEL]: service.metadata.name ?? '', [MANAGED_BY_LABEL]: managedBy };
}

/** The slices `managedBy` wrote for a Service (a user's own slices are left alone). */
export function managedSlices(slices: ObjectInformer, namespace: string, serviceName: string, managedBy = MANAGED_BY): KubeObject[] {
  return slices.list(namespace).filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === serviceName && s.metadata.labels[MANAGED_BY_LABEL] === managedBy);
}

export const ignoreNotFound = (e: unknown): Promise<undefined> => (e instanceof ClientError && e.code === 404 ? Promise.resolve(undefined) : Promise.reject(e));

/**
 * Makes the stored slices of `service` exactly `desired`: creates the missing, updates the changed,
 * deletes the rest. Shared by the controller of the kubernetes Service's slices (api-endpoints.ts).
 */
export async function syncSlices(ctx: ControlContext, slices: ObjectInformer, service: KubeObject, desired: readonly SliceContent[], managedBy = MANAGED_BY): Promise<void> {
  const namespace = service.metadata.namespace ?? 'default';
  const labels = sliceLabels(service, managedBy);
  const existing = new Map(managedSlices(slices, namespace, service.metadata.name ?? '', managedBy).map((s) => [s.metadata.name ?? '', s]));
  for (const want of desired) {
    const body = { addressType: 'IPv4' as const, endpoints: want.endpoints, ...(want.ports ? { ports: want.ports } : {}) };
    const have = existing.get(want.name);
    existing.delete(want.name);
    if (!have) {
      const slice: KubeObject = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: want.name, namespace, labels, ownerReferences: [ownerRefTo(service)] }, ...body };
      slices.observe(await ctx.client.create(Kinds.endpointslices, slice));
      continue;
    }
    const current = { addressType: have['addressType'], endpoints: have['endpoints'] ?? [], ...(have['ports'] ? { ports: have['ports'] } : {}) };
    if (same(current, body) && same(have.metadata.labels ?? {}, labels)) continue;
    const next: KubeObject = { ...have, metadata: { ...have.metadata, labels }, ...body };
    if (!want.ports) delete next['ports'];
    slices.observe(await ctx.client.update(Kinds.endpointslices, next));
  }
  for (const stale of existing.values()) await ctx.client.delete(Kinds.endpointslices, namespace, stale.metadata.name ?? '').catch(ignoreNotFound);
}

export function createEndpointSliceController(ctx: ControlContext): Controller {
  const services = ctx.informer(Kinds.services);
  const pods = ctx.informer(Kinds.pods);
  const slices = ctx.informer(Kinds.endpointslices);
  const reconcile = async (key: string): Promise<void> => {
    const svc = services.get(key);
    const [namespace = 'default', name = ''] = key.split('/');
    if (!svc || !selectorOf(svc)) {
      // Gone, or no selector any more (then its slices are the user's to write): remove ours.
      for (const s of managedSlices(slices, namespace, name)) await ctx.client.delete(Kinds.endpointslices, namespace, s.metadata.name ?? '').catch(ignoreNotFound);
      return;
    }
    await syncSlices(ctx, slices, svc, desiredSlices(name, serviceBackends(svc, selectedPods(svc, pods))));
  };
  const queue = new WorkQueue(reconcile, { paused: true, workers: 2, onError: (key, error) => ctx.failed('endpointslices', key, error) });
  services.on((_t, svc) => queue.add(keyOf(svc)));
  slices.on((_t, slice) => {
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (service && slice.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY) queue.add(`${slice.metadata.namespace ?? 'default'}/${service}`);
  });
  pods.on((_t, pod, old) => servicesOfPod(services, pod, old, (svc) => queue.add(keyOf(svc))));
  return { name: 'endpointslices', start: () => queue.resume(), stop: () => queue.stop() };
}
