// The pod network end to end on one bed of three boards (own namespace, own Docker engine each),
// every board running `bramble up --pod-network host-gw` against its own engine, plus a plain lab
// host outside the cluster. The tests run in order on the same cluster and pods: pod-to-pod across
// boards with the real pod IPs (kubectl shows them), egress masquerade to the LAN, kill -9 and
// restart adoption, an engine restart that loses the DOCKER-USER chain, a board removed from the
// cluster; someone else's routes and rules on board 0 stay as they were through all of it. The
// Service proxy started by the same net stage: a ClusterIP from a pod, a NodePort on two boards from
// outside.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Kinds } from '../../../src/client/index.ts';
import { adminClient } from '../../lib/api-node.ts';
import { type BoardCluster, boardPod, containerOf, getFromLab, type PodView, runningPod, startBoardCluster } from '../../lib/board-cluster.ts';
import { type Board, BoardBed } from '../../lib/boards.ts';
import { bramble } from '../../lib/commands.ts';
import { SLEEPER_COMMAND, testImages } from '../../lib/images.ts';
import { kubectlOk } from '../../lib/kubectl.ts';
import { freePort } from '../../lib/ports.ts';
import { ProcessGroup, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';
import { FORWARD_COMMENT } from '../../../src/net/forward.ts';
import { POD_NETWORK_NAME } from '../../../src/net/pod-bridge.ts';
import { ROUTE_PROTOCOL } from '../../../src/net/routes.ts';

const execFileAsync = promisify(execFile);
const CLUSTER_CIDR = '10.42.0.0/16';
let bed: BoardBed;
let cluster: BoardCluster;
const group = new ProcessGroup();

// Someone else's routes and rules on board 0, planted before Bramble starts: a static route to a
// subnet of the cluster CIDR no Node gets, an unrelated route, a DOCKER-USER rule and a nat rule.
const FOREIGN_ROUTES = [['10.42.200.0/24', 'proto', 'static'], ['192.0.2.0/24']];
const FOREIGN_RULES = [
  ['DOCKER-USER', '-s', '198.51.100.0/24', '-m', 'comment', '--comment', 'someone else', '-j', 'RETURN'],
  ['-t', 'nat', 'POSTROUTING', '-s', '10.42.200.0/24', '-m', 'comment', '--comment', 'someone else', '-j', 'MASQUERADE'],
];
let foreignBefore: string;

const inBoard = async (board: Board, command: string, args: string[]): Promise<string> => {
  const run = await bed.lab.exec(board.host, command, args);
  if (run.code !== 0) throw new Error(`${command} ${args.join(' ')} on board ${board.index}: ${run.stderr}`);
  return run.stdout;
};

/** Board 0's routes and rules that name the foreign subnets and comment, as text. */
async function foreignState(board: Board): Promise<string> {
  const routes = (await inBoard(board, 'ip', ['-4', 'route', 'show'])).split('\n').filter((l) => /10\.42\.200\.0|192\.0\.2\.0/.test(l));
  const rules = [...(await inBoard(board, 'iptables', ['-w', '-S', 'DOCKER-USER'])).split('\n'), ...(await inBoard(board, 'iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING'])).split('\n')];
  return [...routes, ...rules.filter((l) => l.includes('someone else'))].join('\n');
}

before(async () => {
  bed = await BoardBed.create(3, [testImages.amd64], 1);
  const b0 = bed.board(0);
  const via = bed.plainHost(0).ip;
  for (const route of FOREIGN_ROUTES) await inBoard(b0, 'ip', ['route', 'add', route[0]!, 'via', via, ...route.slice(1)]);
  for (const rule of FOREIGN_RULES) {
    const table = rule[0] === '-t' ? rule.slice(0, 2) : [];
    await inBoard(b0, 'iptables', ['-w', ...table, '-A', ...rule.slice(table.length)]);
  }
  foreignBefore = await foreignState(b0);
  assert.equal(foreignBefore.split('\n').length, 4, foreignBefore);

  // A board restarted on a busy machine may take longer than the default 4 s grace: its pods stay.
  cluster = await startBoardCluster(group, bed, CLUSTER_CIDR, ['--node-grace-ms', '300000']);
});
after(async () => {
  if (process.exitCode) process.stderr.write(group.logs());
  await group.cleanup();
  await bed.destroy();
});

