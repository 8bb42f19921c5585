// Real `bramble up` processes with the API, the agent on the real Docker engine and the leader's
// control plane, for the control-plane tests and benchmarks.
import { adminClient } from './api-node.ts';
import { clientTls, groupBundle, statusOf, type BrambleNode } from './bramble-cluster.ts';
import { waitFor } from './wait.ts';
import { freePort } from './ports.ts';
import type { ProcessGroup, ProcessSpec } from './processes.ts';
import { Kinds, type HttpClient, type KubeObject } from '../../src/client/index.ts';
import { SLEEPER_COMMAND, testImages } from './images.ts';
import { STARTUP_TIMEOUT_MS } from './processes.ts';

/** Raft timing of the test clusters: a 500 ms election timeout, so failovers are quick. */
export const quickRaftTiming = ['--tick-ms', '20', '--election-ticks', '25'];

export const controlArgs = (nodeGraceMs = 2000, raftTiming: readonly string[] = quickRaftTiming): string[] => [...raftTiming, '--runtime', 'docker', '--pod-network', 'off', '--node-status-ms', '500', '--node-grace-ms', String(nodeGraceMs), '--log-level', 'info'];

/**
 * `bramble up` flags with the production defaults (100 ms ticks, 10 s node status, 4 s grace):
 * what a board runs, for benchmarks that measure the board rather than test speed.
 */
export const productionControlArgs = ['--runtime', 'docker', '--pod-network', 'off', '--log-level', 'info'];

/**
 * `launch` runs the nodes as something other than this Node with the checkout's CLI, e.g. the
 * single executable from a scratch directory (its command, working directory and environment).
 */
export async function startControlCluster(
  group: ProcessGroup,
  names: string[],
  nodeGraceMs = 2000,
  args: string[] = controlArgs(nodeGraceMs),
  launch: Pick<ProcessSpec, 'command' | 'cwd' | 'env'> = {},
): Promise<BrambleNode[]> {
  const peers = await Promise.all(names.map(() => freePort()));
  const initialCluster = names.map((name, i) => `${name}=127.0.0.1:${peers[i]}`).join(',');
  const nodes: BrambleNode[] = [];
  const bundleDir = await groupBundle(group);
  for (const [i, name] of names.entries()) {
    const process = await group.spawn(name, {
      ...launch,
      portNames: ['client', 'api'],
      args: ({ ports, dataDir }) => [
        'up', '--pod-network', 'off', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${peers[i]}`, '--client-addr', `127.0.0.1:${ports['client']}`,
        '--api-addr', `127.0.0.1:${ports['api']}`, '--initial-cluster', initialCluster, '--bundle', bundleDir, ...args,
      ],
    });
    nodes.push({ name, process, peerAddress: `127.0.0.1:${peers[i]}`, clientAddress: `127.0.0.1:${process.ports['client']}`, bundleDir, tls: clientTls(bundleDir) });
  }
  await Promise.all(nodes.map((n) => n.process.waitForLog(/node agent running pods on the Docker engine/, STARTUP_TIMEOUT_MS)));
  await waitFor(`${names.length} Ready nodes`, async () => {
    const list = await adminClient(nodes[0]!.process.dataDir).list(Kinds.nodes);
    return list.items.filter((n) => (n['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === names.length ? true : null;
  }, 60_000);
  return nodes;
}

export async function leaderOf(nodes: BrambleNode[]): Promise<BrambleNode> {
  return waitFor('a leader', async () => {
    for (const n of nodes) if (n.process.running && (await statusOf(n))?.role === 'leader') return n;
    return null;
  });
}

export interface PodView extends KubeObject {
  spec: { nodeName?: string; containers: { image: string }[] };
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

export const isReadyPod = (p: PodView): boolean => p.metadata.deletionTimestamp === undefined && p.status?.phase === 'Running' && (p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);

export async function podsWithLabel(client: HttpClient, selector: string): Promise<PodView[]> {
  return (await client.list(Kinds.pods, { namespace: 'default', labelSelector: selector })).items as PodView[];
}

/** A Deployment of `replicas` long-running busybox pods (local image, 1 s grace). */
export function sleeperDeployment(name: string, replicas: number, image: string = testImages.amd64, rolling: { maxSurge: number | string; maxUnavailable: number | string } = { maxSurge: 1, maxUnavailable: 1 }): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: rolling },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'main', image, imagePullPolicy: 'Never', command: SLEEPER_COMMAND }],
        },
      },
    },
  };
}
