// Services and the cluster DNS end to end on one bed of three boards (own namespace, own Docker
// engine each), every board running `bramble up --pod-network host-gw` (the pod network, the
// Service proxy and the DNS server of each board), driven with the real kubectl 1.32. The tests run
// in order on the same cluster: a Deployment of three busybox httpd pods, one per board, exposed
// and reached from a pod on board 1 by short name, namespace name, full name and ClusterIP, load
// spread over all three; a NodePort from outside on every board; a headless Service without the
// not-ready pod; a name outside the cluster on this offline bed; board 2 killed and unplugged; the
// Deployment scaled to 0.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Kinds, type KubeObject } from '../../../src/client/index.ts';
import { adminClient } from '../../lib/api-node.ts';
import { type BoardCluster, boardPod, containerOf, getFromLab, type PodView, runningPod, startBoardCluster } from '../../lib/board-cluster.ts';
import { type Board, BoardBed } from '../../lib/boards.ts';
import { SLEEPER_COMMAND, testImages } from '../../lib/images.ts';
import { kubectlOk } from '../../lib/kubectl.ts';
import { ProcessGroup } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';
import { SERVICE_ROUTE_PROTOCOL } from '../../../src/net/service-route.ts';

const execFileAsync = promisify(execFile);
let bed: BoardBed;
let cluster: BoardCluster;
const group = new ProcessGroup();
/** Short enough for the kill test, long enough that a board slowed by a busy machine keeps its pods. */
const NODE_GRACE_MS = 10_000;

before(async () => {
  bed = await BoardBed.create(3, [testImages.amd64]);
  cluster = await startBoardCluster(group, bed, '10.42.0.0/16', ['--node-grace-ms', String(NODE_GRACE_MS)]);
});
after(async () => {
  if (process.exitCode) process.stderr.write(group.logs());
  await group.cleanup();
  await bed.destroy();
});

const dataDir0 = () => cluster.members[0]!.process.dataDir;
const api = () => adminClient(dataDir0());
const kubectl = (args: string[], input?: string) => kubectlOk(join(dataDir0(), 'kubeconfig'), args, input);
const apply = (object: KubeObject) => kubectl(['apply', '-f', '-'], JSON.stringify(object));
const ipOf = (pod: PodView): string => pod.status?.podIP ?? '';
const escape = (text: string) => text.replaceAll('.', '\\.');

/** busybox httpd on 8080 answering the pod's hostname (its pod name). */
const HTTPD = ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www'];
const WEB_LABELS = { app: 'web', tier: 'backend' };

/** A shell line in a pod, stdout and stderr together and the exit code last (never throws). */
async function shIn(board: Board, pod: PodView, script: string): Promise<string> {
  const args = ['-H', board.dockerHost, 'exec', containerOf(pod), 'sh', '-c', `${script} 2>&1; echo "exit=$?"`];
  const run = await execFileAsync('docker', args, { encoding: 'utf8', timeout: 60_000 }).catch((error: { stdout?: string; message: string }) => ({ stdout: `${error.stdout ?? ''}\n${error.message}` }));
  return run.stdout;
}

/** One HTTP GET through busybox nc (busybox wget segfaults here); the body's last line is the pod name. */
const getLine = (target: string, port = 80) => `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${target} ${port}`;

interface ServiceView extends KubeObject {
  spec: { clusterIP: string; ports: { port: number; nodePort?: number }[] };
}
const service = async (name: string) => (await api().get(Kinds.services, 'default', name)) as ServiceView;

/** The ready addresses of a Service's Endpoints, sorted. */
async function readyIPs(name: string): Promise<string[]> {
  const endpoints = (await api().get(Kinds.endpoints, 'default', name).catch(() => null)) as { subsets?: { addresses?: { ip: string }[] }[] } | null;
  return (endpoints?.subsets ?? []).flatMap((subset) => (subset.addresses ?? []).map((address) => address.ip)).sort();
}

async function webPods(): Promise<PodView[]> {
  const list = await api().list(Kinds.pods, { namespace: 'default', labelSelector: 'app=web' });
  return (list.items as PodView[]).filter((pod) => pod.status?.phase === 'Running' && pod.status.podIP && !pod.metadata.deletionTimestamp);
}

let client: PodView;
let clusterIP: string;
let web: PodView[];

