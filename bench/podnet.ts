// npm run bench:podnet [-- --rounds 3 --requests 2000 --bytes 64 --bulk-seconds 3 --route-samples 5]
// The pod network (host-gw) on a test bed of 2 boards (own namespace, own Docker engine each,
// test/lib/boards.ts), each running `bramble up --pod-network host-gw`:
// - pod-to-pod across the boards vs board-to-board (the same two namespaces, no pods): TCP
//   request/response latency p50/p99 and bulk throughput, measured by the same program
//   (bench/lib/tcp-probe.mjs) run with nsenter in the pods' network namespaces, then in the boards'
//   own; rounds alternate the order so both see the same background load;
// - routes: the time from a Node's subnet being written to the route being in place on every board
//   (a Node created with spec.podCIDR and its InternalIP, as a board's own write would), and from a
//   Node created without one (the leader allocates it) to its route; `ip monitor route` in each
//   board's namespace timestamps the routes as the kernel gets them.
// Goals printed beside the figures (issue 17): pod traffic within 10 % of board-to-board, routes
// in place < 1 s. Figures only: never fails on a number.
import type { ChildProcess } from 'node:child_process';
import { Kinds, type KubeObject } from '../src/client/index.ts';
import { adminClient } from '../test/lib/api-node.ts';
import { type Board, BoardBed } from '../test/lib/boards.ts';
import { waitFor } from '../test/lib/wait.ts';
import { ROUTE_PROTOCOL } from '../src/net/routes.ts';
import { parseBenchFlags } from './lib/args.ts';
import { boardNet, LineMonitor, runProbe, startPodPair, startTcpServer, TCP_PROBE } from './lib/netns-probe.ts';
import { machineLine, withCluster } from './lib/run.ts';
import { formatTable, percentile, ratio, round } from './lib/stats.ts';

const flags = parseBenchFlags('npm run bench:podnet --', 'Pod-to-pod across boards vs board-to-board (latency, throughput), and Node subnet -> route in place, on a bed of 2 boards.', [
  { name: 'rounds', description: 'rounds of (pod, board) measurements, order alternating', defaultValue: 3, min: 1, max: 20 },
  { name: 'requests', description: 'request/response exchanges per measurement (the first tenth is warm-up)', defaultValue: 2000, min: 100, max: 100000 },
  { name: 'bytes', description: 'request (and echoed response) size', defaultValue: 64, min: 1, max: 65536 },
  { name: 'bulk-seconds', description: 'seconds of bulk sending per measurement', defaultValue: 3, min: 1, max: 60 },
  { name: 'route-samples', description: 'Nodes created per route-timing variant', defaultValue: 5, min: 1, max: 25 },
], ['npm run bench:podnet', 'npm run bench:podnet -- --rounds 5 --bulk-seconds 5']);

interface Path {
  label: 'pod' | 'board';
  clientNet: string;
  serverNet: string;
  serverIp: string;
}

interface RrResult { p50Ms: number; p99Ms: number }
interface BulkResult { mbitPerS: number }

/** Timestamps (performance.now) of the proto-170 routes each board's kernel gets, by destination. */
function routeMonitor(board: Board): { seen: Map<string, number>; gone: Map<string, number>; monitor: LineMonitor } {
  const seen = new Map<string, number>();
  const gone = new Map<string, number>();
  const monitor = new LineMonitor(board, ['ip', 'monitor', 'route'], (line, at) => {
    if (!line.includes(`proto ${ROUTE_PROTOCOL}`)) return;
    const deleted = line.startsWith('Deleted ');
    (deleted ? gone : seen).set(line.replace(/^Deleted /, '').split(' ')[0]!, at);
  });
  return { seen, gone, monitor };
}

function fakeNode(name: string, address: string, podCIDR?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'bench.bramble.io/podnet': 'probe' } },
    spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
    status: { addresses: [{ type: 'InternalIP', address }] },
  };
}

