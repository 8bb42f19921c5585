// The board's pod bridge (host-gw): a Docker bridge network on the board's own pod subnet
// (the Node's spec.podCIDR), so pod IPs are routable from the other boards. Docker's masquerade is
// off on it: pod-to-pod traffic keeps the real pod IP, and egress masquerade is Bramble's own rule
// (only for destinations outside the cluster CIDR). Created once, adopted after a restart; a network
// of that name that Bramble did not make, or made for another subnet, is never touched.
import type Dockerode from 'dockerode';

export const POD_NETWORK_NAME = 'bramble-pods';
export const POD_BRIDGE_NAME = 'bramble0';
/** Carries the subnet the network was made for: what makes a network of that name Bramble's. */
export const POD_NETWORK_LABEL = 'io.bramble.pod-network';

export interface PodNetworkSpec {
  /** The Node's spec.podCIDR, an IPv4 /24 such as 10.42.3.0/24. */
  podCIDR: string;
  networkName?: string;
  bridgeName?: string;
}

export interface PodNetwork {
  id: string;
  /** created: made now; adopted: found as an earlier start left it. */
  action: 'created' | 'adopted';
  gateway: string;
}

/** The bridge's own address: the first of the subnet (10.42.3.0/24 -> 10.42.3.1). */
export function gatewayOf(podCIDR: string): string {
  const match = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(podCIDR);
  if (!match) throw new Error(`pod subnet ${podCIDR} is not an IPv4 /24 (a.b.c.0/24)`);
  return `${match[1]}.1`;
}

function statusCodeOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** Checks that an existing network is the one Bramble made for this subnet; says what is wrong otherwise. */
function adoptable(info: Dockerode.NetworkInspectInfo, podCIDR: string, bridgeName: string): void {
  const owner = info.Labels?.[POD_NETWORK_LABEL];
  if (owner === undefined) {
    throw new Error(`the Docker network ${info.Name} exists but Bramble did not make it (no ${POD_NETWORK_LABEL} label): rename or remove it, Bramble leaves it alone`);
  }
  const subnets = (info.IPAM?.Config ?? []).map((config) => config.Subnet);
  const bridge = info.Options?.['com.docker.network.bridge.name'];
  if (owner !== podCIDR || subnets.length !== 1 || subnets[0] !== podCIDR || bridge !== bridgeName) {
    throw new Error(
      `the Docker network ${info.Name} was made for ${subnets.join(', ') || 'no subnet'} on bridge ${bridge ?? '<default>'}, but this board's pod subnet is ${podCIDR} on ${bridgeName}: ` +
        `remove it (docker network rm ${info.Name}) once no pod uses it, and the agent makes it again`,
    );
  }
}

async function inspect(docker: Dockerode, name: string): Promise<Dockerode.NetworkInspectInfo | undefined> {
  try {
    return (await docker.getNetwork(name).inspect()) as Dockerode.NetworkInspectInfo;
  } catch (error) {
    if (statusCodeOf(error) === 404) return undefined;
    throw error;
  }
}

/** Makes the board's pod network, or adopts the one an earlier start made. */
export async function ensurePodNetwork(docker: Dockerode, spec: PodNetworkSpec): Promise<PodNetwork> {
  const name = spec.networkName ?? POD_NETWORK_NAME;
  const bridgeName = spec.bridgeName ?? POD_BRIDGE_NAME;
  const gateway = gatewayOf(spec.podCIDR);
  const existing = await inspect(docker, name);
  if (existing) {
    adoptable(existing, spec.podCIDR, bridgeName);
    return { id: existing.Id, action: 'adopted', gateway };
  }
  try {
    const created = await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: spec.podCIDR, Gateway: gateway }] },
      Options: { 'com.docker.network.bridge.name': bridgeName, 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
      Labels: { [POD_NETWORK_LABEL]: spec.podCIDR },
    });
    return { id: created.id, action: 'created', gateway };
  } catch (error) {
    // Made meanwhile by another start of this agent: adopt it if it is the right one.
    if (statusCodeOf(error) !== 409) throw error;
    const raced = await inspect(docker, name);
    if (!raced) throw error;
    adoptable(raced, spec.podCIDR, bridgeName);
    return { id: raced.Id, action: 'adopted', gateway };
  }
}
