// The service CIDR routed into the pod bridge. A ClusterIP is no address of any machine: a packet to
// one is DNATed in PREROUTING/OUTPUT before routing, and only a Service without a usable endpoint
// reaches the REJECT of the filter table, in FORWARD or OUTPUT, after routing. A board without a
// default route (an offline site, the test bed) drops such a packet at routing instead ("network
// unreachable", or a hang for a client that ignores ICMP), so scaling to 0 would not give the
// course's "connection refused". One route of our own makes routing succeed: the rule decides.
// Its protocol is not the pod routes' (routes.ts removes every proto-170 route it did not plan).
import type { IpCommand } from './routes.ts';

export const SERVICE_ROUTE_PROTOCOL = 171;

interface IpRouteEntry {
  dst?: string;
  protocol?: string | number;
}

export interface ServiceRouteResult {
  /** 'foreign': a route Bramble did not make already covers the range; it is left as it is. */
  action: 'set' | 'foreign';
  /** Routes of ours for another (older) service range, removed. */
  removed: string[];
}

/**
 * `ip route replace <serviceCidr> dev <device> proto 171` (idempotent, a restart adopts it), unless
 * someone else's route for exactly that range exists (a broader one, say 10.0.0.0/8, is left and
 * overridden by ours, the more specific): only proto-171 routes are ever replaced or removed.
 */
export async function ensureServiceRoute(ip: IpCommand, serviceCidr: string, device: string): Promise<ServiceRouteResult> {
  const routes = JSON.parse((await ip(['-j', '-4', 'route', 'show', 'table', 'main'])) || '[]') as IpRouteEntry[];
  const ours = (route: IpRouteEntry): boolean => String(route.protocol) === String(SERVICE_ROUTE_PROTOCOL);
  const removed: string[] = [];
  for (const route of routes) {
    if (ours(route) && route.dst && route.dst !== serviceCidr) {
      await ip(['route', 'del', route.dst, 'proto', String(SERVICE_ROUTE_PROTOCOL)]);
      removed.push(route.dst);
    }
  }
  if (routes.some((route) => route.dst === serviceCidr && !ours(route))) return { action: 'foreign', removed };
  await ip(['route', 'replace', serviceCidr, 'dev', device, 'proto', String(SERVICE_ROUTE_PROTOCOL)]);
  return { action: 'set', removed };
}
