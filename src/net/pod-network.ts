// The board's side of the pod network (host-gw), driven by the Node watch: once the leader gave
// this board's Node a podCIDR, the pod bridge is made (or adopted) and new pod sandboxes join it;
// the DOCKER-USER rule accepts the cluster CIDR, what pods send outside it is masqueraded; every other Node with a podCIDR and an InternalIP
// on a subnet this board is directly connected to gets a route. What keeps host-gw from working
// (network-checks.ts) becomes the Node's NetworkUnavailable condition (node-condition.ts). Another
// board's change runs the routes alone; this board's own change, a failure and every `resyncMs`
// run the whole pass (which re-asserts the rules after an engine restart); passes never overlap. Routes stay when the process stops: the next
// start adopts them (same proto, same values: nothing is rewritten).
import type Dockerode from 'dockerode';
import { asNode, type Client, Kinds, type KubeObject } from '../client/index.ts';
import { type CacheLogger, ObjectInformer } from '../client/cache/index.ts';
import { ensureEgressMasquerade, ensureForwardAccept, hostIptables, type IptablesCommand } from './forward.ts';
import { checkIpForward, checkIptables, type CommandRunner, hostIpForward, hostRun, networkCondition, offSubnetProblem, splitPeers } from './network-checks.ts';
import { setNetworkCondition } from './node-condition.ts';
import { ensurePodNetwork, POD_NETWORK_NAME } from './pod-bridge.ts';
import { hostIp, type IpCommand, type PeerSubnet, reconcileRoutes } from './routes.ts';
import { serialPass } from './serial-pass.ts';

export interface PodNetworkOptions {
  client: Client;
  docker: Dockerode;
  nodeName: string;
  clusterCidr: string;
  logger: CacheLogger;
  /** Called once the pod bridge is in place: new sandboxes join this Docker network. */
  onBridge(networkName: string): void;
  ip?: IpCommand;
  iptables?: IptablesCommand;
  /** Runs the checks' commands (`iptables --version`, `iptables-nft`...); default: on this host. */
  run?: CommandRunner;
  /** net.ipv4.ip_forward as this board's namespace has it. */
  readIpForward?: () => Promise<string | undefined>;
  /** A full pass this often even without Node changes (default 10 s). */
  resyncMs?: number;
}

export interface RunningPodNetwork {
  stop(): void;
}

/** Pure: the other Nodes' subnets and addresses, for the routes. */
export function peerSubnets(nodes: readonly KubeObject[], self: string): PeerSubnet[] {
  const peers: PeerSubnet[] = [];
  for (const node of nodes) {
    const name = node.metadata.name ?? '';
    const podCIDR = asNode(node).spec?.podCIDR;
    const via = asNode(node).status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (name !== self && podCIDR && via) peers.push({ node: name, podCIDR, via });
  }
  return peers.sort((a, b) => a.node.localeCompare(b.node));
}

export async function startPodNetwork(o: PodNetworkOptions): Promise<RunningPodNetwork> {
  const ip = o.ip ?? hostIp;
  const iptables = o.iptables ?? hostIptables;
  const nodes = new ObjectInformer(o.client, Kinds.nodes, { logger: o.logger });
  let bridgeFor: string | undefined;
  let stopped = false;

  let lastReason = '';

  // Checks first: their findings become the Node's NetworkUnavailable, also when a later step fails.
  const pass = async (): Promise<void> => {
    const own = nodes.get(o.nodeName);
    const podCIDR = own ? asNode(own).spec?.podCIDR : undefined;
    const iptablesProblem = await checkIptables(o.run ?? hostRun);
    const forwardProblem = checkIpForward(await (o.readIpForward ?? hostIpForward)());
    const { direct, offSubnet } = await splitPeers(ip, peerSubnets(nodes.list(), o.nodeName));
    const condition = networkCondition([iptablesProblem, forwardProblem, offSubnetProblem(offSubnet)]);
    let failed: unknown;
    try {
      await apply(podCIDR, !iptablesProblem, direct);
    } catch (error) {
      failed = error;
    }
    // Without a subnet the leader's NoCIDRAvailable stands; "all is well" only after a whole pass.
    if (podCIDR && (condition.status === 'True' || failed === undefined) && (await setNetworkCondition(o.client, o.nodeName, condition))) {
      if (condition.status === 'True') o.logger.warn({ reason: condition.reason }, `NetworkUnavailable: ${condition.message}`);
      else if (lastReason) o.logger.info({ was: lastReason }, 'NetworkUnavailable cleared: the pod network is in place');
      lastReason = condition.status === 'True' ? condition.reason : '';
    }
    if (failed !== undefined) throw failed;
  };

  const apply = async (podCIDR: string | undefined, iptablesUsable: boolean, direct: PeerSubnet[]): Promise<void> => {
    if (podCIDR && bridgeFor !== podCIDR) {
      const made = await ensurePodNetwork(o.docker, { podCIDR });
      bridgeFor = podCIDR;
      o.onBridge(POD_NETWORK_NAME);
      o.logger.info({ podCIDR, action: made.action }, 'pod network in place');
    }
    if (bridgeFor && iptablesUsable) {
      await ensureForwardAccept(iptables, o.clusterCidr);
      await ensureEgressMasquerade(iptables, bridgeFor, o.clusterCidr);
    }
    await routesTo(direct);
  };

  // Peers off this board's subnets get no route (the kernel refuses a next hop it cannot reach).
  const routesTo = async (direct: PeerSubnet[]): Promise<void> => {
    const plan = await reconcileRoutes(ip, direct);
    for (const route of plan.set) o.logger.info(route, 'route to a board\'s pods set');
    for (const route of plan.remove) o.logger.info(route, 'route to a gone board\'s pods removed');
    for (const foreign of plan.foreign) o.logger.warn(foreign, 'another route already covers this board\'s pod subnet: left alone, its pods are not reachable from here');
  };

  // One pass at a time; a change during a pass runs one more after it. A pass starts on the next
  // turn of the event loop, never inside the informer's event: a list fills the cache one Node at a
  // time, emitting each, and a pass started at the first would see a partial cluster and remove the
  // routes of the Nodes not yet added (seen after a restart of a board of three).
  const passes = serialPass(
    () => new Promise<void>((resolve) => setImmediate(resolve)).then(() => (stopped ? undefined : nextPass())),
    (error: unknown) => {
      fullDue = true;
      o.logger.warn({ err: error }, 'pod network pass failed; tried again at the next change or resync');
    },
  );
  const schedule = (): void => passes.request();

  // Another board's change only moves routes: that alone runs at once (a new board is reachable
  // sooner). The checks, the bridge and the iptables rules run when this board's own Node changes,
  // after a failure, and at every resync (which also re-asserts them after an engine restart).
  let fullDue = true;
  const nextPass = async (): Promise<void> => {
    if (!fullDue) return routesTo((await splitPeers(ip, peerSubnets(nodes.list(), o.nodeName))).direct);
    fullDue = false;
    await pass();
  };
  nodes.on((_type, node) => {
    if (node.metadata.name === o.nodeName) fullDue = true;
    schedule();
  });
  await nodes.start();
  schedule();
  const timer = setInterval(() => {
    fullDue = true;
    schedule();
  }, o.resyncMs ?? 10_000);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      passes.stop();
      clearInterval(timer);
      nodes.stop();
    },
  };
}
