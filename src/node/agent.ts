// Stage "agent": the board's kubelet (src/agent) over an in-process client of the API, plugged
// back into the API for what only it can serve (pods' logs/exec, metrics.k8s.io samples).
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { startAgent } from '../agent/agent.ts';
import { agentPodStreams } from '../agent/pod-streams.ts';
import type { ClusterDnsSettings } from '../agent/pods/dns-config.ts';
import type { RunningApi } from '../api/start.ts';
import { InProcessClient } from '../client/index.ts';
import { boardAddress, hostBoardAddressDeps } from '../net/board-address.ts';
import { hostIp } from '../net/routes.ts';
import { parseHostPort } from '../raftnode/transport/index.ts';
import type { HostPort, NodeOptions } from './options.ts';
import type { Stoppable } from './stages.ts';

export type AgentStageOptions = Pick<NodeOptions, 'name' | 'dataDir' | 'hostRoot' | 'runtime' | 'nodeStatusIntervalMs' | 'peerAddress'> & {
  apiAddress: HostPort;
  /** The Raft members' peer addresses now ("host:port", this node's included). */
  members: () => Record<string, string>;
  podBridge?: () => string | undefined;
  clusterDns?: () => ClusterDnsSettings | undefined;
};

/** A node whose agent does not start still serves the store and the API: the failure is logged, not thrown. */
export async function startAgentStage(options: AgentStageOptions, api: RunningApi, logger: Logger): Promise<Stoppable> {
  try {
    const agent = await startAgent({
      client: new InProcessClient(api.registry),
      nodeName: options.name,
      dataDir: resolve(options.dataDir),
      hostRoot: options.hostRoot,
      runtime: options.runtime,
      internalIP: () => boardAddress(addressInputs(options), hostBoardAddressDeps(hostIp)),
      apiPort: options.apiAddress.port,
      nodeStatusIntervalMs: options.nodeStatusIntervalMs,
      ...(options.podBridge ? { podNetwork: options.podBridge } : {}),
      ...(options.clusterDns ? { clusterDns: options.clusterDns } : {}),
      // Samples live in memory only; a fast status check (tests) samples as often, within reason.
      metricsIntervalMs: Math.min(10_000, Math.max(1000, options.nodeStatusIntervalMs)),
      logger: logger.child({ component: 'agent' }),
    });
    api.setPodStreams(agentPodStreams(() => agent.runtime(), options.name));
    api.setMetrics(agent.metrics);
    return agent;
  } catch (error) {
    logger.error({ err: error }, 'the node agent did not start: this node runs no pods');
    return { stop: () => undefined };
  }
}

/** What the board's address is derived from (src/net/board-address.ts), read again at each status check. */
function addressInputs(options: AgentStageOptions) {
  const peerHosts = Object.entries(options.members())
    .filter(([name]) => name !== options.name)
    .map(([, address]) => parseHostPort(address)?.host)
    .filter((host): host is string => host !== undefined);
  return { peerHost: options.peerAddress.host, apiHost: options.apiAddress.host, peerHosts };
}
