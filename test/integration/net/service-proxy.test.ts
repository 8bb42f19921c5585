// The Service proxy on real traffic. Three namespaces of a lab: a board (startServiceProxy writes
// its iptables there, from Services and EndpointSlices in a real store), a backend host (the pods: TCP
// servers on two ports, a UDP server) whose route to the service CIDR goes through the board, and
// a host outside. A client on the board reaches both endpoints through the ClusterIP; the outside
// host reaches the NodePort; the backend reaches itself through its own Service (hairpin); a jump
// deleted by hand comes back at the next resync; a terminating endpoint still serving is used when
// no other is left; with none serving the ClusterIP and the NodePort refuse at once; a UDP endpoint removed takes its conntrack flow with it; a deleted
// Service leaves nothing of itself.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { type Client, InProcessClient, Kinds, type KubeObject } from '../../../src/client/index.ts';
import { conntrackCommand, iptablesIo } from '../../../src/net/service-iptables.ts';
import { type PassResult, type RunningServiceProxy, startServiceProxy } from '../../../src/net/service-proxy.ts';
import { startInProcessNode, type InProcessNode } from '../../lib/inprocess-node.ts';
import { type NetnsHost, NetnsLab } from '../../lib/netns.ts';
import { waitFor } from '../../lib/wait.ts';

const PEERS = resolve(import.meta.dirname, '..', '..', 'fixtures', 'net-peers.mjs');
const CLUSTER_IP = '10.43.77.20';
const DNS_IP = '10.43.77.53';

/** One net-peers.mjs process in a namespace: its servers, and a client for calls from there. */
class Peer {
  private next = 0;
  private readonly waiting = new Map<string, (answer: { data?: string; error?: string }) => void>();
  private readonly ready: Promise<void>;
  constructor(
    readonly host: NetnsHost,
    readonly child: ChildProcessWithoutNullStreams,
  ) {
    let markReady: () => void = () => undefined;
    this.ready = new Promise((r) => (markReady = r));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'ready') return markReady();
      const answer = JSON.parse(line) as { id: string; data?: string; error?: string };
      this.waiting.get(answer.id)?.(answer);
      this.waiting.delete(answer.id);
    });
  }
  static async start(host: NetnsHost, servers: string[] = []): Promise<Peer> {
    const child = spawn('ip', ['netns', 'exec', host.netns, process.execPath, PEERS, ...servers], { env: { ...process.env, UDP_SRC_PORT: '40053' } });
    const peer = new Peer(host, child);
    await peer.ready;
    return peer;
  }
  call(kind: 'tcp' | 'udp', address: string, port: number): Promise<{ data?: string; error?: string }> {
    const id = `c${this.next++}`;
    return new Promise((r) => {
      this.waiting.set(id, r);
      this.child.stdin.write(`${id} ${kind} ${address} ${port}\n`);
    });
  }
}

let lab: NetnsLab;
let board: NetnsHost;
let node: InProcessNode;
let client: Client;
let proxy: RunningServiceProxy;
const peers: Peer[] = [];
let onBoard: Peer;
let backend: Peer;
let outside: Peer;
const passes: PassResult[] = [];

