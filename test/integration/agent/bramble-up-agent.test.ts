// The node agent inside real `bramble up` processes on the real Docker engine: pods created
// through the API run, report status, are removed on delete, survive a restart of their node's
// process, and pods deleted while it was down lose their containers when it comes back.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { findResource, type KubeObject, type ResourceInfo } from '../../../src/api/resources/index.ts';
import { ClientError, type HttpClient, type Toleration } from '../../../src/client/index.ts';
import { adminClient } from '../../lib/api-node.ts';
import { groupBundle } from '../../lib/bramble-cluster.ts';
import { docker } from '../../lib/docker.ts';
import { SLEEPER_COMMAND, testImages } from '../../lib/images.ts';
import { podManifest } from '../../lib/objects.ts';
import { freePort } from '../../lib/ports.ts';
import { type ManagedProcess, ProcessGroup, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

function resource(plural: string): ResourceInfo {
  const info = findResource('', 'v1', plural);
  assert.ok(info);
  return info;
}
const PODS = resource('pods');
const NODES = resource('nodes');
const NAMESPACES = resource('namespaces');

interface PodView extends KubeObject {
  status?: { phase?: string; podIP?: string; hostIP?: string; containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number; containerID?: string; state: Record<string, unknown> }> };
}
interface NodeView extends KubeObject {
  status?: { capacity?: Record<string, string>; nodeInfo?: { containerRuntimeVersion?: string; architecture?: string }; conditions?: Array<{ type: string; status: string; reason: string }> };
}

// The node lifecycle controller evicts pods of a node that stops answering; these must stay while
// the test restarts their node.
const staysWhileNodeRestarts: Toleration[] = [
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
];

function pod(name: string, node: string): KubeObject {
  return podManifest(name, {
    node,
    spec: {
      terminationGracePeriodSeconds: 2,
      tolerations: staysWhileNodeRestarts,
      containers: [{ name: 'main', image: testImages.amd64, imagePullPolicy: 'Never', command: SLEEPER_COMMAND }],
    },
  });
}

async function containersOf(dataDir: string, podUid: string): Promise<string[]> {
  const out = await docker(['ps', '--all', '--quiet', '--filter', `label=io.bramble.scope=${dataDir}`, '--filter', `label=io.bramble.pod.uid=${podUid}`]);
  return out.split('\n').filter(Boolean);
}

async function running(client: HttpClient, name: string): Promise<PodView> {
  return waitFor(`pod ${name} Running`, async () => {
    const p = (await client.get(PODS, 'default', name)) as PodView;
    return p.status?.phase === 'Running' && p.status.containerStatuses?.every((c) => c.ready) ? p : null;
  }, 60_000);
}

async function gone(client: HttpClient, name: string): Promise<boolean> {
  try {
    await client.get(PODS, 'default', name);
    return false;
  } catch (error) {
    if (error instanceof ClientError && error.code === 404) return true;
    throw error;
  }
}

