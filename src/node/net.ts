// Stage "net": the board's pod network (src/net) with `--pod-network host-gw`. It starts after the
// agent, whose new pod sandboxes join the pod bridge as soon as this stage reports it. The Docker
// engine is the agent's (DOCKER_HOST or the default socket). The Service proxy (iptables) runs
// beside it: a board with its own pod network is a board whose iptables Bramble may program.
import { isIPv4 } from 'node:net';
import Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { type ComponentState, startMirrorPods } from '../agent/mirror-pods.ts';
import { type ClusterDnsSettings, readHostResolvConf } from '../agent/pods/dns-config.ts';
import type { RunningApi } from '../api/start.ts';
import { InProcessClient } from '../client/index.ts';
import { DNS_SERVICE_OFFSET, DEFAULT_SERVICE_CIDR, parseServiceCidr, serviceIPAt } from '../api/service-alloc.ts';
import { DEFAULT_CLUSTER_DOMAIN, startClusterDns } from '../net/dns/cluster-dns.ts';
import { ensureLocalAddress } from '../net/dns/local-address.ts';
import { POD_BRIDGE_NAME } from '../net/pod-bridge.ts';
import { startPodNetwork } from '../net/pod-network.ts';
import { hostIp } from '../net/routes.ts';
import { startServiceProxy } from '../net/service-proxy.ts';
import { ensureServiceRoute } from '../net/service-route.ts';
import type { NodeOptions } from './options.ts';
import type { Stoppable } from './stages.ts';

/** The pod bridge's Docker network once it exists, for the agent's sandboxes. */
export class PodBridgeSlot {
  network: string | undefined;
  readonly get = (): string | undefined => this.network;
}

/** The board's cluster DNS once it answers, for the pods' resolv.conf. */
export class ClusterDnsSlot {
  settings: ClusterDnsSettings | undefined;
  readonly get = (): ClusterDnsSettings | undefined => this.settings;
}

type NetStageOptions = Pick<NodeOptions, 'name' | 'clusterCidr' | 'serviceCidr' | 'version'>;

/** A board whose pod network cannot start still runs its pods on the default bridge: logged, not thrown. */
export async function startNetStage(options: NetStageOptions, api: RunningApi, slots: { bridge: PodBridgeSlot; dns: ClusterDnsSlot }, logger: Logger): Promise<Stoppable> {
  const serviceCidr = options.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  const dnsIP = serviceIPAt(parseServiceCidr(serviceCidr), DNS_SERVICE_OFFSET);
  const proxyState: ComponentState = { ready: false, message: 'no pass of the rules has ended yet' };
  const proxy = await startServiceProxy({
    client: new InProcessClient(api.registry),
    clusterCidr: options.clusterCidr,
    localServiceIPs: [dnsIP],
    logger: logger.child({ component: 'service-proxy' }),
    onPass: () => Object.assign(proxyState, { ready: true, message: '' }),
    onPassFailed: (error) => Object.assign(proxyState, { ready: false, message: `the last pass failed: ${error instanceof Error ? error.message : String(error)}` }),
  }).catch((error: unknown) => {
    logger.error({ err: error }, 'the Service proxy did not start: ClusterIPs and NodePorts do not answer on this board');
    proxyState.message = `did not start: ${error instanceof Error ? error.message : String(error)}`;
    return { stop: () => undefined };
  });
  const dns = await startBoardDns(dnsIP, api, slots.dns, logger);
  const pods = await startPods(options, serviceCidr, api, slots.bridge, logger);
  const mirrors = startMirrorPods({
    client: new InProcessClient(api.registry),
    nodeName: options.name,
    image: `bramble:${options.version}`,
    logger: logger.child({ component: 'mirror-pods' }),
    components: [
      { name: 'kube-proxy', description: `the Service proxy inside bramble up on ${options.name}: iptables chains BRAMBLE-* (iptables-save -t nat); its log lines are bramble's (component=service-proxy)`, state: () => proxyState },
      { name: 'coredns', description: `the cluster DNS inside bramble up on ${options.name}, answering ${dnsIP}:53 on the board itself; its log lines are bramble's (component=dns)`, state: () => (slots.dns.settings ? { ready: true, message: '' } : { ready: false, message: `not answering on ${dnsIP}:53 (see bramble's log, component=dns)` }) },
    ],
  });
  return {
    stop: async () => {
      mirrors.stop();
      proxy.stop();
      await dns.stop();
      await pods.stop();
    },
  };
}

/** Where names outside the cluster go: the board's IPv4 resolvers, but never its own cluster DNS. */
async function boardUpstreams(dnsIP: string): Promise<string[]> {
  const { nameservers } = await readHostResolvConf(undefined, { keepLoopback: true });
  return [...new Set(nameservers.filter((server) => isIPv4(server) && server !== dnsIP))];
}

/**
 * The cluster DNS on this board, at the kube-dns ClusterIP made an address of the board itself.
 * Without it pods fall back to the board's own resolvers (dnsPolicy ClusterFirst as Default).
 */
async function startBoardDns(dnsIP: string, api: RunningApi, slot: ClusterDnsSlot, logger: Logger): Promise<Stoppable> {
  const log = logger.child({ component: 'dns' });
  try {
    const address = await ensureLocalAddress(hostIp, dnsIP);
    if (address.action === 'foreign') log.warn({ address: dnsIP }, 'the cluster DNS address was already on lo (not put there by Bramble): used as it is');
    const dns = await startClusterDns({ client: new InProcessClient(api.registry), host: dnsIP, port: 53, upstreams: await boardUpstreams(dnsIP), logger: log });
    slot.settings = { nameserver: dnsIP, domain: DEFAULT_CLUSTER_DOMAIN };
    return {
      stop: async () => {
        slot.settings = undefined;
        await dns.stop();
      },
    };
  } catch (error) {
    log.error({ err: error }, `the cluster DNS did not start on ${dnsIP}:53: pods on this board use the board's own resolvers and cannot resolve Service names`);
    return { stop: () => undefined };
  }
}

async function startPods(options: NetStageOptions, serviceCidr: string, api: RunningApi, slot: PodBridgeSlot, logger: Logger): Promise<Stoppable> {
  try {
    return await startPodNetwork({
      client: new InProcessClient(api.registry),
      docker: new Dockerode(),
      nodeName: options.name,
      clusterCidr: options.clusterCidr,
      logger: logger.child({ component: 'net' }),
      onBridge: (network) => {
        slot.network = network;
        // Once the bridge exists: a Service without endpoints then REJECTs even with no default route.
        ensureServiceRoute(hostIp, serviceCidr, POD_BRIDGE_NAME)
          .then((result) => result.action === 'foreign' && logger.warn({ serviceCidr }, 'another route (not Bramble\'s) for the service CIDR exists: left as it is; choose another --service-cidr if Services do not answer'))
          .catch((error: unknown) => logger.warn({ err: error, serviceCidr }, 'no route for the service CIDR: on a board without a default route a Service without endpoints times out instead of refusing'));
      },
    });
  } catch (error) {
    logger.error({ err: error }, 'the pod network did not start: pods stay on the engine\'s default bridge');
    return { stop: () => undefined };
  }
}
