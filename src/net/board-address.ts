// The board's address as the other boards reach it: the Node's InternalIP, the next hop of their
// host-gw routes and the pods' hostIP. It is the --peer-addr host when that is a concrete address
// (the peers already dial it). A wildcard or loopback peer address says nothing about the LAN, so
// then it is the source address the kernel picks for the route to a peer elsewhere (`ip route
// get`), which follows the board when DHCP moves it; the caller re-derives it at every status check.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { isLoopback, isWildcard } from '../api/host-address.ts';
import type { IpCommand } from './routes.ts';

export interface BoardAddressInputs {
  /** The --peer-addr host (what the peers dial). */
  peerHost: string;
  /** The --api-addr host, the fallback for a lone board on loopback peers. */
  apiHost: string;
  /** The other members' peer hosts (Raft members' addresses). */
  peerHosts: readonly string[];
}

/** How the kernel reaches a destination: the gateway when it is not on a connected subnet. */
export interface RouteTo {
  dev?: string;
  gateway?: string;
  prefsrc?: string;
}

/** `ip -j route get <dst>`; undefined when there is no route (or `ip` failed). */
export async function routeTo(ip: IpCommand, destination: string): Promise<RouteTo | undefined> {
  try {
    const [route] = JSON.parse(await ip(['-j', 'route', 'get', destination])) as RouteTo[];
    return route;
  } catch {
    return undefined;
  }
}

/** A concrete address that other machines can dial (neither a wildcard, loopback nor a name). */
function isLanAddress(host: string): boolean {
  return isIP(host) !== 0 && !isWildcard(host) && !isLoopback(host);
}

/** The first non-internal IPv4 address of this machine (a wildcard board alone on its LAN). */
export function firstExternalIPv4(interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string | undefined {
  for (const addresses of Object.values(interfaces)) {
    const external = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (external) return external.address;
  }
  return undefined;
}

export interface BoardAddressDeps {
  /** The source address of the route to a destination (default: `ip route get`). */
  sourceFor(destination: string): Promise<string | undefined>;
  firstExternal(): string | undefined;
}

export function hostBoardAddressDeps(ip: IpCommand): BoardAddressDeps {
  return { sourceFor: async (destination) => (await routeTo(ip, destination))?.prefsrc, firstExternal: () => firstExternalIPv4() };
}

/**
 * The address the other boards reach this one at, in order: a concrete --peer-addr host; the
 * source address towards the first peer elsewhere (not loopback, not this board's own address);
 * a concrete --api-addr host; the loopback peer host (a cluster on one machine); the first
 * external IPv4 for a wildcard; 127.0.0.1.
 */
export async function boardAddress(inputs: BoardAddressInputs, deps: BoardAddressDeps): Promise<string> {
  if (isLanAddress(inputs.peerHost)) return inputs.peerHost;
  for (const peer of inputs.peerHosts) {
    if (!isLanAddress(peer)) continue;
    const source = await deps.sourceFor(peer);
    if (source && isLanAddress(source)) return source;
  }
  if (isLanAddress(inputs.apiHost)) return inputs.apiHost;
  if (isLoopback(inputs.peerHost) && isIP(inputs.peerHost) !== 0) return inputs.peerHost;
  return (isWildcard(inputs.peerHost) ? deps.firstExternal() : undefined) ?? '127.0.0.1';
}
