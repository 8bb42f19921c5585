// The pod network end to end: two boards of the test bed (own namespace, own Docker engine), each
// running `bramble up --pod-network host-gw` against its own engine. Each Node gets a /24, pods get
// their IPs from it, a pod on board 0 reaches a pod on board 1 by pod IP and the server sees the
// client's pod IP; after a kill -9 and restart the board adopts its bridge and routes. The Service
// proxy started by the same net stage: a ClusterIP from a pod, a NodePort on both boards from outside.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Kinds, type KubeObject } from '../../../src/client/index.ts';
import { adminClient } from '../../lib/api-node.ts';
import { type Board, BoardBed } from '../../lib/boards.ts';
import { groupBundle } from '../../lib/bramble-cluster.ts';
import { quickRaftTiming } from '../../lib/control-cluster.ts';
import { SLEEPER_COMMAND, testImages } from '../../lib/images.ts';
import { freePort } from '../../lib/ports.ts';
import { type ManagedProcess, ProcessGroup, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';
import { POD_NETWORK_NAME } from '../../../src/net/pod-bridge.ts';
import { ROUTE_PROTOCOL } from '../../../src/net/routes.ts';

const execFileAsync = promisify(execFile);
let bed: BoardBed;
const group = new ProcessGroup();
const members: ManagedProcess[] = [];

before(async () => {
  bed = await BoardBed.create(2);
  const bundleDir = await groupBundle(group);
  const ports = await Promise.all(bed.boards.map(async () => ({ peer: await freePort(), client: await freePort(), api: await freePort() })));
  const initialCluster = bed.boards.map((board, i) => `b${i}=${board.host.ip}:${ports[i]!.peer}`).join(',');
  for (const [i, board] of bed.boards.entries()) {
    const own = ports[i]!;
    members.push(
      await group.spawn(`b${i}`, {
        netns: board.host.netns,
        env: { DOCKER_HOST: board.dockerHost },
        args: ({ dataDir }) => [
          'up', '--name', `b${i}`, '--data-dir', dataDir, '--peer-addr', `${board.host.ip}:${own.peer}`, '--client-addr', `${board.host.ip}:${own.client}`,
          '--api-addr', `${board.host.ip}:${own.api}`, '--initial-cluster', initialCluster, '--bundle', bundleDir,
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

interface PodView extends KubeObject {
  status?: { phase?: string; podIP?: string; containerStatuses?: { containerID?: string }[] };
}

const api = () => adminClient(members[0]!.dataDir);

function podSpec(name: string, nodeName: string, command: string[]): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName, containers: [{ name: 'main', image: testImages.amd64, imagePullPolicy: 'Never', command }] } };
}

async function running(name: string): Promise<PodView> {
  return waitFor(`pod ${name} running with an IP`, async () => {
    const pod = (await api().get(Kinds.pods, 'default', name).catch(() => null)) as PodView | null;
    return pod?.status?.phase === 'Running' && pod.status.podIP && pod.status.containerStatuses?.[0]?.containerID ? pod : null;
  }, STARTUP_TIMEOUT_MS, 200);
}

const containerOf = (pod: PodView): string => (pod.status?.containerStatuses?.[0]?.containerID ?? '').replace('docker://', '');

async function podCidrOf(name: string): Promise<string> {
  return ((await api().get(Kinds.nodes, undefined, name))['spec'] as { podCIDR: string }).podCIDR;
}

/** A container's output, both streams (httpd -vv logs its clients to stderr). */
async function engineLogs(board: Board, id: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync('docker', ['-H', board.dockerHost, 'logs', id], { encoding: 'utf8' }).catch(() => ({ stdout: '', stderr: '' }));
  return stdout + stderr;
}

/**
 * An HTTP GET from a pod by its container (busybox nc: the static busybox's wget crashes in a pod,
 * in its name-service lookup, before it sends anything).
 */
async function fetchFrom(client: Board, clientPod: PodView, ip: string): Promise<string> {
  const request = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 8080`;
  return waitFor(`http://${ip}:8080/ from ${clientPod.metadata.name}`, async () => {
    const reply = await bed.docker(client, ['exec', containerOf(clientPod), 'sh', '-c', request]).catch(() => '');
    return reply.includes('hello-from-b1') ? reply : null;
  }, 60_000, 500);
}

test('pods get IPs from their board\'s subnet and reach each other across boards with their own IPs', { timeout: 300_000 }, async () => {
  const [b0, b1] = [bed.board(0), bed.board(1)];
  const [cidr0, cidr1] = [await podCidrOf('b0'), await podCidrOf('b1')];
  assert.notEqual(cidr0, cidr1);
  await api().create(Kinds.pods, podSpec('server', 'b1', ['sh', '-c', 'mkdir -p /www && echo hello-from-b1 > /www/index.html && exec httpd -f -vv -p 8080 -h /www']));
  await api().create(Kinds.pods, podSpec('client', 'b0', SLEEPER_COMMAND));
  const [server, client] = [await running('server'), await running('client')];
  const prefix = (cidr: string) => cidr.replace(/0\/24$/, '');
  assert.ok(server.status?.podIP?.startsWith(prefix(cidr1)), `server IP ${server.status?.podIP} not in ${cidr1}`);
  assert.ok(client.status?.podIP?.startsWith(prefix(cidr0)), `client IP ${client.status?.podIP} not in ${cidr0}`);

  const routes = (await bed.lab.exec(b0.host, 'ip', ['-4', 'route', 'show', 'proto', String(ROUTE_PROTOCOL)])).stdout;
  assert.match(routes, new RegExp(`${cidr1.replaceAll('.', '\\.')} via ${b1.host.ip.replaceAll('.', '\\.')}`));

  assert.match(await fetchFrom(b0, client, server.status?.podIP ?? ''), /200 OK[\s\S]*hello-from-b1/);
  const log = await waitFor('the server log naming the client pod IP', async () => {
    const logs = await engineLogs(b1, containerOf(server));
    return logs.includes(client.status?.podIP ?? '?') ? logs : null;
  }, 30_000, 200);
  assert.ok(!log.includes(b0.host.ip), `the server saw board 0's address:\n${log}`);
});

test('board 1 killed -9 and restarted adopts its bridge and routes; its pod keeps its IP and is reached again', { timeout: 300_000 }, async () => {
  const [b0, b1] = [bed.board(0), bed.board(1)];
  const server = await running('server');
  const client = await running('client');
  const routesBefore = (await bed.lab.exec(b1.host, 'ip', ['-4', 'route', 'show', 'proto', String(ROUTE_PROTOCOL)])).stdout;
  await members[1]!.kill('SIGKILL');
  members[1]!.start();
  const line = await members[1]!.waitForLog(/pod network in place/, STARTUP_TIMEOUT_MS);
  assert.match(line, /"action":"adopted"/);
  const networks = (await bed.docker(b1, ['network', 'ls', '--filter', `name=^${POD_NETWORK_NAME}$`, '--quiet'])).trim().split('\n');
  assert.equal(networks.length, 1);
  assert.equal((await bed.lab.exec(b1.host, 'ip', ['-4', 'route', 'show', 'proto', String(ROUTE_PROTOCOL)])).stdout, routesBefore, 'the same routes, none doubled');
  const after = await running('server');
  assert.equal(after.status?.podIP, server.status?.podIP);
  assert.match(await fetchFrom(b0, client, server.status?.podIP ?? ''), /200 OK[\s\S]*hello-from-b1/);
});

/** The body of GET / from the lab host (outside the cluster), or null on any failure. */
function getFromLab(host: string, port: number): Promise<string | null> {
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

test('the Service proxy of bramble up: a ClusterIP from a pod on the other board, the NodePort on both boards from outside', { timeout: 300_000 }, async () => {
  const [b0, b1] = [bed.board(0), bed.board(1)];
  const server = await running('server');
  const client = await running('client');
  // No selector: the Endpoints are written here, so this test does not wait for the endpoints controller.
  await api().create(Kinds.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'NodePort', clusterIP: '10.43.0.80', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] } });
  await api().create(Kinds.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets: [{ addresses: [{ ip: server.status?.podIP ?? '' }], ports: [{ port: 8080 }] }] });
  const request = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 10.43.0.80 80`;
  await waitFor('the server through its ClusterIP from the pod on board 0', async () => {
    const reply = await bed.docker(b0, ['exec', containerOf(client), 'sh', '-c', request]).catch(() => '');
    return reply.includes('hello-from-b1');
  }, 60_000, 500);
  for (const board of [b0, b1]) {
    await waitFor(`the NodePort on ${board.host.ip} from the lab host`, async () => (await getFromLab(board.host.ip, 30080))?.includes('hello-from-b1'), 60_000, 500);
  }
});