console.log(machineLine());
const bed = await BoardBed.create(2);
const servers: ChildProcess[] = [];
const monitors: Array<ReturnType<typeof routeMonitor>> = [];
// Ctrl-C: bench/lib/run.ts stops the cluster and exits; the bed and these go at exit, by pid.
process.on('exit', () => {
  for (const server of servers) server.kill('SIGKILL');
  for (const { monitor } of monitors) monitor.stop();
});
try {
  await withCluster('podnet', async (group) => {
    const { dataDir, server, clientNet, serverNet } = await startPodPair(group, bed);
    const api = () => adminClient(dataDir);
    const [b0, b1] = [bed.board(0), bed.board(1)];
    const paths: Path[] = [
      { label: 'pod', clientNet, serverNet, serverIp: server.status?.podIP ?? '' },
      { label: 'board', clientNet: boardNet(b0), serverNet: boardNet(b1), serverIp: b1.host.ip },
    ];
    const ports = new Map<string, number>();
    for (const path of paths) {
      const { port, server: probeServer } = await startTcpServer(path.serverNet, path.serverIp, path.label);
      servers.push(probeServer);
      ports.set(path.label, port);
    }

    const rr = new Map<string, RrResult[]>(paths.map((p) => [p.label, []]));
    const bulk = new Map<string, BulkResult[]>(paths.map((p) => [p.label, []]));
    for (let round_ = 0; round_ < flags['rounds']!; round_++) {
      const order = round_ % 2 === 0 ? paths : [...paths].reverse();
      for (const path of order) {
        const port = ports.get(path.label)!;
        const r = await runProbe<RrResult>(path.clientNet, TCP_PROBE, ['rr', path.serverIp, String(port), String(flags['requests']), String(flags['bytes'])]);
        const b = await runProbe<BulkResult>(path.clientNet, TCP_PROBE, ['bulk', path.serverIp, String(port), String(flags['bulk-seconds'])]);
        rr.get(path.label)!.push(r);
        bulk.get(path.label)!.push(b);
        console.log(JSON.stringify({ round: round_ + 1, path: path.label, rr: r, bulk: b }));
      }
    }

    // Routes: each Node gets an address of the lab's subnet (routable on-link; nothing answers there).
    monitors.push(...bed.boards.map(routeMonitor));
    const labPrefix = bed.lab.bridgeIp.replace(/\.1$/, '.');
    const routeMs: Record<'written' | 'allocated', number[]> = { written: [], allocated: [] };
    for (let i = 0; i < flags['route-samples']! * 2; i++) {
      const variant = i % 2 === 0 ? 'written' : 'allocated';
      const name = `podnet-probe-${i}`;
      const podCIDR = variant === 'written' ? `10.42.${200 + i}.0/24` : undefined;
      const start = performance.now();
      const created = await api().create(Kinds.nodes, fakeNode(name, `${labPrefix}${200 + i}`, podCIDR));
      if (!(created['status'] as { addresses?: unknown[] } | undefined)?.addresses?.length) {
        throw new Error('a Node created with status.addresses came back without them: this bench needs the status kept on create');
      }
      const cidr = await waitFor(`${name}'s podCIDR`, async () => ((await api().get(Kinds.nodes, undefined, name))['spec'] as { podCIDR?: string }).podCIDR, 60_000, 20);
      // The allocated subnet comes back at every sample: only events after this sample's start count.
      const lastOnEveryBoard = (events: 'seen' | 'gone', since: number) => {
        const times = monitors.map((m) => m[events].get(cidr) ?? 0);
        return times.every((t) => t > since) ? Math.max(...times) : null;
      };
      const inPlace = await waitFor(`${name}'s route on every board`, () => lastOnEveryBoard('seen', start), 60_000, 10);
      routeMs[variant].push(inPlace - start);
      const deleting = performance.now();
      await api().delete(Kinds.nodes, undefined, name);
      const goneAt = await waitFor(`${name}'s route gone on every board`, () => lastOnEveryBoard('gone', deleting), 60_000, 10);
      console.log(JSON.stringify({ sample: i + 1, variant, podCIDR: cidr, routeInPlaceMs: round(inPlace - start), routeGoneAfterDeleteMs: round(goneAt - deleting) }));
    }

    const med = (values: number[]) => percentile([...values].sort((a, b) => a - b), 0.5);
    const row = (label: string) => {
      const r = rr.get(label)!;
      return [label, round(med(r.map((x) => x.p50Ms))), round(med(r.map((x) => x.p99Ms))), round(med(bulk.get(label)!.map((x) => x.mbitPerS)))];
    };
    const [pod, board] = [row('pod'), row('board')];
    console.log(`\nrequest/response ${flags['bytes']} B x ${flags['requests']}, bulk ${flags['bulk-seconds']} s; median over ${flags['rounds']} rounds`);
    console.log(formatTable(['path', 'rr p50 ms', 'rr p99 ms', 'bulk Mbit/s'], [pod, board, ['pod / board', ratio(pod[1] as number, board[1] as number), ratio(pod[2] as number, board[2] as number), ratio(pod[3] as number, board[3] as number)]]));
    console.log('goal: pod traffic within 10 % of board-to-board (latency ratio <= 1.10, throughput ratio >= 0.90)');
    console.log(`\nroute in place on every board (ms), ${flags['route-samples']} samples each`);
    console.log(formatTable(['from', 'p50', 'max'], (['written', 'allocated'] as const).map((v) => [v === 'written' ? 'Node with its subnet written' : 'Node created, leader allocates', round(med(routeMs[v])), round(Math.max(...routeMs[v]))])));
    console.log('goal: routes in place < 1000 ms');
  });
} finally {
  for (const server of servers) server.kill('SIGKILL');
  for (const { monitor } of monitors) monitor.stop();
  await bed.destroy();
}