test('a Deployment of 3 httpd pods on 3 boards exposed: from a pod on board 1 the short, namespace and full names and the ClusterIP answer; 60 requests reach all 3; the Service variables are in a pod started after it', { timeout: 600_000 }, async () => {
  await apply({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 3, selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: WEB_LABELS },
        spec: {
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } },
          containers: [{ name: 'httpd', image: testImages.amd64, imagePullPolicy: 'Never', command: HTTPD, ports: [{ containerPort: 8080 }] }],
        },
      },
    },
  });
  web = await waitFor('3 web pods running', async () => ((await webPods()).length === 3 ? webPods() : null), 300_000, 500);
  assert.deepEqual(web.map((pod) => pod.spec?.nodeName).sort(), ['b0', 'b1', 'b2']);
  await kubectl(['expose', 'deployment', 'web', '--port', '80', '--target-port', '8080']);
  clusterIP = (await service('web')).spec.clusterIP;
  assert.match(clusterIP, /^10\.43\.\d+\.\d+$/);
  await waitFor('the 3 web endpoints', async () => (await readyIPs('web')).join() === web.map(ipOf).sort().join(), 120_000, 200);

  const b1 = bed.board(1);
  await api().create(Kinds.pods, boardPod('client', 'b1', testImages.amd64, SLEEPER_COMMAND));
  client = await runningPod(dataDir0(), 'client');
  const names = new Set(web.map((pod) => pod.metadata.name ?? ""));
  for (const target of ['web', 'web.default', 'web.default.svc.cluster.local', clusterIP]) {
    const reply = await waitFor(`web through ${target} from board 1`, async () => {
      const out = await shIn(b1, client, getLine(target));
      return /200 OK/.test(out) ? out : null;
    }, 120_000, 500);
    assert.ok([...names].some((name) => reply.includes(name)), `${target}: ${reply}`);
  }
  const lookup = await shIn(b1, client, 'nslookup web.default.svc.cluster.local');
  assert.match(lookup, new RegExp(`Address:\\s+${escape(clusterIP)}\\b`), lookup);

  const spread = await shIn(b1, client, `for i in $(seq 60); do ${getLine('web')} | tail -n 1; done`);
  const served = spread.split('\n').filter((line) => names.has(line.trim()));
  assert.equal(served.length, 60, spread);
  assert.deepEqual(new Set(served.map((line) => line.trim())), names, 'every backend answered');

  const env = await shIn(b1, client, 'env');
  assert.match(env, new RegExp(`^WEB_SERVICE_HOST=${escape(clusterIP)}$`, 'm'));
  assert.match(env, /^WEB_SERVICE_PORT=80$/m);
  assert.match(env, new RegExp(`^WEB_PORT_80_TCP=tcp://${escape(clusterIP)}:80$`, 'm'));
  assert.match(env, /^KUBERNETES_SERVICE_HOST=10\.43\.0\.1$/m);
});

test('kubectl get svc shows CLUSTER-IP and 80:3xxxx/TCP, describe shows the endpoints; the NodePort answers from outside on every board, also one without a backend', { timeout: 300_000 }, async () => {
  // One pod on board 0 only: boards 1 and 2 hold no backend of this Service.
  await api().create(Kinds.pods, { ...boardPod('solo', 'b0', testImages.amd64, HTTPD), metadata: { name: 'solo', namespace: 'default', labels: { app: 'solo' } } });
  const solo = await runningPod(dataDir0(), 'solo');
  await kubectl(['expose', 'pod', 'solo', '--type', 'NodePort', '--port', '80', '--target-port', '8080']);
  const nodePort = (await service('solo')).spec.ports[0]!.nodePort!;
  assert.ok(nodePort >= 30000 && nodePort <= 32767, String(nodePort));
  const table = await kubectl(['get', 'svc']);
  assert.match(table, new RegExp(`^solo\\s+NodePort\\s+10\\.43\\.\\d+\\.\\d+\\s+<none>\\s+80:${nodePort}/TCP\\s`, 'm'), table);
  assert.match(table, new RegExp(`^web\\s+ClusterIP\\s+${escape(clusterIP)}\\s+<none>\\s+80/TCP\\s`, 'm'), table);
  const described = await kubectl(['describe', 'service', 'web']);
  for (const pod of web) assert.match(described, new RegExp(`Endpoints:.*${escape(ipOf(pod))}:8080`), described);
  assert.match(await kubectl(['describe', 'service', 'solo']), new RegExp(`NodePort:\\s+<unset>\\s+${nodePort}/TCP[\\s\\S]*Endpoints:\\s+${escape(ipOf(solo))}:8080`));
  await waitFor('the solo endpoint', async () => (await readyIPs('solo')).join() === ipOf(solo), 120_000, 200);
  for (const board of bed.boards) {
    const body = await waitFor(`the NodePort on board ${board.index} (${board.host.ip}) from the lab host`, () => getFromLab(board.host.ip, nodePort), 60_000, 500);
    assert.equal(body.trim(), 'solo');
  }
});

test('kubectl get pods -n kube-system: each board\'s built-in kube-proxy and coredns as mirror pods, Running 1/1', { timeout: 120_000 }, async () => {
  const wanted = bed.boards.flatMap((board) => [`kube-proxy-b${board.index}`, `coredns-b${board.index}`]).sort();
  const table = await waitFor('six Running mirror pods', async () => {
    const out = await kubectl(['get', 'pods', '-n', 'kube-system', '-o', 'wide']);
    const running = out.split('\n').filter((line) => /\s1\/1\s+Running\s/.test(line)).map((line) => line.split(/\s+/)[0]!).sort();
    return JSON.stringify(running) === JSON.stringify(wanted) ? out : null;
  }, 60_000, 500);
  for (const board of bed.boards) assert.match(table, new RegExp(`^kube-proxy-b${board.index}\\s.*\\s${escape(board.host.ip)}\\s+b${board.index}\\s`, 'm'), table);
  assert.match(await kubectl(['describe', 'pod', '-n', 'kube-system', 'coredns-b0']), /bramble\.io\/built-in:\s+the cluster DNS inside bramble up on b0/);
});

