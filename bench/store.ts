// npm run bench:store -- [--duration 8] [--warmup 1] [--keys 10000]
// A 3-member Bramble cluster and a 3-member etcd cluster, up together on the same machine
// (loopback, separate data dirs, fsync on): put and linearizable get at 1 and 64 concurrent
// clients, 8-byte keys and 256-byte values, measured alternately. Prints one JSON object per
// measurement, the Bramble/etcd ratios, then a table. Figures only: never fails on a number.
import { parseBenchFlags } from './lib/args.ts';
import { type BenchCluster, type BenchMember, defaultTimers, type SystemName, startSystem } from './lib/clusters.ts';
import { benchKey, benchValue, closedLoop } from './lib/load.ts';
import { sampleProcess } from './lib/proc.ts';
import { machineLine, withCluster } from './lib/run.ts';
import { formatTable, ratio, round, summarize } from './lib/stats.ts';

const flags = parseBenchFlags('npm run bench:store --', 'Bramble vs etcd, 3 members each: put and linearizable get throughput and latency at 1 and 64 clients.', [
  { name: 'duration', description: 'seconds measured per system, operation and concurrency', defaultValue: 8, min: 1, max: 600 },
  { name: 'warmup', description: 'seconds run and discarded before each measurement', defaultValue: 1, min: 0, max: 60 },
  { name: 'keys', description: 'distinct keys written (gets read the first 1000)', defaultValue: 10_000, min: 1_000, max: 1_000_000 },
], [
  'npm run bench:store                       # defaults: about 1.5 minutes',
  'npm run bench:store -- --duration 30      # steadier figures on a quiet machine',
]);

const systems: SystemName[] = ['bramble', 'etcd'];
const concurrencies = [1, 64];
const operations = ['put', 'get'] as const;
const preloadedKeys = 1_000;
const requestTimeoutMs = 10_000;

interface Measurement {
  bench: 'store';
  system: SystemName;
  version: string;
  op: (typeof operations)[number];
  clients: number;
  seconds: number;
  ops: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  /** CPU the bench process itself (the load generator and client library) spent per 1000 answered requests. */
  clientCpuMsPerKiloOp: number;
  /** CPU all three members together spent per 1000 answered requests (from /proc/<pid>/stat). */
  serverCpuMsPerKiloOp: number;
  firstError?: string;
}

interface Prepared {
  cluster: BenchCluster;
  leader: BenchMember;
  version: string;
}

async function prepare(cluster: BenchCluster): Promise<Prepared> {
  const leader = await cluster.waitForLeader(30_000);
  const version = await cluster.version();
  console.error(`${cluster.system} ${version}: leader ${leader.name}; clients talk to the leader`);
  const preload = cluster.client([leader], requestTimeoutMs);
  try {
    // The keys gets read exist before any measurement; 16 writers fill them.
    await Promise.all(Array.from({ length: 16 }, async (_, worker) => {
      for (let index = worker; index < preloadedKeys; index += 16) await preload.put(benchKey(index), benchValue);
    }));
  } finally {
    preload.close();
  }
  return { cluster, leader, version };
}

async function measure({ cluster, leader, version }: Prepared, op: (typeof operations)[number], clients: number): Promise<Measurement> {
  const client = cluster.client([leader], requestTimeoutMs);
  try {
    let counter = 0;
    const request = op === 'put'
      ? () => client.put(benchKey((counter++ * 7919) % flags.keys!), benchValue)
      : () => client.get(benchKey((counter++ * 7919) % preloadedKeys));
    if (flags.warmup! > 0) await closedLoop(clients, flags.warmup! * 1000, request);
    const serverCpuMs = () => cluster.members.reduce((sum, member) => sum + sampleProcess(member.process.pid!).cpuMs, 0);
    const serverCpuBeforeMs = serverCpuMs();
    const cpuBefore = process.cpuUsage();
    const loop = await closedLoop(clients, flags.duration! * 1000, request);
    const cpu = process.cpuUsage(cpuBefore);
    const serverCpuUsedMs = serverCpuMs() - serverCpuBeforeMs;
    const latency = summarize(loop.latenciesMs);
    const measurement: Measurement = {
      bench: 'store',
      system: cluster.system,
      version,
      op,
      clients,
      seconds: round(loop.elapsedMs / 1000),
      ops: latency.count,
      opsPerSec: round((latency.count * 1000) / loop.elapsedMs),
      p50Ms: round(latency.p50Ms),
      p99Ms: round(latency.p99Ms),
      maxMs: round(latency.maxMs),
      errors: loop.errors,
      clientCpuMsPerKiloOp: round((cpu.user + cpu.system) / Math.max(1, latency.count)),
      serverCpuMsPerKiloOp: round((serverCpuUsedMs * 1000) / Math.max(1, latency.count)),
      ...(loop.firstError ? { firstError: loop.firstError } : {}),
    };
    console.log(JSON.stringify(measurement));
    return measurement;
  } finally {
    client.close();
  }
}

