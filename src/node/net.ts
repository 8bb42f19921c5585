// Stage "net": the board's pod network (src/net) with `--pod-network host-gw`. It starts after the
// agent, whose new pod sandboxes join the pod bridge as soon as this stage reports it. The Docker
// engine is the agent's (DOCKER_HOST or the default socket). The Service proxy (iptables) runs
// beside it: a board with its own pod network is a board whose iptables Bramble may program.
import Dockerode from 'dockerode';
import type { Logger } from 'pino';
import type { RunningApi } from '../api/start.ts';
import { InProcessClient } from '../client/index.ts';
import { startPodNetwork } from '../net/pod-network.ts';
import { startServiceProxy } from '../net/service-proxy.ts';
import type { NodeOptions } from './options.ts';
import type { Stoppable } from './stages.ts';

/** The pod bridge's Docker network once it exists, for the agent's sandboxes. */
export class PodBridgeSlot {
  network: string | undefined;
  readonly get = (): string | undefined => this.network;
}

/** A board whose pod network cannot start still runs its pods on the default bridge: logged, not thrown. */
export async function startNetStage(options: Pick<NodeOptions, 'name' | 'clusterCidr'>, api: RunningApi, slot: PodBridgeSlot, logger: Logger): Promise<Stoppable> {
  const proxy = await startServiceProxy({ client: new InProcessClient(api.registry), clusterCidr: options.clusterCidr, logger: logger.child({ component: 'service-proxy' }) }).catch((error: unknown) => {
    logger.error({ err: error }, 'the Service proxy did not start: ClusterIPs and NodePorts do not answer on this board');
    return { stop: () => undefined };
  });
  const pods = await startPods(options, api, slot, logger);
  return {
    stop: async () => {
      proxy.stop();
      await pods.stop();
    },
  };
}

async function startPods(options: Pick<NodeOptions, 'name' | 'clusterCidr'>, api: RunningApi, slot: PodBridgeSlot, logger: Logger): Promise<Stoppable> {
  try {
    return await startPodNetwork({
      client: new InProcessClient(api.registry),
      docker: new Dockerode(),
      nodeName: options.name,
      clusterCidr: options.clusterCidr,
      logger: logger.child({ component: 'net' }),
      onBridge: (network) => (slot.network = network),
    });
  } catch (error) {
    logger.error({ err: error }, 'the pod network did not start: pods stay on the engine\'s default bridge');
    return { stop: () => undefined };
  }
}
