import { type BrambleNode, clientTls, groupBundle, statusOf } from './bramble-cluster.ts';
import type { NetnsLab } from './netns.ts';
import type { ProcessGroup } from './processes.ts';

/** Fast formation for tests: short settle window and mDNS interval, fast Raft timers, no API. */
export const fastFormationArgs = ['--bootstrap-settle-ms', '800', '--mdns-interval-ms', '200', '--tick-ms', '20', '--election-ticks', '10', '--api-addr', 'off', '--pod-network', 'off', '--log-level', 'info'];

/** Starts `bramble up --bootstrap-expect` on lab hosts [first, first+count), all spawned back to back. */
export async function startFormingNodes(group: ProcessGroup, lab: NetnsLab, options: { expect: number; first?: number; count: number; prefix?: string; extraArgs?: (index: number) => string[] }): Promise<BrambleNode[]> {
  const nodes: BrambleNode[] = [];
  const first = options.first ?? 0;
  // Every board is flashed with the same cluster bundle (`bramble cluster init` once).
  const bundleDir = await groupBundle(group);
  for (let index = first; index < first + options.count; index++) {
    const host = lab.host(index);
    const name = `${options.prefix ?? 'node'}${index + 1}`;
    const peerAddress = `${host.ip}:7380`;
    const clientAddress = `${host.ip}:7379`;
    const process = await group.spawn(name, {
      args: ({ dataDir }) => ['up', '--name', name, '--data-dir', dataDir, '--peer-addr', peerAddress, '--client-addr', clientAddress, '--bootstrap-expect', String(options.expect), '--bundle', bundleDir, ...fastFormationArgs, ...(options.extraArgs?.(index) ?? [])],
      netns: host.netns,
    });
    nodes.push({ name, process, peerAddress, clientAddress, bundleDir, tls: clientTls(bundleDir) });
  }
  return nodes;
}

export interface ClusterView {
  leaders: string[];
  voters: string[];
  learners: string[];
  /** Distinct (voters|learners) configurations the running nodes report: 1 when they agree. */
  configurations: number;
}

/** What the running nodes say about the cluster; null while one of them does not answer. */
export async function clusterView(nodes: BrambleNode[]): Promise<ClusterView | null> {
  const statuses = await Promise.all(nodes.filter((node) => node.process.running).map((node) => statusOf(node)));
  if (statuses.some((status) => status === null)) return null;
  const configurations = new Set(statuses.map((status) => `${[...status!.confState.voters].sort().join(',')}|${[...status!.confState.learners].sort().join(',')}`));
  const leaders = [...new Set(statuses.flatMap((status) => (status!.leader ? [status!.leader] : [])))];
  const first = statuses[0]!;
  return { leaders, voters: first.confState.voters, learners: first.confState.learners, configurations: configurations.size };
}