async function inHost(host: NetnsHost, command: string, args: string[]): Promise<string> {
  const result = await lab.exec(host, command, args);
  assert.equal(result.code, 0, `${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

const svc = (name: string, spec: object): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name }, spec });

type Conditions = { ready: boolean; serving: boolean; terminating: boolean };
const READY: Conditions = { ready: true, serving: true, terminating: false };

/** Writes (or replaces) an EndpointSlice of Service `service`: these addresses listen on this port. */
async function setSlice(service: string, slice: string, port: { name?: string; port: number; protocol?: string }, endpoints: Array<{ ip: string; conditions: Conditions }>): Promise<void> {
  const body = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: slice, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: e.conditions })),
    ports: [port],
  };
  const existing = await client.get(Kinds.endpointslices, 'default', slice).catch(() => undefined);
  if (existing) await client.update(Kinds.endpointslices, { ...body, metadata: existing.metadata });
  else await client.create(Kinds.endpointslices, body);
}

/** Waits for the rules to hold `what` on the board (polled from iptables-save there). */
async function rulesShow(what: string, holds: (saved: string) => boolean): Promise<void> {
  await waitFor(what, async () => holds(await inHost(board, 'iptables-save', [])), 60_000, 50);
}

before(async () => {
  lab = await NetnsLab.create(3);
  board = lab.host(0);
  const [backendHost, outsideHost] = [lab.host(1), lab.host(2)];
  await inHost(board, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  await inHost(board, 'ip', ['route', 'add', '10.43.0.0/16', 'dev', 'eth0']);
  // The backend is a pod of this board: its way to a ClusterIP is through the board.
  await inHost(backendHost, 'ip', ['route', 'add', '10.43.0.0/16', 'via', board.ip]);
  onBoard = await Peer.start(board);
  backend = await Peer.start(backendHost, ['tcp:8080:a', 'tcp:8081:b', 'udp:5353:dns-a', 'udp:5354:dns-b']);
  outside = await Peer.start(outsideHost);
  peers.push(onBoard, backend, outside);

  node = await startInProcessNode('svc-proxy');
  client = new InProcessClient(node.registry);
  await client.create(Kinds.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const inBoard = ['ip', 'netns', 'exec', board.netns];
  proxy = await startServiceProxy({
    client,
    clusterCidr: `${board.ip.split('.').slice(0, 3).join('.')}.0/24`,
    logger: pino({ level: 'silent' }),
    nodeAddresses: () => [board.ip],
    iptables: iptablesIo(inBoard),
    conntrack: conntrackCommand(inBoard),
    resyncMs: 300,
    onPass: (result) => passes.push(result),
  });
});

after(async () => {
  proxy?.stop();
  for (const peer of peers) peer.child.kill('SIGKILL');
  await node?.stop();
  await lab?.destroy();
});

test('ClusterIP from the board spreads over both endpoints; NodePort from outside; a pod reaching itself through its Service', async () => {
  const backendIp = lab.host(1).ip;
  await client.create(Kinds.services, svc('web', { type: 'NodePort', clusterIP: CLUSTER_IP, ports: [{ name: 'http', port: 80, nodePort: 30080 }] }));
  // Two slices, as a large Service has: their endpoints are merged.
  await setSlice('web', 'web-a', { name: 'http', port: 8080 }, [{ ip: backendIp, conditions: READY }]);
  await setSlice('web', 'web-b', { name: 'http', port: 8081 }, [{ ip: backendIp, conditions: READY }]);
  await rulesShow('both endpoints of web', (saved) => saved.includes(`${backendIp}:8080`) && saved.includes(`${backendIp}:8081`));

  const seen = new Set<string>();
  for (let i = 0; i < 60 && seen.size < 2; i++) {
    const answer = await onBoard.call('tcp', CLUSTER_IP, 80);
    assert.ok(answer.data === 'a' || answer.data === 'b', JSON.stringify(answer));
    seen.add(answer.data);
  }
  assert.deepEqual([...seen].sort(), ['a', 'b'], 'both endpoints answer through the ClusterIP');

  const viaNodePort = await outside.call('tcp', board.ip, 30080);
  assert.ok(viaNodePort.data === 'a' || viaNodePort.data === 'b', JSON.stringify(viaNodePort));

  const hairpin = await backend.call('tcp', CLUSTER_IP, 80);
  assert.ok(hairpin.data === 'a' || hairpin.data === 'b', `the backend reaches itself through its Service: ${JSON.stringify(hairpin)}`);

  const settled = passes.length;
  await waitFor('a resync pass that finds nothing to write', () => passes.slice(settled).some((p) => !p.applied && p.reasons.length === 0), 60_000);
});

test('a jump deleted by hand (an engine restart) is back at the next resync', async () => {
  const before = passes.length;
  await inHost(board, 'iptables', ['-t', 'nat', '-D', 'PREROUTING', '-m', 'comment', '--comment', 'bramble service portals', '-j', 'BRAMBLE-SERVICES']);
  await waitFor('a pass that repaired the PREROUTING jump', () => passes.slice(before).some((p) => p.applied && p.reasons.includes('jump nat PREROUTING')), 60_000);
  const answer = await outside.call('tcp', board.ip, 30080);
  assert.ok(answer.data === 'a' || answer.data === 'b', JSON.stringify(answer));
});

test('a rollout\'s last endpoint still serving while terminating is used; none serving: refused at once, not hanging', async () => {
  const backendIp = lab.host(1).ip;
  await client.delete(Kinds.endpointslices, 'default', 'web-b');
  await setSlice('web', 'web-a', { name: 'http', port: 8080 }, [{ ip: backendIp, conditions: { ready: false, serving: true, terminating: true } }]);
  await rulesShow('only the terminating endpoint', (saved) => saved.includes(`${backendIp}:8080`) && !saved.includes(`${backendIp}:8081`));
  assert.equal((await onBoard.call('tcp', CLUSTER_IP, 80)).data, 'a');

  await setSlice('web', 'web-a', { name: 'http', port: 8080 }, [{ ip: backendIp, conditions: { ready: false, serving: false, terminating: true } }]);
  await rulesShow('web rejecting', (saved) => saved.includes('default/web:http has no endpoints') && !saved.includes(':8080'));
  assert.equal((await onBoard.call('tcp', CLUSTER_IP, 80)).error, 'ECONNREFUSED');
  assert.equal((await outside.call('tcp', board.ip, 30080)).error, 'ECONNREFUSED');
});

test('a UDP endpoint replaced: its conntrack flow is deleted, the next datagram reaches the new one', async () => {
  const backendIp = lab.host(1).ip;
  // The slice first: a Service that had none and gets one has its flows deleted just after the
  // rules change (those made while it REJECTed), which could catch this test's first datagram.
  await setSlice('dns', 'dns-x', { name: 'dns', port: 5353, protocol: 'UDP' }, [{ ip: backendIp, conditions: READY }]);
  await client.create(Kinds.services, svc('dns', { clusterIP: DNS_IP, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }));
  await rulesShow('the dns rules', (saved) => saved.includes(`${backendIp}:5353`));
  assert.equal((await onBoard.call('udp', DNS_IP, 53)).data, 'dns-a');
  const flows = (): Promise<string> => inHost(board, 'conntrack', ['-L', '-p', 'udp', '--orig-dst', DNS_IP]);
  assert.match(await flows(), new RegExp(`sport=5353 dport=40053`), 'the flow to the first endpoint is tracked');

  await setSlice('dns', 'dns-x', { name: 'dns', port: 5354, protocol: 'UDP' }, [{ ip: backendIp, conditions: READY }]);
  await rulesShow('the new dns endpoint', (saved) => saved.includes(`${backendIp}:5354`) && !saved.includes(`${backendIp}:5353`));
  await waitFor('the flow to the old endpoint deleted', async () => !(await flows()).includes('sport=5353'), 60_000, 50);
  // Same client port: without the deletion this datagram would follow the old flow to dns-a.
  assert.equal((await onBoard.call('udp', DNS_IP, 53)).data, 'dns-b');
});

test('deleted Services leave none of their chains or rules', async () => {
  await client.delete(Kinds.services, 'default', 'web');
  await client.delete(Kinds.services, 'default', 'dns');
  await rulesShow('no trace of web and dns', (saved) => !saved.includes('default/web') && !saved.includes('default/dns') && !/:BRAMBLE-(SVC|SEP)-/.test(saved));
  const saved = await inHost(board, 'iptables-save', []);
  assert.ok(saved.includes(':BRAMBLE-SERVICES'), 'the top chains stay');
});