console.error(machineLine());
console.error(`fsync on for both; Raft timers heartbeat ${defaultTimers.heartbeatMs} ms, election ${defaultTimers.electionMs} ms; ${flags.warmup} s warm-up + ${flags.duration} s per measurement`);
// Both clusters stay up (an idle cluster costs about 1 % of a core per member) and each
// measurement of one system is followed by the same one of the other, in alternating order, so
// both see the same background load on a shared machine and a drift in it favours neither.
const all = (await withCluster('bench:store bramble', (brambleGroup) =>
  withCluster('bench:store etcd', async (etcdGroup) => {
    const prepared: Prepared[] = [];
    for (const system of systems) prepared.push(await prepare(await startSystem(system, system === 'bramble' ? brambleGroup : etcdGroup, 3, defaultTimers)));
    const results: Measurement[] = [];
    let phase = 0;
    for (const clients of concurrencies) {
      for (const op of operations) {
        const order = phase++ % 2 === 0 ? prepared : [...prepared].reverse();
        for (const system of order) results.push(await measure(system, op, clients));
      }
    }
    return results;
  }),
)) ?? [];

const find = (system: SystemName, op: string, clients: number) => all.find((m) => m.system === system && m.op === op && m.clients === clients);
const rows: (string | number | null)[][] = [];
for (const op of operations) {
  for (const clients of concurrencies) {
    const bramble = find('bramble', op, clients);
    const etcd = find('etcd', op, clients);
    const ratios = {
      bench: 'store-ratio',
      op,
      clients,
      throughputBrambleOverEtcd: ratio(bramble?.opsPerSec ?? Number.NaN, etcd?.opsPerSec ?? Number.NaN),
      p50BrambleOverEtcd: ratio(bramble?.p50Ms ?? Number.NaN, etcd?.p50Ms ?? Number.NaN),
      p99BrambleOverEtcd: ratio(bramble?.p99Ms ?? Number.NaN, etcd?.p99Ms ?? Number.NaN),
    };
    console.log(JSON.stringify(ratios));
    rows.push([
      `${op} x${clients}`,
      bramble?.opsPerSec ?? null, etcd?.opsPerSec ?? null, ratios.throughputBrambleOverEtcd,
      bramble?.p50Ms ?? null, etcd?.p50Ms ?? null,
      bramble?.p99Ms ?? null, etcd?.p99Ms ?? null, ratios.p99BrambleOverEtcd,
      `${bramble?.errors ?? 'n/a'}/${etcd?.errors ?? 'n/a'}`,
      `${bramble?.serverCpuMsPerKiloOp ?? 'n/a'}/${etcd?.serverCpuMsPerKiloOp ?? 'n/a'}`,
      `${bramble?.clientCpuMsPerKiloOp ?? 'n/a'}/${etcd?.clientCpuMsPerKiloOp ?? 'n/a'}`,
    ]);
  }
}
console.log('');
console.log(formatTable(['op x clients', 'bramble ops/s', 'etcd ops/s', 'ratio', 'bramble p50 ms', 'etcd p50 ms', 'bramble p99 ms', 'etcd p99 ms', 'p99 ratio', 'errors b/e', 'server CPU ms/1k ops b/e', 'client CPU ms/1k ops b/e'], rows));
const put64 = ratio(find('bramble', 'put', 64)?.opsPerSec ?? Number.NaN, find('etcd', 'put', 64)?.opsPerSec ?? Number.NaN);
const put1p99 = ratio(find('bramble', 'put', 1)?.p99Ms ?? Number.NaN, find('etcd', 'put', 1)?.p99Ms ?? Number.NaN);
console.log('');
console.log(`target: put throughput at 64 clients >= etcd's: Bramble/etcd = ${put64 ?? 'n/a'}`);
console.log(`target: put p99 at 1 client <= 1.5 x etcd's: Bramble/etcd = ${put1p99 ?? 'n/a'}`);
