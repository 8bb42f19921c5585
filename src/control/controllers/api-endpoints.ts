// The endpoints of `default/kubernetes`: every board runs an API server, so its backends are the
// Ready Nodes' InternalIP on the port each board's API listens on (the Node's kubelet endpoint,
// which is the API port in Bramble). Written as Endpoints and as EndpointSlices (one per port, as
// boards in a test may listen on different ones), the way Kubernetes' API server reconciles its
// own Service; a board that stops being Ready leaves them.
import { asNode, ClientError, Kinds, type EndpointSubset, type KubeObject } from '../../client/index.ts';
import { WorkQueue } from '../../client/cache/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { same } from './pods.ts';
import { syncSlices, type SliceContent } from './endpointslices.ts';
import { SKIP_MIRROR_LABEL } from './endpointslice-mirroring.ts';

export const API_SERVICE = { namespace: 'default', name: 'kubernetes' } as const;
/** Not the pod slices' controller: those would remove slices of a Service without a selector. */
export const API_ENDPOINTS_MANAGED_BY = 'apiserver-endpoints.bramble.io';

export interface ApiServerAddress {
  ip: string;
  port: number;
  nodeName: string;
}

/** Pure: the API servers among `nodes` (Ready, with an address and an API port), sorted by IP. */
export function apiServers(nodes: readonly KubeObject[]): ApiServerAddress[] {
  const out: ApiServerAddress[] = [];
  for (const node of nodes) {
    const status = asNode(node).status;
    const ready = status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const ip = status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const port = status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (ready && ip && port) out.push({ ip, port, nodeName: node.metadata.name ?? '' });
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip) || a.port - b.port);
}

function byPort(servers: readonly ApiServerAddress[]): Map<number, ApiServerAddress[]> {
  const groups = new Map<number, ApiServerAddress[]>();
  for (const s of servers) (groups.get(s.port) ?? groups.set(s.port, []).get(s.port)!).push(s);
  return groups;
}

export function apiSubsets(servers: readonly ApiServerAddress[]): EndpointSubset[] {
  return [...byPort(servers)].map(([port, members]) => ({ addresses: members.map((m) => ({ ip: m.ip, nodeName: m.nodeName })), ports: [{ name: 'https', port, protocol: 'TCP' as const }] }));
}

export function apiSlices(servers: readonly ApiServerAddress[]): SliceContent[] {
  return [...byPort(servers)].map(([port, members]) => ({
    name: port === 6443 ? API_SERVICE.name : `${API_SERVICE.name}-${port}`,
    endpoints: members.map((m) => ({ addresses: [m.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: m.nodeName })),
    ports: [{ name: 'https', port, protocol: 'TCP' as const }],
  }));
}

export function createApiEndpointsController(ctx: ControlContext): Controller {
  const services = ctx.informer(Kinds.services);
  const nodes = ctx.informer(Kinds.nodes);
  const endpoints = ctx.informer(Kinds.endpoints);
  const slices = ctx.informer(Kinds.endpointslices);
  const key = `${API_SERVICE.namespace}/${API_SERVICE.name}`;
  const reconcile = async (): Promise<void> => {
    const svc = services.get(key);
    if (!svc) return;
    const servers = apiServers(nodes.list());
    const subsets = apiSubsets(servers);
    const existing = endpoints.get(key);
    // Its slices are written here (apiSlices), not mirrored from these Endpoints.
    const skipMirror = { [SKIP_MIRROR_LABEL]: 'true' };
    if (!existing) {
      const created = await ctx.client.create(Kinds.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: API_SERVICE.name, namespace: API_SERVICE.namespace, labels: skipMirror }, subsets }).catch((e: unknown) => (e instanceof ClientError && e.code === 409 ? undefined : Promise.reject(e)));
      if (created) endpoints.observe(created);
    } else if (!same(existing['subsets'] ?? [], subsets) || existing.metadata.labels?.[SKIP_MIRROR_LABEL] !== 'true') {
      endpoints.observe(await ctx.client.update(Kinds.endpoints, { ...existing, metadata: { ...existing.metadata, labels: { ...existing.metadata.labels, ...skipMirror } }, subsets }));
    }
    await syncSlices(ctx, slices, svc, apiSlices(servers), API_ENDPOINTS_MANAGED_BY);
  };
  const queue = new WorkQueue(reconcile, { paused: true, workers: 1, onError: (k, error) => ctx.failed('api-endpoints', k, error) });
  queue.add(key);
  nodes.on(() => queue.add(key));
  for (const informer of [services, endpoints, slices]) informer.on((_t, o) => (o.metadata.namespace === API_SERVICE.namespace && (o.metadata.name === API_SERVICE.name || o.metadata.labels?.['kubernetes.io/service-name'] === API_SERVICE.name) ? queue.add(key) : undefined));
  return { name: 'api-endpoints', start: () => queue.resume(), stop: () => queue.stop() };
}
