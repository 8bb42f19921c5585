// A board's address and its network's honest limits, on the test bed (boards with their own
// namespace and Docker engine). Board 0's API listens on all addresses and board 1's on its LAN
// address, while both peer on their LAN address: each Node's InternalIP is its LAN address, and
// logs of a pod on board 0 asked of board 1 are forwarded to where board 0's API really listens.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { asNode, Kinds, type KubeObject } from '../../../src/client/index.ts';
import { adminClient } from '../../lib/api-node.ts';
import { BoardBed } from '../../lib/boards.ts';
import { groupBundle } from '../../lib/bramble-cluster.ts';
import { quickRaftTiming } from '../../lib/control-cluster.ts';
import { testImages } from '../../lib/images.ts';
import { kubectlOk } from '../../lib/kubectl.ts';
import { freePort } from '../../lib/ports.ts';
import { type ManagedProcess, ProcessGroup, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

let bed: BoardBed;
const group = new ProcessGroup();
const members: ManagedProcess[] = [];
const apiPorts: number[] = [];

before(async () => {
  bed = await BoardBed.create(2);
  const bundleDir = await groupBundle(group);
  const ports = await Promise.all(bed.boards.map(async () => ({ peer: await freePort(), client: await freePort(), api: await freePort() })));
  const initialCluster = bed.boards.map((board, i) => `b${i}=${board.host.ip}:${ports[i]!.peer}`).join(',');
  const apiHosts = ['0.0.0.0', bed.board(1).host.ip];
  for (const [i, board] of bed.boards.entries()) {
    const own = ports[i]!;
    apiPorts.push(own.api);
    members.push(
      await group.spawn(`b${i}`, {
        netns: board.host.netns,
        env: { DOCKER_HOST: board.dockerHost },
        args: ({ dataDir }) => [
          'up', '--name', `b${i}`, '--data-dir', dataDir, '--peer-addr', `${board.host.ip}:${own.peer}`, '--client-addr', `${board.host.ip}:${own.client}`,
          '--api-addr', `${apiHosts[i]}:${own.api}`, '--initial-cluster', initialCluster, '--bundle', bundleDir,
          ...quickRaftTiming, '--runtime', 'docker', '--node-status-ms', '500', '--pod-network', 'host-gw', '--log-level', 'info',
        ],
      }),
    );
  }
  await Promise.all(members.map((member) => member.waitForLog(/pod network in place/, STARTUP_TIMEOUT_MS)));
});
after(async () => {
  if (process.exitCode) process.stderr.write(group.logs());
  await group.cleanup();
  await bed.destroy();
});

/** Board 1's API, on its LAN address (reachable from the test's namespace through the lab bridge). */
const api = () => adminClient(members[1]!.dataDir);

function internalIP(node: KubeObject): string | undefined {
  return asNode(node).status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

test('each Node\'s InternalIP is its board\'s LAN address; logs of a pod on board 0 asked of board 1 come through board 0\'s API on all addresses', { timeout: 300_000 }, async () => {
  const [b0, b1] = [bed.board(0), bed.board(1)];
  for (const [name, board] of [['b0', b0], ['b1', b1]] as const) {
    const node = await waitFor(`${name} registered`, () => api().get(Kinds.nodes, undefined, name).catch(() => null), STARTUP_TIMEOUT_MS, 200);
    assert.equal(internalIP(node), board.host.ip, name);
  }
  await api().create(Kinds.pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'talker', namespace: 'default' },
    spec: { nodeName: 'b0', containers: [{ name: 'main', image: testImages.amd64, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo hello-from-b0; exec sleep 3600'] }] },
  });
  const pod = await waitFor('talker running', async () => {
    const found = await api().get(Kinds.pods, 'default', 'talker').catch(() => null);
    return (found?.['status'] as { phase?: string } | undefined)?.phase === 'Running' ? found : null;
  }, STARTUP_TIMEOUT_MS, 200);
  assert.equal((pod['status'] as { hostIP?: string }).hostIP, b0.host.ip);
  const kubeconfig1 = `${members[1]!.dataDir}/kubeconfig`;
  const logs = await waitFor('the logs forwarded from b1 to b0', async () => {
    const out = await kubectlOk(kubeconfig1, ['logs', 'talker']).catch(() => '');
    return out.includes('hello-from-b0') ? out : null;
  }, 60_000, 500);
  assert.equal(logs.trim(), 'hello-from-b0');
  // Board 0's API on all addresses is verified at its LAN address too (its certificate names them).
  const nodes = await kubectlOk(`${members[0]!.dataDir}/kubeconfig`, ['--server', `https://${b0.host.ip}:${apiPorts[0]}`, 'get', 'nodes', '-o', 'wide']);
  assert.match(nodes, new RegExp(`b1 .* ${b1.host.ip.replaceAll('.', '\\.')} `));
});
