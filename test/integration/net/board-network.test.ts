// A board's address and its network's honest limits, on the test bed (boards with their own
// namespace and Docker engine). Board 0's API listens on all addresses and board 1's on its LAN
// address, while both peer on their LAN address: each Node's InternalIP is its LAN address, and
// logs of a pod on board 0 asked of board 1 are forwarded to where board 0's API really listens.
// Board 2 sits on a second lab subnet (routed through this machine) with its API on loopback:
// NetworkUnavailable names the off-subnet peers on every board; board 0 restarted without
// iptables on its PATH, then with the legacy backend, and board 1 with ip_forward off, say so.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { asNode, Kinds, type KubeObject } from '../../../src/client/index.ts';
import { adminClient } from '../../lib/api-node.ts';
import { BoardBed } from '../../lib/boards.ts';
import { groupBundle } from '../../lib/bramble-cluster.ts';
import { quickRaftTiming } from '../../lib/control-cluster.ts';
import { testImages } from '../../lib/images.ts';
import { kubectlOk, runKubectl } from '../../lib/kubectl.ts';
import { freePort } from '../../lib/ports.ts';
import { type ManagedProcess, ProcessGroup, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';
import { ROUTE_PROTOCOL } from '../../../src/net/routes.ts';

const execFileAsync = promisify(execFile);
let bed: BoardBed;
/** Board 2's bed: a lab of its own, on another subnet. */
let farBed: BoardBed;
const group = new ProcessGroup();
const members: ManagedProcess[] = [];
const apiPorts: number[] = [];
/** The environment of each process, changed before a restart (PATH without iptables...). */
const envs: Record<string, string>[] = [];
/** Host FORWARD rules between the two labs, removed by their exact text. */
const forwardRules: string[][] = [];
let binDir = '';
/** Spawns board i's bramble (ports and flags fixed in before()). */
const specs: (() => Promise<ManagedProcess>)[] = [];

before(async () => {
  [bed, farBed] = await Promise.all([BoardBed.create(2), BoardBed.create(1)]);
  binDir = await mkdtemp(join(tmpdir(), 'brbin-'));
  // This machine routes between the labs (dockerd set ip_forward; its FORWARD policy is DROP).
  for (const [from, to] of [[bed.lab.bridge, farBed.lab.bridge], [farBed.lab.bridge, bed.lab.bridge]] as const) {
    const rule = ['FORWARD', '-i', from, '-o', to, '-j', 'ACCEPT'];
    await execFileAsync('iptables', ['-w', '-I', ...rule]);
    forwardRules.push(rule);
  }
  const subnet = (ip: string) => ip.replace(/\.\d+$/, '.0/24');
  for (const board of bed.boards) await bed.lab.exec(board.host, 'ip', ['route', 'add', subnet(farBed.board(0).host.ip), 'via', bed.lab.bridgeIp]);
  await farBed.lab.exec(farBed.board(0).host, 'ip', ['route', 'add', subnet(bed.board(0).host.ip), 'via', farBed.lab.bridgeIp]);

  const bundleDir = await groupBundle(group);
  const boards = [...bed.boards, farBed.board(0)];
  const ports = await Promise.all(boards.map(async () => ({ peer: await freePort(), client: await freePort(), api: await freePort() })));
  const initialCluster = boards.map((board, i) => `b${i}=${board.host.ip}:${ports[i]!.peer}`).join(',');
  const apiHosts = ['0.0.0.0', bed.board(1).host.ip, '127.0.0.1'];
  for (const [i, board] of boards.entries()) {
    const own = ports[i]!;
    apiPorts.push(own.api);
    envs.push({ DOCKER_HOST: board.dockerHost });
    specs.push(() =>
      group.spawn(`b${i}`, {
        netns: board.host.netns,
        env: envs[i]!,
        args: ({ dataDir }) => [
          'up', '--name', `b${i}`, '--data-dir', dataDir, '--peer-addr', `${board.host.ip}:${own.peer}`, '--client-addr', `${board.host.ip}:${own.client}`,
          '--api-addr', `${apiHosts[i]}:${own.api}`, '--initial-cluster', initialCluster, '--bundle', bundleDir,
          ...quickRaftTiming, '--runtime', 'docker', '--node-status-ms', '500', '--pod-network', 'host-gw', '--log-level', 'info',
        ],
      }),
    );
  }
  // Boards 0 and 1 first (a quorum of the three); board 2 starts in its own test.
  for (const spawn of specs.slice(0, 2)) members.push(await spawn());
  await Promise.all(members.slice(0, 2).map((member) => member.waitForLog(/pod network in place/, STARTUP_TIMEOUT_MS)));
});
after(async () => {
  if (process.exitCode) process.stderr.write(group.logs());
  await group.cleanup();
  for (const rule of forwardRules) await execFileAsync('iptables', ['-w', '-D', ...rule]).catch(() => undefined);
  if (binDir) await rm(binDir, { recursive: true, force: true });
  await Promise.all([bed?.destroy(), farBed?.destroy()]);
});

/** Board 1's API, on its LAN address (reachable from the test's namespace through the lab bridge). */
const api = () => adminClient(members[1]!.dataDir);

function internalIP(node: KubeObject): string | undefined {
  return asNode(node).status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

interface ConditionView {
  status?: string;
  reason?: string;
  message?: string;
}

/** Waits until the Node's NetworkUnavailable has this status and reason; returns it. */
async function networkUnavailable(name: string, status: string, reason: string): Promise<ConditionView> {
  let last: ConditionView | undefined;
  try {
    return await waitFor(`${name} NetworkUnavailable=${status} ${reason}`, async () => {
      const node = await api().get(Kinds.nodes, undefined, name).catch(() => null);
      last = node ? (asNode(node).status?.conditions as (ConditionView & { type: string })[] | undefined)?.find((c) => c.type === 'NetworkUnavailable') : undefined;
      return last?.status === status && last.reason === reason ? last : null;
    }, STARTUP_TIMEOUT_MS, 250);
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}

/** A directory of chosen commands, the PATH a board's bramble is restarted with. */
async function pathWith(name: string, links: Record<string, string>): Promise<string> {
  const dir = join(binDir, name);
  await execFileAsync('mkdir', ['-p', dir]);
  for (const [link, target] of Object.entries(links)) await symlink(target, join(dir, link));
  return dir;
}

async function restartWith(index: number, env: Record<string, string>): Promise<void> {
  const member = members[index]!;
  // kill -9: what a restart leaves is adopted (pod-network-boards.test.ts); quicker than a graceful stop.
  await member.kill('SIGKILL');
  Object.assign(envs[index]!, env);
  member.start();
  await member.waitForLog(/pod network in place/, STARTUP_TIMEOUT_MS);
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
  // Both boards on one subnet, everything in place.
  for (const name of ['b0', 'b1']) assert.equal((await networkUnavailable(name, 'False', 'RouteCreated')).message, 'host-gw: pod bridge, routes to the other boards and forwarding rules in place');
});

test('a board on another subnet: every board names the peers it cannot route to; its API on loopback is refused for forwarding with the flag to change', { timeout: 300_000 }, async () => {
  const [b0, b1, b2] = [bed.board(0), bed.board(1), farBed.board(0)];
  members.push(await specs[2]!());
  await members[2]!.waitForLog(/pod network in place/, STARTUP_TIMEOUT_MS);
  const node2 = await waitFor('b2 registered', () => api().get(Kinds.nodes, undefined, 'b2').catch(() => null), STARTUP_TIMEOUT_MS, 200);
  // Its API on 127.0.0.1, its peer address on its LAN: the InternalIP is the LAN one.
  assert.equal(internalIP(node2), b2.host.ip);
  const far = await networkUnavailable('b2', 'True', 'PeerNotOnLocalSubnet');
  assert.equal(
    far.message,
    `host-gw routes pods through the boards' own addresses, so all boards must share one LAN subnet: b0 (${b0.host.ip}, behind the gateway ${farBed.lab.bridgeIp}), b1 (${b1.host.ip}, behind the gateway ${farBed.lab.bridgeIp}) are not on a subnet this board is directly connected to, and their pods are not reachable from here. Put every board on one subnet (one switch, or an access point without client isolation)`,
  );
  for (const name of ['b0', 'b1']) assert.match((await networkUnavailable(name, 'True', 'PeerNotOnLocalSubnet')).message ?? '', new RegExp(`: b2 \\(${b2.host.ip.replaceAll('.', '\\.')}, behind the gateway ${bed.lab.bridgeIp.replaceAll('.', '\\.')}\\) is not on a subnet`));
  // The rest is not disturbed: board 0 still routes to board 1's pods, and to nothing of board 2's.
  const podCidr = async (name: string) => ((await api().get(Kinds.nodes, undefined, name))['spec'] as { podCIDR: string }).podCIDR;
  const routes = (await bed.lab.exec(b0.host, 'ip', ['-4', 'route', 'show', 'proto', String(ROUTE_PROTOCOL)])).stdout;
  assert.match(routes, new RegExp(`^${(await podCidr('b1')).replaceAll('.', '\\.')} via ${b1.host.ip.replaceAll('.', '\\.')} `, 'm'));
  assert.ok(!routes.includes(await podCidr('b2')), routes);

  await api().create(Kinds.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'far', namespace: 'default' }, spec: { nodeName: 'b2', containers: [{ name: 'main', image: testImages.amd64, imagePullPolicy: 'Never', command: ['sleep', '3600'] }] } });
  const refused = await runKubectl(['--kubeconfig', `${members[1]!.dataDir}/kubeconfig`, 'logs', 'far']);
  assert.notEqual(refused.code, 0);
  assert.equal(refused.stderr.trim(), `Error from server (ServiceUnavailable): node b2's API listens on 127.0.0.1:${apiPorts[2]} only, so no other board reaches it for logs, exec or metrics: restart it with --api-addr 0.0.0.0:${apiPorts[2]} or --api-addr ${b2.host.ip}:${apiPorts[2]}`);
});

