// npm run bench:service [-- --rounds 3 --requests 2000 --connections 300 --rule-samples 20 --services 20 ...]
// Services and the cluster DNS on a test bed of boards (own namespace, own Docker engine each,
// test/lib/boards.ts), each running `bramble up --pod-network host-gw` (its proxy and DNS server):
// - a pod on board 0 talks to a pod on board 1, once by the pod's IP and once by a ClusterIP in
//   front of it, with the same program (bench/lib/tcp-probe.mjs): request/response on one
//   connection (the rules touch only its first packet) and a new connection per request (where
//   the DNAT and conntrack cost shows); rounds alternate the order;
// - endpoint change -> rules: an EndpointSlice's endpoint is rewritten and `xtables-monitor -e` in
//   every board's namespace timestamps the DNAT rule as the kernel gets it; `--services` other
//   Services are in place first, so a pass plans and applies a realistic rule set;
// - DNS: queries/s and latency of one board's server, asked from the pod on board 0 with a number
//   of queries in flight (bench/lib/dns-probe.mjs).
// Goals printed beside the figures (issue 18): ClusterIP overhead < 5 % over the pod IP, rules on
// every board p99 < 1 s, DNS p99 < 5 ms. Figures only: never fails on a number.
import type { ChildProcess } from 'node:child_process';
import { Kinds, type KubeObject } from '../src/client/index.ts';
import { adminClient } from '../test/lib/api-node.ts';
import { BoardBed } from '../test/lib/boards.ts';
import { waitFor } from '../test/lib/wait.ts';
import { parseBenchFlags } from './lib/args.ts';
import { DNS_PROBE, LineMonitor, runProbe, startPodPair, startTcpServer, TCP_PROBE } from './lib/netns-probe.ts';
import { machineLine, sleep, withCluster } from './lib/run.ts';
import { formatTable, percentile, ratio, round } from './lib/stats.ts';

const flags = parseBenchFlags('npm run bench:service --', 'Pod -> ClusterIP vs pod -> pod IP, endpoint change -> rules on every board, and DNS queries/s, on a bed of boards.', [
  { name: 'boards', description: 'boards in the bed (each runs bramble up with its own Docker engine)', defaultValue: 2, min: 2, max: 5 },
  { name: 'rounds', description: 'rounds of (pod IP, ClusterIP) measurements, order alternating', defaultValue: 3, min: 1, max: 20 },
  { name: 'requests', description: 'request/response exchanges on one connection per measurement (the first tenth is warm-up)', defaultValue: 2000, min: 100, max: 100000 },
  { name: 'connections', description: 'connections (one exchange each) per measurement', defaultValue: 300, min: 20, max: 20000 },
  { name: 'services', description: 'other Services (two endpoints each) in place before the rule timing', defaultValue: 20, min: 0, max: 1000 },
  { name: 'rule-samples', description: 'endpoint rewrites timed to their rule on every board', defaultValue: 20, min: 1, max: 200 },
  { name: 'dns-seconds', description: 'seconds of DNS load per measurement', defaultValue: 5, min: 1, max: 60 },
  { name: 'dns-outstanding', description: 'DNS queries in flight under load (a second run keeps one)', defaultValue: 16, min: 1, max: 512 },
], ['npm run bench:service', 'npm run bench:service -- --services 200 --rule-samples 40', 'npm run bench:service -- --boards 3']);

interface LatencyResult { p50Ms: number; p99Ms: number }
interface DnsResult extends LatencyResult { queries: number; answers: number; timeouts: number; queriesPerS: number }

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Rule-timing endpoints: addresses of the pod range no pod has (the rules only need to exist). */
const probeEndpoint = (i: number): string => `10.42.250.${(i % 250) + 1}`;

function selectorlessService(name: string, port: number, targetPort: number): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'tcp', port, targetPort, protocol: 'TCP' }] } };
}