test('a headless Service: nslookup gives the ready pod IPs, not the not-ready pod', { timeout: 300_000 }, async () => {
  const b1 = bed.board(1);
  await api().create(Kinds.pods, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unready', namespace: 'default', labels: { tier: 'backend' } },
    spec: { nodeName: 'b0', containers: [{ name: 'main', image: testImages.amd64, imagePullPolicy: 'Never', command: HTTPD, readinessProbe: { exec: { command: ['false'] }, periodSeconds: 1 } }] },
  });
  const unready = await runningPod(dataDir0(), 'unready');
  await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend', namespace: 'default' }, spec: { clusterIP: 'None', selector: { tier: 'backend' }, ports: [{ port: 8080 }] } });
  // The controller has seen the not-ready pod (listed as not ready) before the answer is read.
  await waitFor('the headless endpoints: 3 ready, the unready pod not ready', async () => {
    const endpoints = (await api().get(Kinds.endpoints, 'default', 'backend').catch(() => null)) as { subsets?: { notReadyAddresses?: { ip: string }[] }[] } | null;
    const notReady = (endpoints?.subsets ?? []).flatMap((subset) => subset.notReadyAddresses ?? []).map((a) => a.ip);
    return (await readyIPs('backend')).join() === web.map(ipOf).sort().join() && notReady.includes(ipOf(unready));
  }, 120_000, 200);
  const answer = await waitFor('nslookup of the headless Service with 3 addresses', async () => {
    const out = await shIn(b1, client, 'nslookup backend.default.svc.cluster.local');
    return web.every((pod) => out.includes(ipOf(pod))) ? out : null;
  }, 60_000, 500);
  assert.ok(!answer.includes(ipOf(unready)), `the not-ready pod ${ipOf(unready)} is listed:\n${answer}`);
  const addresses = [...answer.matchAll(/Address:\s+(10\.42\.\d+\.\d+)/g)].map((m) => m[1]).sort();
  assert.deepEqual(addresses, web.map(ipOf).sort(), answer);
});

test('a name outside the cluster on this offline bed: a clean failure answer, not a timeout', { timeout: 120_000 }, async () => {
  const out = await shIn(bed.board(1), client, 'nslookup example.com');
  assert.doesNotMatch(out, /timed out|no servers could be reached/, out);
  assert.match(out, /SERVFAIL|NXDOMAIN|can't find|can't resolve/i, out);
  assert.match(out, /exit=[1-9]/, out);
});

test('board 2 killed -9 and unplugged: requests through the Service succeed again on every attempt; scaled to 0: connection refused at once', { timeout: 600_000 }, async () => {
  const b1 = bed.board(1);
  const lost = web.find((pod) => pod.spec?.nodeName === 'b2')!;
  await cluster.members[2]!.process.kill('SIGKILL');
  // The board is gone from the LAN too: its pods no longer answer (its engine would keep them running).
  await execFileAsync('ip', ['link', 'set', bed.board(2).host.bridgePort, 'down']);
  await waitFor(`board 2's pod ${ipOf(lost)} out of the web endpoints`, async () => !(await readyIPs('web')).includes(ipOf(lost)), NODE_GRACE_MS + 120_000, 500);
  // Evicted with the board's other pods: a dead board's kube-proxy is not shown Running.
  await waitFor('board 2\'s mirror pods gone', async () => !(await kubectl(['get', 'pods', '-n', 'kube-system'])).includes('-b2 '), 120_000, 500);
  const survivors = new Set(web.filter((pod) => pod !== lost).map((pod) => pod.metadata.name));
  // Every attempt of a round of 20 must succeed; rounds repeat until the rules of board 1 follow.
  const round = await waitFor('20 requests in a row through the Service from board 1', async () => {
    const out = await shIn(b1, client, `for i in $(seq 20); do ${getLine('web')} | tail -n 1; done`);
    const lines = out.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('exit='));
    return lines.length === 20 && lines.every((line) => survivors.has(line)) ? lines : null;
  }, 120_000, 500);
  assert.equal(round.length, 20);

  await kubectl(['scale', 'deployment', 'web', '--replicas', '0']);
  await waitFor('no web endpoint', async () => (await readyIPs('web')).length === 0, 120_000, 200);
  let last = '';
  const refused = await waitFor('connection refused through the ClusterIP', async () => {
    last = await shIn(b1, client, `nc -w 10 ${clusterIP} 80 </dev/null`);
    return /refused/i.test(last) ? last : null;
  }, 60_000, 500).catch((error: Error) => assert.fail(`${error.message}; nc said: ${last}`));
  assert.match(refused, /exit=1/, refused);
  // What made it a refusal on this bed without a default route: the service CIDR routed into the pod bridge.
  const routes = await bed.lab.exec(b1.host, 'ip', ['route', 'show', 'proto', String(SERVICE_ROUTE_PROTOCOL)]);
  assert.match(routes.stdout, /^10\.43\.0\.0\/16 dev bramble0 /m, routes.stdout);
});
