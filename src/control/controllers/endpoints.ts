// Endpoints: for each Service with a selector, the IPs of the pods it selects (ready ones in
// addresses, the others in notReadyAddresses) and its ports with targetPort resolved (by number or
// by the container port's name), written only when they change.
import { asPod, asService, ClientError, ENDPOINTS_MANAGED_LABEL, Kinds, type EndpointAddress, type EndpointSubset, type KubeObject, type ServicePort } from '../../client/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { keyOf, WorkQueue } from '../../client/cache/index.ts';
import { isReady, statusOf, same } from './pods.ts';


function targetPortOf(pod: KubeObject, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of asPod(pod).spec.containers) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP')) return p.containerPort;
  }
  return undefined;
}

/** Pure: the subsets of a Service's Endpoints, grouped by resolved port set as Kubernetes does. */
export function endpointSubsets(service: KubeObject, pods: readonly KubeObject[]): EndpointSubset[] {
  const ports = asService(service).spec?.ports ?? [];
  const groups = new Map<string, EndpointSubset>();
  for (const pod of [...pods].sort((a, b) => (statusOf(a).podIP ?? '').localeCompare(statusOf(b).podIP ?? ''))) {
    const ip = statusOf(pod).podIP;
    if (!ip || pod.metadata.deletionTimestamp) continue;
    const phase = statusOf(pod).phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const resolved = ports.map((sp) => ({ sp, port: targetPortOf(pod, sp) }));
    if (resolved.some((r) => r.port === undefined)) continue;
    const subsetPorts = resolved.map(({ sp, port }) => ({ ...(sp.name ? { name: sp.name } : {}), port: port!, protocol: sp.protocol ?? 'TCP' }));
    const sig = JSON.stringify(subsetPorts);
    const subset = groups.get(sig) ?? groups.set(sig, { ports: subsetPorts }).get(sig)!;
    const { nodeName } = asPod(pod).spec;
    const address: EndpointAddress = { ip, ...(nodeName ? { nodeName } : {}), targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' } };
    if (isReady(pod)) (subset.addresses ??= []).push(address);
    else (subset.notReadyAddresses ??= []).push(address);
  }
  return [...groups.values()];
}

function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export function createEndpointsController(ctx: ControlContext): Controller {
  const services = ctx.informer(Kinds.services);
  const pods = ctx.informer(Kinds.pods);
  const endpoints = ctx.informer(Kinds.endpoints);
  const reconcile = async (key: string): Promise<void> => {
    const svc = services.get(key);
    const existing = endpoints.get(key);
    const selector = svc ? asService(svc).spec?.selector : undefined;
    if (!svc) {
      // Only Endpoints this controller made go with their Service.
      if (existing?.metadata.labels?.[ENDPOINTS_MANAGED_LABEL] === 'true') {
        await ctx.client.delete(Kinds.endpoints, existing.metadata.namespace, existing.metadata.name ?? '').catch((e: unknown) => (e instanceof ClientError && e.code === 404 ? undefined : Promise.reject(e)));
      }
      return;
    }
    if (!selector || Object.keys(selector).length === 0) return;
    const ns = svc.metadata.namespace ?? 'default';
    const subsets = endpointSubsets(svc, pods.list(ns).filter((p) => selects(selector, p.metadata.labels)));
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
  pods.on((_t, pod, old) => {
    for (const p of old && old !== pod ? [pod, old] : [pod]) {
      for (const svc of services.list(p.metadata.namespace)) {
        const selector = asService(svc).spec?.selector;
        if (selector && Object.keys(selector).length > 0 && selects(selector, p.metadata.labels)) queue.add(keyOf(svc));
      }
    }
  });
  return { name: 'endpoints', start: () => queue.resume(), stop: () => queue.stop() };
}