function slice(service: string, addresses: string[], port: number, nodeName?: string): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-bench`, namespace: 'default', labels: { [SERVICE_NAME_LABEL]: service } },
    addressType: 'IPv4',
    endpoints: addresses.map((address) => ({ addresses: [address], conditions: { ready: true, serving: true, terminating: false }, ...(nodeName ? { nodeName } : {}) })),
    ports: [{ name: 'tcp', port, protocol: 'TCP' }],
  };
}

/** When each board's kernel first got a DNAT rule to a destination (ip:port), by board. */
function dnatMonitors(bed: BoardBed): { seen: Array<Map<string, number>>; monitors: LineMonitor[] } {
  const seen = bed.boards.map(() => new Map<string, number>());
  const monitors = bed.boards.map((board, i) => new LineMonitor(board, ['xtables-monitor', '-e'], (line, at) => {
    const destination = /-j DNAT --to-destination (\S+)/.exec(line)?.[1];
    if (destination && line.includes(' -A ') && !seen[i]!.has(destination)) seen[i]!.set(destination, at);
  }));
  return { seen, monitors };
}

const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 0.5);

console.log(machineLine());
const bed = await BoardBed.create(flags['boards']!);
const children: Array<{ stop(): void }> = [];
// Ctrl-C: bench/lib/run.ts stops the cluster and exits; the bed and these go at exit, by pid.
process.on('exit', () => children.forEach((child) => child.stop()));
const killer = (child: ChildProcess) => ({ stop: () => child.kill('SIGKILL') });
try {
  await withCluster('service', async (group) => {
    const { dataDir, server, clientNet, serverNet } = await startPodPair(group, bed);
    const api = () => adminClient(dataDir);
    const podIP = server.status?.podIP ?? '';
    const { port, server: echo } = await startTcpServer(serverNet, podIP, 'pod');
    children.push(killer(echo));

    // The ClusterIP in front of the server pod: a selector-less Service and its slice, written here.
    const service = await api().create(Kinds.services, selectorlessService('bench-echo', 80, port));
    const clusterIP = (service['spec'] as { clusterIP: string }).clusterIP;
    await api().create(Kinds.endpointslices, slice('bench-echo', [podIP], port, 'b1'));
    const targets = [{ label: 'pod IP', ip: podIP, port }, { label: 'ClusterIP', ip: clusterIP, port: 80 }];
    await waitFor(`${clusterIP}:80 answering from board 0's pod`, () => runProbe<LatencyResult>(clientNet, TCP_PROBE, ['conn', clusterIP, '80', '1', '8']).then(() => true, () => false), 60_000, 200);

    const rr = new Map<string, LatencyResult[]>(targets.map((t) => [t.label, []]));
    const conn = new Map<string, LatencyResult[]>(targets.map((t) => [t.label, []]));
    for (let round_ = 0; round_ < flags['rounds']!; round_++) {
      for (const target of round_ % 2 === 0 ? targets : [...targets].reverse()) {
        const r = await runProbe<LatencyResult>(clientNet, TCP_PROBE, ['rr', target.ip, String(target.port), String(flags['requests']), '64']);
        const c = await runProbe<LatencyResult>(clientNet, TCP_PROBE, ['conn', target.ip, String(target.port), String(flags['connections']), '64']);
        rr.get(target.label)!.push(r);
        conn.get(target.label)!.push(c);
        console.log(JSON.stringify({ round: round_ + 1, target: target.label, requestResponse: r, connectionPerRequest: c }));
      }
    }

    // Endpoint change -> the DNAT rule on every board, with `--services` others in the rule set.
    // Every Service goes in first, waited for with iptables-save: a new Service rewrites the
    // Service list chain (one rule per Service), and a burst of hundreds of rule events overflows
    // xtables-monitor's netlink socket (ENOBUFS, events lost). A sample rewrites one Service's chain.
    for (let i = 0; i < flags['services']!; i++) {
      await api().create(Kinds.services, selectorlessService(`bench-other-${i}`, 80, 8080));
      await api().create(Kinds.endpointslices, slice(`bench-other-${i}`, [`10.42.251.${(i % 250) + 1}`, `10.42.252.${(i % 250) + 1}`], 8080));
    }
    await api().create(Kinds.services, selectorlessService('bench-rules', 80, 8080));
    let current = await api().create(Kinds.endpointslices, slice('bench-rules', [probeEndpoint(0)], 8080));
    const inPlace = [`--to-destination ${probeEndpoint(0)}:8080`, ...(flags['services']! > 0 ? [`--to-destination 10.42.252.${((flags['services']! - 1) % 250) + 1}:8080`] : [])];
    await waitFor('every Service\'s rules on every board', async () => {
      const saves = await Promise.all(bed.boards.map((board) => bed.lab.exec(board.host, 'iptables-save', ['-t', 'nat'])));
      return saves.every((save) => inPlace.every((rule) => save.stdout.includes(rule)));
    }, 300_000, 500);
    const { seen, monitors } = dnatMonitors(bed);
    children.push(...monitors);
    // xtables-monitor prints nothing until an event: give it a moment to subscribe before the first write.
    await sleep(1000);
    const rulesMs: number[] = [];
    for (let i = 1; i <= flags['rule-samples']!; i++) {
      const destination = `${probeEndpoint(i)}:8080`;
      seen.forEach((board) => board.delete(destination));
      const start = performance.now();
      current = await api().update(Kinds.endpointslices, { ...slice('bench-rules', [probeEndpoint(i)], 8080), metadata: { ...current.metadata } });
      const everywhere = await waitFor(`${destination} on every board`, () => {
        const times = seen.map((board) => board.get(destination) ?? 0);
        return times.every((t) => t > start) ? Math.max(...times) : null;
      }, 60_000, 5);
      rulesMs.push(everywhere - start);
      console.log(JSON.stringify({ sample: i, endpoint: destination, onEveryBoardMs: round(everywhere - start) }));
    }

    const dnsName = 'bench-echo.default.svc.cluster.local';
    const dns = [flags['dns-outstanding']!, 1].map((outstanding) => ({ outstanding, result: undefined as DnsResult | undefined }));
    for (const run of dns) {
      run.result = await runProbe<DnsResult>(clientNet, DNS_PROBE, ['10.43.0.10', dnsName, String(flags['dns-seconds']), String(run.outstanding)]);
      console.log(JSON.stringify({ dns: dnsName, outstanding: run.outstanding, ...run.result }));
    }

    const row = (label: string) => {
      const [r, c] = [rr.get(label)!, conn.get(label)!];
      return [label, round(median(r.map((x) => x.p50Ms))), round(median(r.map((x) => x.p99Ms))), round(median(c.map((x) => x.p50Ms))), round(median(c.map((x) => x.p99Ms)))];
    };
    const [viaPod, viaService] = [row('pod IP'), row('ClusterIP')];
    console.log(`\npod on b0 -> pod on b1, 64 B; ${flags['requests']} exchanges on one connection, ${flags['connections']} connections of one exchange; median over ${flags['rounds']} rounds`);
    console.log(formatTable(['to', 'rr p50 ms', 'rr p99 ms', 'conn p50 ms', 'conn p99 ms'], [viaPod, viaService, ['ClusterIP / pod IP', ...[1, 2, 3, 4].map((k) => ratio(viaService[k] as number, viaPod[k] as number))]]));
    console.log('goal: ClusterIP overhead < 5 % over the pod IP (ratio <= 1.05)');
    const sorted = [...rulesMs].sort((a, b) => a - b);
    console.log(`\nEndpointSlice write -> DNAT rule on all ${bed.boards.length} boards (ms), ${flags['services']} other Services, ${rulesMs.length} samples`);
    console.log(formatTable(['p50', 'p99', 'max'], [[round(percentile(sorted, 0.5)), round(percentile(sorted, 0.99)), round(sorted[sorted.length - 1]!)]]));
    console.log('goal: rules on every board p99 < 1000 ms');
    console.log(`\nDNS A ${dnsName} from the pod on b0 to its board's server, ${flags['dns-seconds']} s each`);
    console.log(formatTable(['in flight', 'answers/s', 'p50 ms', 'p99 ms', 'timeouts'], dns.map(({ outstanding, result }) => [outstanding, round(result!.queriesPerS), round(result!.p50Ms), round(result!.p99Ms), result!.timeouts])));
    console.log('goal: DNS p99 < 5 ms');
  });
} finally {
  children.forEach((child) => child.stop());
  await bed.destroy();
}