const dataDir0 = () => cluster.members[0]!.process.dataDir;
const api = () => adminClient(dataDir0());
const kubectl = (...args: string[]) => kubectlOk(join(dataDir0(), 'kubeconfig'), args);
const re = (text: string) => new RegExp(text.replaceAll('.', '\\.'));
const running = (name: string, notContainer?: string) => runningPod(dataDir0(), name, notContainer);
const podSpec = (name: string, nodeName: string, command: string[]) => boardPod(name, nodeName, testImages.amd64, command);
const ipOf = (pod: PodView): string => pod.status?.podIP ?? '';

async function podCidrOf(name: string): Promise<string> {
  return ((await api().get(Kinds.nodes, undefined, name))['spec'] as { podCIDR: string }).podCIDR;
}

const ourRoutes = (board: Board) => inBoard(board, 'ip', ['-4', 'route', 'show', 'proto', String(ROUTE_PROTOCOL)]);

/** A container's output, both streams (httpd -vv logs its clients to stderr). */
async function engineLogs(board: Board, id: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync('docker', ['-H', board.dockerHost, 'logs', id], { encoding: 'utf8' }).catch(() => ({ stdout: '', stderr: '' }));
  return stdout + stderr;
}

/** An httpd pod answering its name (busybox httpd -vv logs each client's address). */
const httpd = (text: string) => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -vv -p 8080 -h /www`];

/** An HTTP GET over TCP from a pod with busybox nc (busybox wget segfaults in these pods). */
async function fetchFrom(board: Board, clientPod: PodView, ip: string, expect: string): Promise<string> {
  const request = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 8080`;
  return waitFor(`http://${ip}:8080/ from ${clientPod.metadata.name}`, async () => {
    const reply = await bed.docker(board, ['exec', containerOf(clientPod), 'sh', '-c', request]).catch(() => '');
    return reply.includes(expect) ? reply : null;
  }, 120_000, 500);
}

test('pods get IPs from their board\'s subnet, a pod on board 0 reaches a pod on board 2 (TCP, ping) with its own IP; kubectl shows IPs and PodCIDRs', { timeout: 300_000 }, async () => {
  const [b0, , b2] = bed.boards as [Board, Board, Board];
  const cidrs = await Promise.all(['b0', 'b1', 'b2'].map(podCidrOf));
  assert.equal(new Set(cidrs).size, 3, `three distinct subnets: ${cidrs.join(' ')}`);
  const pods = [podSpec('server2', 'b2', httpd('hello-from-b2')), podSpec('server1', 'b1', httpd('hello-from-b1')), podSpec('client', 'b0', SLEEPER_COMMAND)];
  await Promise.all(pods.map((pod) => api().create(Kinds.pods, pod)));
  const [server2, server1, client] = await Promise.all([running('server2'), running('server1'), running('client')]);
  const prefix = (cidr: string) => cidr.replace(/0\/24$/, '');
  for (const [pod, cidr] of [[client, cidrs[0]!], [server1, cidrs[1]!], [server2, cidrs[2]!]] as const) {
    assert.ok(ipOf(pod).startsWith(prefix(cidr)), `${pod.metadata.name} IP ${ipOf(pod)} not in ${cidr}`);
  }
  await waitFor('board 0 routes to boards 1 and 2', async () => {
    const routes = await ourRoutes(b0);
    return re(`${cidrs[1]} via ${bed.board(1).host.ip}`).test(routes) && re(`${cidrs[2]} via ${b2.host.ip}`).test(routes);
  }, 60_000, 200);

  assert.match(await fetchFrom(b0, client, ipOf(server2), 'hello-from-b2'), /200 OK[\s\S]*hello-from-b2/);
  const ping = await bed.docker(b0, ['exec', containerOf(client), 'ping', '-c', '1', '-W', '5', ipOf(server2)]);
  assert.match(ping, /1 packets received/);
  const log = await waitFor('the server log naming the client pod IP', async () => {
    const logs = await engineLogs(b2, containerOf(server2));
    return logs.includes(ipOf(client)) ? logs : null;
  }, 30_000, 200);
  assert.ok(!log.includes(b0.host.ip), `the server saw board 0's address:\n${log}`);

  // Real kubectl: the pod IPs, the boards' addresses, the PodCIDRs.
  const table = await kubectl('get', 'pods', '-o', 'wide');
  for (const [pod, node] of [[client, 'b0'], [server1, 'b1'], [server2, 'b2']] as const) assert.match(table, new RegExp(`${pod.metadata.name}\\s.*\\s${ipOf(pod).replaceAll('.', '\\.')}\\s+${node}\\s`));
  const nodes = await kubectl('get', 'nodes', '-o', 'wide');
  for (const board of bed.boards) assert.match(nodes, new RegExp(`b${board.index}\\s.*\\s${board.host.ip.replaceAll('.', '\\.')}\\s`), nodes);
  const columns = await kubectl('get', 'nodes', '-o', 'custom-columns=NAME:.metadata.name,PODCIDR:.spec.podCIDR', '--no-headers');
  assert.deepEqual(columns.trim().split('\n').map((line) => line.split(/\s+/)), cidrs.map((cidr, i) => [`b${i}`, cidr]));
  const described = await kubectl('describe', 'node', 'b2');
  assert.match(described, re(`PodCIDR:\\s+${cidrs[2]}`));
  assert.match(described, re(`PodCIDRs:\\s+${cidrs[2]}`));
});