describe('node agent in bramble up (real Docker engine, three real processes)', () => {
  const group = new ProcessGroup();
  const names = ['pia', 'pib', 'pic'];
  const nodes: ManagedProcess[] = [];
  let a: HttpClient;
  let b: HttpClient;
  let worker: ManagedProcess;

  before(async () => {
    const peers = await Promise.all(names.map(() => freePort()));
    const initialCluster = names.map((name, i) => `${name}=127.0.0.1:${peers[i]}`).join(',');
    const bundle = await groupBundle(group);
    for (const [i, name] of names.entries()) {
      nodes.push(
        await group.spawn(name, {
          portNames: ['client', 'api'],
          args: ({ ports, dataDir }) => [
            'up', '--pod-network', 'off', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${peers[i]}`, '--client-addr', `127.0.0.1:${ports['client']}`,
            '--api-addr', `127.0.0.1:${ports['api']}`, '--initial-cluster', initialCluster, '--bundle', bundle, '--tick-ms', '20', '--election-ticks', '10',
            '--runtime', name === 'pib' ? 'docker' : 'none', '--node-status-ms', '200', '--log-level', 'info',
          ],
        }),
      );
    }
    await Promise.all(nodes.map((n) => n.waitForLog(/Kubernetes API: https:/, STARTUP_TIMEOUT_MS)));
    worker = nodes[1]!;
    a = adminClient(nodes[0]!.dataDir);
    b = adminClient(worker.dataDir);
    await worker.waitForLog(/node agent running pods on the Docker engine/, STARTUP_TIMEOUT_MS);
  });

  after(async () => {
    if (process.exitCode) console.error(group.logs());
    await group.cleanup();
  });

  test('the Node reports Ready with real capacity; a --runtime none node says why it is not', async () => {
    const node = await waitFor('pib Ready', async () => {
      const n = (await b.get(NODES, undefined, 'pib')) as NodeView;
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : null;
    });
    assert.equal(node.status?.capacity?.['cpu'], String(availableParallelism()));
    assert.match(node.status?.capacity?.['memory'] ?? '', /^\d+Ki$/);
    assert.match(node.status?.nodeInfo?.containerRuntimeVersion ?? '', /^docker:\/\/\d+/);
    assert.equal(node.metadata.labels?.['kubernetes.io/arch'], 'amd64');
    const idle = (await waitFor('pia registered', async () => ((await a.get(NODES, undefined, 'pia')) as NodeView).status?.conditions ? ((await a.get(NODES, undefined, 'pia')) as NodeView) : null));
    const ready = idle.status?.conditions?.find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'NoContainerRuntime']);
  });

  test('a pod bound to the node runs with podIP and container statuses; delete removes its containers', async () => {
    await a.create(PODS, pod('web', 'pib'));
    const web = await running(a, 'web');
    assert.match(web.status?.podIP ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(web.status?.hostIP, '127.0.0.1');
    assert.match(web.status?.containerStatuses?.[0]?.containerID ?? '', /^docker:\/\//);
    assert.equal((await containersOf(worker.dataDir, web.metadata.uid ?? '')).length, 2, 'the pause container and main');
    await a.delete(PODS, 'default', 'web');
    await waitFor('web removed', () => gone(a, 'web'), 30_000);
    assert.deepEqual(await containersOf(worker.dataDir, web.metadata.uid ?? ''), []);
  });

  test('an idle cluster with a running pod writes nothing to the store', async () => {
    await a.create(PODS, pod('steady', 'pib'));
    await running(a, 'steady');
    const revision = async () => (await a.list(NAMESPACES)).resourceVersion;
    // Let the status written on Running settle, then watch several node-status checks pass.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = await revision();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(await revision(), before);
  });

  test('a restart of the node process keeps running containers; pods deleted meanwhile lose theirs', async () => {
    await a.create(PODS, pod('doomed', 'pib'));
    const doomed = await running(a, 'doomed');
    const steady = await running(a, 'steady');
    const steadyContainer = steady.status?.containerStatuses?.[0]?.containerID;
    await worker.kill('SIGKILL');
    // Force delete through another member: the object goes at once, the containers stay behind.
    // (pib may have been the Raft leader: a request in flight while the others elect a new one
    // answers 500 "outcome unknown", so it is tried again.)
    await waitFor('doomed force-deleted', async () => {
      try {
        await a.delete(PODS, 'default', 'doomed', { gracePeriodSeconds: 0 });
        return true;
      } catch (error) {
        if (error instanceof ClientError && error.code === 404) return true;
        if (error instanceof ClientError && error.code === 500) return false;
        throw error;
      }
    }, 30_000);
    assert.equal((await containersOf(worker.dataDir, doomed.metadata.uid ?? '')).length, 2);
    const restartedAt = worker.log.length;
    worker.start();
    // The restarted process's own line, not the first start's (on a busy machine the restart takes a while).
    await waitFor('the restarted agent running pods', async () => worker.log.slice(restartedAt).some((line) => /node agent running pods on the Docker engine/.test(line)), 120_000);
    await waitFor('doomed containers removed', async () => (await containersOf(worker.dataDir, doomed.metadata.uid ?? '')).length === 0, 30_000);
    const after = await running(a, 'steady');
    assert.equal(after.status?.containerStatuses?.[0]?.containerID, steadyContainer);
    assert.equal(after.status?.containerStatuses?.[0]?.restartCount, 0);
  });
});

describe('node agent without a reachable Docker engine', () => {
  test('says what to do, keeps serving the API, and the Node is NotReady with the reason', async () => {
    const group = new ProcessGroup();
    try {
      const solo = await group.spawn('nodocker', {
        portNames: ['peer', 'client', 'api'],
        env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
        args: ({ ports, dataDir, name }) => ['up', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports['peer']}`, '--client-addr', `127.0.0.1:${ports['client']}`, '--api-addr', `127.0.0.1:${ports['api']}`, '--node-status-ms', '200'],
      });
      const warning = await solo.waitForLog(/cannot use the Docker engine/, 60_000);
      assert.match(warning, /systemctl start docker/);
      assert.match(warning, /--runtime none/);
      const client = adminClient(solo.dataDir);
      const node = await waitFor('nodocker registered', async () => {
        const n = (await client.get(NODES, undefined, 'nodocker')) as NodeView;
        return n.status?.conditions ? n : null;
      });
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      assert.deepEqual([ready?.status, ready?.reason], ['False', 'ContainerRuntimeUnreachable']);
      assert.ok(solo.running);
    } catch (error) {
      console.error(group.logs());
      throw error;
    } finally {
      await group.cleanup();
    }
  });
});