test('board 0 restarted without iptables on its PATH, then with the legacy backend while its engine\'s chains are in nf_tables: NoIptables, then IptablesBackendMismatch', { timeout: 300_000 }, async () => {
  const ip = '/usr/sbin/ip';
  await restartWith(0, { PATH: await pathWith('no-iptables', { ip }) });
  const missing = await networkUnavailable('b0', 'True', 'NoIptables');
  assert.match(missing.message ?? '', /^the iptables command is not on this board's PATH: .*; also: host-gw routes pods through the boards' own addresses/);
  await restartWith(0, { PATH: await pathWith('legacy', { ip, iptables: '/usr/sbin/iptables-legacy', 'iptables-legacy': '/usr/sbin/iptables-legacy', 'iptables-nft': '/usr/sbin/iptables-nft' }) });
  const mismatch = await networkUnavailable('b0', 'True', 'IptablesBackendMismatch');
  assert.match(mismatch.message ?? '', /^this board's iptables uses the legacy backend but Docker's chains \(DOCKER-USER\) are in nf_tables: .* sudo update-alternatives --set iptables \/usr\/sbin\/iptables-nft, then restart docker and bramble/);
  // Board 1 is not disturbed: still only its off-subnet peer.
  assert.equal((await networkUnavailable('b1', 'True', 'PeerNotOnLocalSubnet')).reason, 'PeerNotOnLocalSubnet');
});

test('board 1 with ip_forward turned off: IpForwardingDisabled; back on: the condition follows', { timeout: 300_000 }, async () => {
  const b1 = bed.board(1);
  await bed.lab.exec(b1.host, 'sysctl', ['-w', 'net.ipv4.ip_forward=0']);
  try {
    assert.match((await networkUnavailable('b1', 'True', 'IpForwardingDisabled')).message ?? '', /^net\.ipv4\.ip_forward is 0: /);
  } finally {
    await bed.lab.exec(b1.host, 'sysctl', ['-w', 'net.ipv4.ip_forward=1']);
  }
  await networkUnavailable('b1', 'True', 'PeerNotOnLocalSubnet');
});
