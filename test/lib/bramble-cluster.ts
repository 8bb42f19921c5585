import { writeClusterBundle } from '../../src/node/cluster-bundle.ts';
import { findClusterCredentials, storeClientTls, type ClusterCredentials } from '../../src/identity/tls.ts';
import type { StoreClientTls } from '../../src/store/wire.ts';
import { StoreClient } from '../../src/store/client.ts';
import type { MemberStatus } from '../../src/store/http-server.ts';
import { freePort } from './ports.ts';
import type { ManagedProcess, ProcessGroup } from './processes.ts';
import { STARTUP_TIMEOUT_MS } from './processes.ts';

export interface BrambleNode {
  name: string;
  process: ManagedProcess;
  peerAddress: string;
  clientAddress: string;
  /** The cluster bundle the node was started with. */
  bundleDir: string;
  /** Admin credentials of the bundle, for StoreClient (the client port takes only cluster certificates). */
  tls: StoreClientTls;
}

const bundles = new WeakMap<ProcessGroup, Promise<string>>();

/** The group's cluster bundle (one per group, made on first use, like `bramble cluster init`). */
export function groupBundle(group: ProcessGroup): Promise<string> {
  let bundle = bundles.get(group);
  if (!bundle) {
    bundle = group.scratchDir('cluster-bundle').then(async (dir) => (await writeClusterBundle(dir, 'https://127.0.0.1:6443')).dir);
    bundles.set(group, bundle);
  }
  return bundle;
}

/** Credentials in a bundle or a node's data dir, for clients of the store's client port. */
export function bundleCredentials(dir: string): ClusterCredentials {
  const credentials = findClusterCredentials(dir);
  if (!credentials) throw new Error(`${dir} holds no cluster credentials`);
  return credentials;
}

/** TLS options for a StoreClient of the cluster whose bundle (or member data dir) is `dir`. */
export function clientTls(dir: string): StoreClientTls {
  return storeClientTls(bundleCredentials(dir));
}

export interface ClusterOptions {
  /** Extra `bramble up` flags for every node. */
  extraArgs?: string[];
  /** Bind addresses per node (netns hosts); default 127.0.0.1. */
  hosts?: string[];
  /** Run node i inside this network namespace. */
  netns?: (string | undefined)[];
}

/** Fast timers so elections and failover take a fraction of a second in tests. */
// --api-addr off: these clusters test the store; the Kubernetes API would write its first-start
// objects (moving the revisions the tests count) and compete for port 6443. Pass --api-addr later to enable it.
export const fastTimerArgs = ['--tick-ms', '20', '--election-ticks', '10', '--log-level', 'info', '--api-addr', 'off', '--pod-network', 'off'];

/** Starts `size` real `bramble up` processes forming one static cluster; waits until each is ready. */
export async function startBrambleCluster(group: ProcessGroup, size: number, options: ClusterOptions = {}): Promise<BrambleNode[]> {
  const names = Array.from({ length: size }, (_, i) => `node${i + 1}`);
  const ports: { peer: number; client: number }[] = [];
  for (let i = 0; i < size; i++) ports.push({ peer: await freePort(), client: await freePort() });
  const host = (i: number) => options.hosts?.[i] ?? '127.0.0.1';
  const initialCluster = names.map((name, i) => `${name}=${host(i)}:${ports[i]!.peer}`).join(',');
  const nodes: BrambleNode[] = [];
  const bundleDir = await groupBundle(group);
  for (const [i, name] of names.entries()) {
    const peerAddress = `${host(i)}:${ports[i]!.peer}`;
    const clientAddress = `${host(i)}:${ports[i]!.client}`;
    const netns = options.netns?.[i];
    const process = await group.spawn(name, {
      args: ({ dataDir }) => ['up', '--name', name, '--data-dir', dataDir, '--peer-addr', peerAddress, '--client-addr', clientAddress, '--initial-cluster', initialCluster, '--bundle', bundleDir, ...fastTimerArgs, ...(options.extraArgs ?? [])],
      ...(netns ? { netns } : {}),
    });
    nodes.push({ name, process, peerAddress, clientAddress, bundleDir, tls: clientTls(bundleDir) });
  }
  await Promise.all(nodes.map((node) => node.process.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS)));
  return nodes;
}

/** Starts one more node that joins the cluster through `via`'s client address, with the cluster's bundle. */
export async function joinBrambleNode(group: ProcessGroup, name: string, via: BrambleNode, extraArgs: string[] = []): Promise<BrambleNode> {
  const peerAddress = `127.0.0.1:${await freePort()}`;
  const clientAddress = `127.0.0.1:${await freePort()}`;
  const process = await group.spawn(name, {
    args: ({ dataDir }) => ['up', '--name', name, '--data-dir', dataDir, '--peer-addr', peerAddress, '--client-addr', clientAddress, '--join', via.clientAddress, '--bundle', via.bundleDir, ...fastTimerArgs, ...extraArgs],
  });
  await process.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
  return { name, process, peerAddress, clientAddress, bundleDir: via.bundleDir, tls: via.tls };
}

export type NodeStatusView = MemberStatus;

export async function statusOf(node: BrambleNode): Promise<NodeStatusView | null> {
  const client = new StoreClient({ endpoints: [node.clientAddress], timeoutMs: 2_000, tls: node.tls });
  try {
    return await client.status<NodeStatusView>();
  } catch {
    return null;
  } finally {
    client.close();
  }
}

/**
 * Polls until a running node reports itself leader, and returns it. That node may be a deposed
 * leader that has not heard of the newer term yet (its commit index then lags the real one): to
 * compare members, use agreedAppliedIndex, which needs every member to agree.
 */
export async function waitForLeader(nodes: BrambleNode[], timeoutMs = 20_000, except?: BrambleNode): Promise<BrambleNode> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const node of nodes) {
      if (node === except || !node.process.running) continue;
      const status = await statusOf(node);
      if (status?.role === 'leader') return node;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no leader among ${nodes.map((node) => node.name).join(', ')} within ${timeoutMs} ms`);
}


/**
 * The index every member has applied when the members agree, else null: every one answers,
 * names the same leader in the same term, that leader says it leads, and every state machine is
 * at exactly the leader's commit index. Two calls returning the same index around some reads
 * prove each member applied nothing in between (applied indexes only grow), so those reads
 * saw the same point of the log.
 */
export function agreedAppliedIndex(statuses: readonly (NodeStatusView | null)[]): number | null {
  const leader = statuses.find((status) => status?.role === 'leader');
  if (!leader) return null;
  const agree = (status: NodeStatusView | null) =>
    status !== null && status.term === leader.term && status.leader === leader.id && status.stateMachineApplied === leader.commit;
  return statuses.every(agree) ? leader.commit : null;
}