test('egress: a pod reaches a lab host outside the cluster, which has no route to the pods and sees board 0\'s address', { timeout: 180_000 }, async () => {
  const b0 = bed.board(0);
  const outside = bed.plainHost(0);
  const client = await running('client');
  const noRoute = await bed.lab.exec(outside, 'ip', ['route', 'get', ipOf(client)]);
  assert.notEqual(noRoute.code, 0, `the outside host routes to the pod: ${noRoute.stdout}`);
  const port = await freePort();
  const script = `require('node:net').createServer((s) => { console.log('peer ' + s.remoteAddress); s.end('outside\\n'); }).listen(${port}, '${outside.ip}', () => console.log('listening'))`;
  const server = spawn('ip', ['netns', 'exec', outside.netns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = '';
  server.stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
  try {
    await waitFor('the outside server listening', () => seen.includes('listening'), 60_000, 100);
    const reply = await waitFor('an answer from outside the cluster', () => bed.docker(b0, ['exec', containerOf(client), 'sh', '-c', `echo hi | nc -w 3 ${outside.ip} ${port}`]).catch(() => ''), 60_000, 500);
    assert.equal(reply.trim(), 'outside');
    const peers = seen.split('\n').filter((line) => line.startsWith('peer '));
    assert.ok(peers.length > 0 && peers.every((line) => line.endsWith(b0.host.ip)), `the outside server saw ${peers.join(', ')}`);
  } finally {
    server.kill('SIGKILL');
  }
});

test('board 1 killed -9 and restarted adopts its bridge and routes; its pod keeps its IP and is reached again', { timeout: 300_000 }, async () => {
  const [b0, b1] = [bed.board(0), bed.board(1)];
  const [server, client] = [await running('server1'), await running('client')];
  const routesBefore = await ourRoutes(b1);
  await cluster.members[1]!.process.kill('SIGKILL');
  cluster.members[1]!.process.start();
  const line = await cluster.members[1]!.process.waitForLog(/pod network in place/, STARTUP_TIMEOUT_MS);
  assert.match(line, /"action":"adopted"/);
  const networks = (await bed.docker(b1, ['network', 'ls', '--filter', `name=^${POD_NETWORK_NAME}$`, '--quiet'])).trim().split('\n');
  assert.equal(networks.length, 1);
  assert.equal(await ourRoutes(b1), routesBefore, 'the same routes, none doubled');
  assert.equal(ipOf(await running('server1')), ipOf(server));
  assert.match(await fetchFrom(b0, client, ipOf(server), 'hello-from-b1'), /200 OK[\s\S]*hello-from-b1/);
});

test('the Service proxy of bramble up: a ClusterIP from a pod on another board, the NodePort on two boards from outside', { timeout: 300_000 }, async () => {
  const [b0, b1] = [bed.board(0), bed.board(1)];
  const client = await running('client');
  // server1 gets a label the Service selects: its EndpointSlice comes from the leader's controller.
  await api().patch(Kinds.pods, 'default', 'server1', 'merge', { metadata: { labels: { app: 'web' } } });
  await api().create(Kinds.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'NodePort', selector: { app: 'web' }, clusterIP: '10.43.0.80', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] } });
  const request = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 10.43.0.80 80`;
  await waitFor('the server through its ClusterIP from the pod on board 0', async () => {
    const reply = await bed.docker(b0, ['exec', containerOf(client), 'sh', '-c', request]).catch(() => '');
    return reply.includes('hello-from-b1');
  }, 60_000, 500);
  for (const board of [b0, b1]) {
    await waitFor(`the NodePort on ${board.host.ip} from the lab host`, async () => (await getFromLab(board.host.ip, 30080))?.includes('hello-from-b1'), 60_000, 500);
  }
});

test('board 1\'s engine restarts without its DOCKER-USER chain: the accept rules come back and board 0 reaches board 1\'s pod again', { timeout: 300_000 }, async () => {
  const [b0, b1] = [bed.board(0), bed.board(1)];
  const [server, client] = [await running('server1'), await running('client')];
  const accepts = (args: string[]) => ['-w', ...args, 'DOCKER-USER', '-s', CLUSTER_CIDR, '-m', 'comment', '--comment', FORWARD_COMMENT, '-j', 'ACCEPT'];
  assert.equal((await bed.lab.exec(b1.host, 'iptables', accepts(['-C']))).code, 0);
  await bed.restartEngine(b1, async () => {
    // What a firewall reload does to the engine's chains: gone until the engine makes them again.
    await inBoard(b1, 'iptables', ['-w', '-D', 'FORWARD', '-j', 'DOCKER-USER']);
    await inBoard(b1, 'iptables', ['-w', '-F', 'DOCKER-USER']);
    await inBoard(b1, 'iptables', ['-w', '-X', 'DOCKER-USER']);
  });
  await waitFor('Bramble\'s accept rules back in board 1\'s DOCKER-USER', async () => (await bed.lab.exec(b1.host, 'iptables', accepts(['-C']))).code === 0, 120_000, 200);
  const again = await running('server1', containerOf(server));
  assert.match(await fetchFrom(b0, client, ipOf(again), 'hello-from-b1'), /200 OK[\s\S]*hello-from-b1/);
});

test('board 2 removed from the cluster and its Node deleted: its route leaves boards 0 and 1; foreign routes and rules on board 0 untouched', { timeout: 300_000 }, async () => {
  const cidr2 = await podCidrOf('b2');
  await cluster.members[2]!.process.kill('SIGKILL');
  const removed = await bramble(['cluster', 'remove', 'b2', '--bundle', cluster.bundleDir, '--endpoints', cluster.members.slice(0, 2).map((m) => m.clientAddr).join(',')], { cwd: resolve(import.meta.dirname, '..', '..', '..') });
  assert.equal(removed.code, 0, removed.stderr);
  await kubectl('delete', 'node', 'b2');
  for (const board of [bed.board(0), bed.board(1)]) {
    await waitFor(`board ${board.index}'s route to ${cidr2} gone`, async () => !(await ourRoutes(board)).includes(cidr2), 60_000, 200);
  }
  assert.match(await ourRoutes(bed.board(0)), re(`${await podCidrOf('b1')} via ${bed.board(1).host.ip}`), 'the route to board 1 stays');
  assert.equal(await foreignState(bed.board(0)), foreignBefore);
});
