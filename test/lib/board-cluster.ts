// One Bramble cluster on the boards of a test bed: each board runs `bramble up` in its namespace
// against its own Docker engine, with the pod network (host-gw) and addresses on the board's lab IP
// given explicitly (--api-addr, --peer-addr, --client-addr), so the Node's InternalIP is the
// board's address whatever the defaults. Used by the pod network tests and bench:podnet.
import { get as httpGet } from 'node:http';
import { Kinds, type KubeObject } from '../../src/client/index.ts';
import { adminClient } from './api-node.ts';
import type { Board, BoardBed } from './boards.ts';
import { groupBundle } from './bramble-cluster.ts';
import { quickRaftTiming } from './control-cluster.ts';
import { freePort } from './ports.ts';
import { type ManagedProcess, type ProcessGroup, STARTUP_TIMEOUT_MS } from './processes.ts';
import { waitFor } from './wait.ts';

export interface BoardMember {
  board: Board;
  /** The Node's and the Raft member's name: b<board index>. */
  name: string;
  process: ManagedProcess;
  /** host:port of the store's client port (for `bramble cluster remove --endpoints`). */
  clientAddr: string;
}

export interface BoardCluster {
  bundleDir: string;
  members: BoardMember[];
}

/**
 * Starts `bramble up --pod-network host-gw` on every board (`extraArgs` appended) and waits until
 * each board's pod network is in place.
 */
export async function startBoardCluster(group: ProcessGroup, bed: BoardBed, clusterCidr = '10.42.0.0/16', extraArgs: string[] = []): Promise<BoardCluster> {
  const bundleDir = await groupBundle(group);
  const ports = await Promise.all(bed.boards.map(async () => ({ peer: await freePort(), client: await freePort(), api: await freePort() })));
  const initialCluster = bed.boards.map((board, i) => `b${board.index}=${board.host.ip}:${ports[i]!.peer}`).join(',');
  const members: BoardMember[] = [];
  for (const [i, board] of bed.boards.entries()) {
    const own = ports[i]!;
    const name = `b${board.index}`;
    const clientAddr = `${board.host.ip}:${own.client}`;
    const process = await group.spawn(name, {
      netns: board.host.netns,
      env: { DOCKER_HOST: board.dockerHost },
      args: ({ dataDir }) => [
        'up', '--name', name, '--data-dir', dataDir, '--peer-addr', `${board.host.ip}:${own.peer}`, '--client-addr', clientAddr,
        '--api-addr', `${board.host.ip}:${own.api}`, '--initial-cluster', initialCluster, '--bundle', bundleDir, '--cluster-cidr', clusterCidr,
        ...quickRaftTiming, '--runtime', 'docker', '--node-status-ms', '500', '--pod-network', 'host-gw', '--log-level', 'info', ...extraArgs,
      ],
    });
    members.push({ board, name, process, clientAddr });
  }
  await Promise.all(members.map((member) => member.process.waitForLog(/pod network in place/, STARTUP_TIMEOUT_MS)));
  return { bundleDir, members };
}

export interface PodView extends KubeObject {
  spec?: { nodeName?: string };
  status?: { phase?: string; podIP?: string; containerStatuses?: { containerID?: string }[] };
}

/** The Docker container id of a pod's first container. */
export const containerOf = (pod: PodView): string => (pod.status?.containerStatuses?.[0]?.containerID ?? '').replace('docker://', '');

/**
 * Waits until the pod runs with an IP and a container (other than `notContainer`: the one before an
 * engine restart); the error names the last status seen.
 */
export async function runningPod(dataDir: string, name: string, notContainer?: string): Promise<PodView> {
  let last: unknown;
  return waitFor(`pod ${name} running with an IP`, async () => {
    const pod = (await adminClient(dataDir).get(Kinds.pods, 'default', name).catch((error: Error) => ((last = error.message), null))) as PodView | null;
    if (pod) last = pod.status;
    return pod?.status?.phase === 'Running' && pod.status.podIP && containerOf(pod) && containerOf(pod) !== notContainer ? pod : null;
  }, STARTUP_TIMEOUT_MS, 200).catch((error: Error) => {
    throw new Error(`${error.message}; last seen: ${JSON.stringify(last)}`);
  });
}

/** A pod of the local test image bound to one Node. */
export function boardPod(name: string, nodeName: string, image: string, command: string[]): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName, containers: [{ name: 'main', image, imagePullPolicy: 'Never', command }] } };
}

/** The body of GET / from the lab host (outside the cluster), or null on any failure. */
export function getFromLab(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const request = httpGet({ host, port, path: '/', agent: false, timeout: 3_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(null));
  });
}
