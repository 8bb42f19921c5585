// LoadBalancer Services in a home lab: there is no cloud load balancer, so the "external" addresses
// are the boards' own (every board answers on the Service's node ports). status.loadBalancer.ingress
// lists the Ready Nodes' InternalIPs, kept current as boards come and go (kubectl's EXTERNAL-IP).
import { asService, Kinds, type KubeObject } from '../../client/index.ts';
import { keyOf, WorkQueue } from '../../client/cache/index.ts';
import type { ControlContext, Controller } from '../manager.ts';
import { apiServers } from './api-endpoints.ts';
import { same } from './pods.ts';

/** Pure: the ingress of a LoadBalancer Service given the cluster's Nodes (one entry per board address). */
export function loadBalancerIngress(nodes: readonly KubeObject[]): Array<{ ip: string; ipMode: 'VIP' }> {
  return [...new Set(apiServers(nodes).map((s) => s.ip))].map((ip) => ({ ip, ipMode: 'VIP' as const }));
}

export function createLoadBalancerStatusController(ctx: ControlContext): Controller {
  const services = ctx.informer(Kinds.services);
  const nodes = ctx.informer(Kinds.nodes);
  const reconcile = async (key: string): Promise<void> => {
    const svc = services.get(key);
    if (!svc || asService(svc).spec?.type !== 'LoadBalancer') return;
    const ingress = loadBalancerIngress(nodes.list());
    const status = (svc['status'] ?? {}) as { loadBalancer?: { ingress?: unknown } };
    if (same(status.loadBalancer?.ingress ?? [], ingress)) return;
    const loadBalancer = ingress.length > 0 ? { ingress } : {};
    services.observe(await ctx.client.update(Kinds.services, { ...svc, status: { ...status, loadBalancer } }, { subresource: 'status' }));
  };
  const queue = new WorkQueue(reconcile, { paused: true, workers: 1, onError: (key, error) => ctx.failed('service-lb', key, error) });
  services.on((_t, svc) => (asService(svc).spec?.type === 'LoadBalancer' ? queue.add(keyOf(svc)) : undefined));
  nodes.on(() => {
    for (const svc of services.list()) if (asService(svc).spec?.type === 'LoadBalancer') queue.add(keyOf(svc));
  });
  return { name: 'service-lb', start: () => queue.resume(), stop: () => queue.stop() };
}
