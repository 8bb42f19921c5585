// The service CIDR routed into the pod bridge. A ClusterIP is no address of any machine: a packet to
// one is DNATed in PREROUTING/OUTPUT before routing, and only a Service without a usable endpoint
// reaches the REJECT of the filter table, in FORWARD or OUTPUT, after routing. A board without a
// default route (an offline site, the test bed) drops such a packet at routing instead ("network
// unreachable", or a hang for a client that ignores ICMP), so scaling to 0 would not give the
// course's "connection refused". One route of our own makes routing succeed: the rule decides.
// Its protocol is not the pod routes' (routes.ts removes every proto-170 route it did not plan).
import type { IpCommand } from './routes.ts';

export const SERVICE_ROUTE_PROTOCOL = 171;

/** `ip route replace <serviceCidr> dev <device> proto 171`: idempotent, a restart adopts it. */
export async function ensureServiceRoute(ip: IpCommand, serviceCidr: string, device: string): Promise<void> {
  await ip(['route', 'replace', serviceCidr, 'dev', device, 'proto', String(SERVICE_ROUTE_PROTOCOL)]);
}
