// Endpoints: for each Service with a selector, the IPs of the pods it selects (ready ones in
// addresses, the others in notReadyAddresses) and its ports with targetPort resolved (by number or
// by the container port's name), written only when they change.
import { ClientError, ENDPOINTS_MANAGED_LABEL, Kinds, type EndpointAddress, type EndpointSubset, type KubeObject } from '../../client/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { keyOf, WorkQueue } from '../../client/cache/index.ts';
import { same } from './pods.ts';
import { selectedPods, selectorOf, serviceBackends, servicesOfPod } from './service-backends.ts';

/** Pure: the subsets of a Service's Endpoints, grouped by resolved port set as Kubernetes does (terminating pods left out). */
export function endpointSubsets(service: KubeObject, pods: readonly KubeObject[]): EndpointSubset[] {
  const groups = new Map<string, EndpointSubset>();
  for (const b of serviceBackends(service, pods)) {
    if (b.terminating) continue;
    const sig = JSON.stringify(b.ports);
    const subset = groups.get(sig) ?? groups.set(sig, { ports: b.ports }).get(sig)!;
    const { pod } = b;
    const address: EndpointAddress = { ip: b.ip, ...(b.hostname ? { hostname: b.hostname } : {}), ...(b.nodeName ? { nodeName: b.nodeName } : {}), targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' } };
    if (b.serving) (subset.addresses ??= []).push(address);
    else (subset.notReadyAddresses ??= []).push(address);
  }
  return [...groups.values()];
}

export function createEndpointsController(ctx: ControlContext): Controller {
  const services = ctx.informer(Kinds.services);
  const pods = ctx.informer(Kinds.pods);
  const endpoints = ctx.informer(Kinds.endpoints);
  const reconcile = async (key: string): Promise<void> => {
    const svc = services.get(key);
    const existing = endpoints.get(key);
    if (!svc) {
      // Only Endpoints this controller made go with their Service.
      if (existing?.metadata.labels?.[ENDPOINTS_MANAGED_LABEL] === 'true') {
        await ctx.client.delete(Kinds.endpoints, existing.metadata.namespace, existing.metadata.name ?? '').catch((e: unknown) => (e instanceof ClientError && e.code === 404 ? undefined : Promise.reject(e)));
      }
      return;
    }
    if (!selectorOf(svc)) return;
    const ns = svc.metadata.namespace ?? 'default';
    const subsets = endpointSubsets(svc, selectedPods(svc, pods));
    const labels = { ...(svc.metadata.labels ?? {}), [ENDPOINTS_MANAGED_LABEL]: 'true' };
    if (!existing) {
      endpoints.observe(await ctx.client.create(Kinds.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name, namespace: ns, labels }, subsets }));
      return;
    }
    if (same(existing['subsets'] ?? [], subsets) && same(existing.metadata.labels ?? {}, labels)) return;
    endpoints.observe(await ctx.client.update(Kinds.endpoints, { ...existing, metadata: { ...existing.metadata, labels }, subsets }));
  };
  const queue = new WorkQueue(reconcile, { paused: true, workers: 2, onError: (key, error) => ctx.failed('endpoints', key, error) });
  services.on((_t, svc) => queue.add(keyOf(svc)));
  endpoints.on((_t, ep) => queue.add(keyOf(ep)));
  pods.on((_t, pod, old) => servicesOfPod(services, pod, old, (svc) => queue.add(keyOf(svc))));
  return { name: 'endpoints', start: () => queue.resume(), stop: () => queue.stop() };
}
