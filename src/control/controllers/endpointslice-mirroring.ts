// EndpointSlice mirroring, as Kubernetes' mirroring controller: a Service without a selector whose
// Endpoints a user wrote by hand (the course's "a Service in front of an outside database") gets
// EndpointSlices copied from those Endpoints, so the proxy on every board, which reads slices only,
// sends the Service's traffic there. Ready addresses are ready, notReadyAddresses are not; each
// subset is one port set, cut at 100 endpoints per slice. Endpoints this cluster's own controller
// wrote, Endpoints labelled `endpointslice.kubernetes.io/skip-mirror: "true"`, and Services with a
// selector are not mirrored (their slices, if any, go).
import { ENDPOINTS_MANAGED_LABEL, Kinds, type EndpointAddress, type EndpointSliceEndpoint, type EndpointSubset, type KubeObject } from '../../client/index.ts';
import { keyOf, WorkQueue } from '../../client/cache/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { ignoreNotFound, MANAGED_BY_LABEL, MAX_ENDPOINTS_PER_SLICE, managedSlices, SERVICE_NAME_LABEL, type SliceContent, syncSlices } from './endpointslices.ts';
import { templateHash } from './hash.ts';
import { selectorOf } from './service-backends.ts';

/** Kubernetes' own value: tools that look for mirrored slices find these. */
export const MIRRORING_MANAGED_BY = 'endpointslicemirroring-controller.k8s.io';
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';

function endpointOf(address: EndpointAddress, ready: boolean): EndpointSliceEndpoint {
  return {
    addresses: [address.ip],
    conditions: { ready, serving: ready, terminating: false },
    ...(address.hostname ? { hostname: address.hostname } : {}),
    ...(address.nodeName ? { nodeName: address.nodeName } : {}),
    ...(address.targetRef ? { targetRef: address.targetRef } : {}),
  };
}

/** Pure: the slices mirroring one hand-written Endpoints object (`serviceName`: its name). */
export function mirroredSlices(serviceName: string, subsets: readonly EndpointSubset[]): SliceContent[] {
  const out: SliceContent[] = [];
  const used = new Map<string, number>();
  for (const subset of subsets) {
    const ports = (subset.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' }));
    const endpoints = [...(subset.addresses ?? []).map((a) => endpointOf(a, true)), ...(subset.notReadyAddresses ?? []).map((a) => endpointOf(a, false))];
    const base = `${serviceName}-${templateHash(ports)}`;
    for (let i = 0; i < endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
      // Two subsets with the same port set (a user may write them so) still get distinct names.
      const n = used.get(base) ?? 0;
      used.set(base, n + 1);
      out.push({ name: n === 0 ? base : `${base}-${n}`, endpoints: endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE), ports });
    }
  }
  return out;
}

/** Whether `endpoints` of `service` is a user's, to be mirrored. */
export function mirrors(service: KubeObject | undefined, endpoints: KubeObject | undefined): boolean {
  if (!service || !endpoints || selectorOf(service)) return false;
  const labels = endpoints.metadata.labels ?? {};
  return labels[ENDPOINTS_MANAGED_LABEL] !== 'true' && labels[SKIP_MIRROR_LABEL] !== 'true';
}

export function createEndpointSliceMirroringController(ctx: ControlContext): Controller {
  const services = ctx.informer(Kinds.services);
  const endpoints = ctx.informer(Kinds.endpoints);
  const slices = ctx.informer(Kinds.endpointslices);
  const reconcile = async (key: string): Promise<void> => {
    const [namespace = 'default', name = ''] = key.split('/');
    const service = services.get(key);
    const ep = endpoints.get(key);
    if (!mirrors(service, ep)) {
      for (const s of managedSlices(slices, namespace, name, MIRRORING_MANAGED_BY)) await ctx.client.delete(Kinds.endpointslices, namespace, s.metadata.name ?? '').catch(ignoreNotFound);
      return;
    }
    await syncSlices(ctx, slices, service!, mirroredSlices(name, (ep!['subsets'] ?? []) as EndpointSubset[]), MIRRORING_MANAGED_BY);
  };
  const queue = new WorkQueue(reconcile, { paused: true, workers: 1, onError: (key, error) => ctx.failed('endpointslice-mirroring', key, error) });
  services.on((_t, svc) => queue.add(keyOf(svc)));
  endpoints.on((_t, ep) => queue.add(keyOf(ep)));
  slices.on((_t, slice) => {
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (service && slice.metadata.labels?.[MANAGED_BY_LABEL] === MIRRORING_MANAGED_BY) queue.add(`${slice.metadata.namespace ?? 'default'}/${service}`);
  });
  return { name: 'endpointslice-mirroring', start: () => queue.resume(), stop: () => queue.stop() };
}
