// Host-gw routes: on every board, one route per other board's pod subnet via that board's
// InternalIP. Each route carries Bramble's own route protocol number, so the reconciler only ever
// reads, changes and removes its own: a route of anyone else (static, DHCP, a VPN) is never touched,
// and a subnet someone else already routes is left to them and reported.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The `proto` of every route Bramble makes (unassigned in iproute2's rt_protos). */
export const ROUTE_PROTOCOL = 170;

export interface PeerSubnet {
  /** The Node's name, for the reports. */
  node: string;
  podCIDR: string;
  /** The address the other boards reach it at (its InternalIP). */
  via: string;
}

export interface Route {
  dst: string;
  via: string;
}

export interface RoutePlan {
  /** Added, or replaced when the board's address changed. */
  set: Route[];
  /** Bramble's routes whose Node is gone. */
  remove: Route[];
  /** Subnets a route Bramble does not own already covers: left alone. */
  foreign: { node: string; dst: string }[];
}

/**
 * Pure: what to change, from the other boards' subnets, Bramble's routes now, and the destinations
 * other routes of this board already use.
 */
export function planRoutes(peers: readonly PeerSubnet[], ours: readonly Route[], othersDst: ReadonlySet<string>): RoutePlan {
  const plan: RoutePlan = { set: [], remove: [], foreign: [] };
  const current = new Map(ours.map((route) => [route.dst, route.via]));
  const wanted = new Set<string>();
  for (const peer of peers) {
    if (othersDst.has(peer.podCIDR) && !current.has(peer.podCIDR)) {
      plan.foreign.push({ node: peer.node, dst: peer.podCIDR });
      continue;
    }
    wanted.add(peer.podCIDR);
    if (current.get(peer.podCIDR) !== peer.via) plan.set.push({ dst: peer.podCIDR, via: peer.via });
  }
  for (const route of ours) if (!wanted.has(route.dst)) plan.remove.push(route);
  return plan;
}

/** Runs `ip` with the given arguments and returns stdout; a test runs it in a namespace (`ip -n`). */
export type IpCommand = (args: string[]) => Promise<string>;

export const hostIp: IpCommand = async (args) => (await execFileAsync('ip', args, { encoding: 'utf8' })).stdout;

interface IpRoute {
  dst: string;
  gateway?: string;
  protocol?: string | number;
}

/** This board's IPv4 main-table routes: Bramble's own, and the destinations of all the others. */
export async function readRoutes(ip: IpCommand): Promise<{ ours: Route[]; othersDst: Set<string> }> {
  const all = JSON.parse((await ip(['-j', '-4', 'route', 'show', 'table', 'main'])) || '[]') as IpRoute[];
  const ours: Route[] = [];
  const othersDst = new Set<string>();
  for (const route of all) {
    // `ip -j` names the protocols it knows and prints the others as numbers (strings on some versions).
    if (String(route.protocol) === String(ROUTE_PROTOCOL)) ours.push({ dst: route.dst, via: route.gateway ?? '' });
    else othersDst.add(route.dst);
  }
  return { ours, othersDst };
}

/** Brings Bramble's routes in line with the peers; returns what it did (and what it left alone). */
export async function reconcileRoutes(ip: IpCommand, peers: readonly PeerSubnet[]): Promise<RoutePlan> {
  const { ours, othersDst } = await readRoutes(ip);
  const plan = planRoutes(peers, ours, othersDst);
  for (const route of plan.set) await ip(['route', 'replace', route.dst, 'via', route.via, 'proto', String(ROUTE_PROTOCOL)]);
  for (const route of plan.remove) await ip(['route', 'del', route.dst, 'via', route.via, 'proto', String(ROUTE_PROTOCOL)]);
  return plan;
}
