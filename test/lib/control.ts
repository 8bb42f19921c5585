// Helpers for control-plane tests: Node objects as an agent registers them, and polling.
import { InProcessClient, Kinds, type Client, type KubeObject } from '../../src/client/index.ts';
import { ControlManager, type ControllerFactory } from '../../src/control/index.ts';
import pino from 'pino';
import { startInProcessNode, type InProcessNode } from './inprocess-node.ts';

export function readyNode(name: string, opts: { cpu?: string; memory?: string; labels?: Record<string, string>; ready?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/arch': 'amd64', ...opts.labels } },
    spec: {},
    status: {
      capacity: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '4Gi', pods: '110' },
      allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '4Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', reason: 'KubeletReady', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    },
  };
}

/** Creates the node, then writes its status (the create drops a Node's status as Kubernetes would not, so write it explicitly). */
export async function registerNode(client: Client, node: KubeObject): Promise<void> {
  const created = await client.create(Kinds.nodes, node);
  if (JSON.stringify(created['status']) !== JSON.stringify(node['status'])) await client.update(Kinds.nodes, { ...created, status: node['status'] }, { subresource: 'status' });
}

export function startManager(n: InProcessNode, controllers: ControllerFactory[], config: { nodeGraceMs?: number } = {}): ControlManager {
  const manager = new ControlManager({
    leadership: n.node,
    nodeName: n.node.id,
    connect: (term) => InProcessClient.fenced(n.registry, term, n.node.id),
    controllers,
    logger: pino({ level: process.env['BRAMBLE_TEST_LOG'] ?? 'silent' }),
    config,
  });
  manager.start();
  return manager;
}

export interface ControlPlane {
  n: InProcessNode;
  client: InProcessClient;
  manager: ControlManager;
  stop(): Promise<void>;
}

/**
 * A real in-process Raft node ('pi0') with the given namespaces, and the controllers under the
 * leader-only manager. `beforeControllers` runs first (objects the loops should find at start).
 */
export async function startControlPlane(controllers: ControllerFactory[], opts: { namespaces?: string[]; beforeControllers?: (client: InProcessClient) => Promise<void> } = {}): Promise<ControlPlane> {
  const n = await startInProcessNode('pi0');
  const client = new InProcessClient(n.registry);
  for (const name of opts.namespaces ?? ['default']) await client.create(Kinds.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await opts.beforeControllers?.(client);
  const manager = startManager(n, controllers);
  return {
    n,
    client,
    manager,
    stop: async () => {
      manager.stop();
      await n.stop();
    },
  };
}
