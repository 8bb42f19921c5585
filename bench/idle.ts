// npm run bench:idle -- [--duration 60] [--settle 5]
// A 3-member Bramble cluster and a 3-member etcd cluster, both up and idle at the same time (no
// client traffic at all during the window): per member RSS, CPU % and bytes written to disk
// (/proc/<pid>/io write_bytes, what the process sent to the block layer), extrapolated to an hour.
// Figures only: never fails on a number.
import { parseBenchFlags } from './lib/args.ts';
import { type BenchCluster, type BenchMember, defaultTimers, type SystemName, startSystem } from './lib/clusters.ts';
import { type ProcSample, sampleProcess } from './lib/proc.ts';
import { machineLine, sleep, withCluster } from './lib/run.ts';
import { formatTable, round } from './lib/stats.ts';

const flags = parseBenchFlags('npm run bench:idle --', 'Bramble vs etcd, 3 idle members each: RSS, CPU % and disk bytes written per hour per member.', [
  { name: 'duration', description: 'seconds of the measured idle window', defaultValue: 60, min: 5, max: 3_600 },
  { name: 'settle', description: 'seconds between the leader election and the window', defaultValue: 5, min: 0, max: 600 },
], [
  'npm run bench:idle                        # a 60 s window',
  'npm run bench:idle -- --duration 600      # ten minutes, catches rarer periodic writes',
]);
const systems: SystemName[] = ['bramble', 'etcd'];
const rssSampleIntervalMs = 1_000;
const mib = 2 ** 20;

interface MemberFigures {
  bench: 'idle';
  system: SystemName;
  member: string;
  pid: number;
  windowSeconds: number;
  cpuPercent: number;
  rssMeanMiB: number;
  rssMaxMiB: number;
  writeBytes: number;
  writeBytesPerHour: number;
  /** Written from the process start (data dir creation, election) to the window: shows the counter is live. */
  writeBytesBeforeWindow: number;
}

/** Samples every member for the window; the clusters of both systems are idle meanwhile. */
async function measureWindow(clusters: readonly BenchCluster[]): Promise<MemberFigures[]> {
  const members: { system: SystemName; member: BenchMember; pid: number; samples: ProcSample[] }[] = clusters.flatMap((cluster) =>
    cluster.members.map((member) => ({ system: cluster.system, member, pid: member.process.pid!, samples: [] as ProcSample[] })),
  );
  const take = () => {
    for (const entry of members) entry.samples.push(sampleProcess(entry.pid));
  };
  const windowMs = flags.duration! * 1000;
  const startMs = performance.now();
  take();
  while (performance.now() - startMs < windowMs) {
    await sleep(Math.min(rssSampleIntervalMs, windowMs - (performance.now() - startMs)));
    take();
  }
  return members.map(({ system, member, pid, samples }) => {
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const elapsedMs = last.atMs - first.atMs;
    const rss = samples.map((sample) => sample.rssBytes);
    const written = last.writeBytes - first.writeBytes;
    return {
      bench: 'idle',
      system,
      member: member.name,
      pid,
      windowSeconds: round(elapsedMs / 1000),
      cpuPercent: round(((last.cpuMs - first.cpuMs) / elapsedMs) * 100),
      rssMeanMiB: round(rss.reduce((sum, value) => sum + value, 0) / rss.length / mib),
      rssMaxMiB: round(Math.max(...rss) / mib),
      writeBytes: written,
      writeBytesPerHour: Math.round((written * 3_600_000) / elapsedMs),
      writeBytesBeforeWindow: first.writeBytes,
    };
  });
}

console.error(machineLine());
console.error(`both clusters idle side by side; ${flags.settle} s to settle after the election, then a ${flags.duration} s window; heartbeat ${defaultTimers.heartbeatMs} ms, election ${defaultTimers.electionMs} ms`);

// Nested so both clusters run at once and both are removed whatever happens.
const figures = await withCluster('bench:idle bramble', (brambleGroup) =>
  withCluster('bench:idle etcd', async (etcdGroup) => {
    const clusters = [await startSystem('bramble', brambleGroup, 3, defaultTimers), await startSystem('etcd', etcdGroup, 3, defaultTimers)];
    for (const cluster of clusters) await cluster.waitForLeader(30_000);
    await sleep(flags.settle! * 1000);
    return measureWindow(clusters);
  }),
);

const rows: (string | number | null)[][] = [];
for (const entry of figures ?? []) console.log(JSON.stringify(entry));
for (const system of systems) {
  const mine = (figures ?? []).filter((entry) => entry.system === system);
  const mean = (pick: (entry: MemberFigures) => number) => (mine.length ? mine.reduce((sum, entry) => sum + pick(entry), 0) / mine.length : Number.NaN);
  const max = (pick: (entry: MemberFigures) => number) => (mine.length ? Math.max(...mine.map(pick)) : Number.NaN);
  const summary = {
    bench: 'idle-summary',
    system,
    members: mine.length,
    cpuPercentMean: round(mean((entry) => entry.cpuPercent)),
    rssMeanMiB: round(mean((entry) => entry.rssMeanMiB)),
    rssMaxMiB: round(max((entry) => entry.rssMaxMiB)),
    writeBytesPerHourMean: Math.round(mean((entry) => entry.writeBytesPerHour)),
    writeBytesPerHourMax: max((entry) => entry.writeBytesPerHour),
  };
  console.log(JSON.stringify(summary));
  rows.push([system, summary.members, summary.cpuPercentMean, summary.rssMeanMiB, summary.rssMaxMiB, round(summary.writeBytesPerHourMean / mib), round(summary.writeBytesPerHourMax / mib)]);
}
console.log('');
console.log(formatTable(['system', 'members', 'CPU % (mean/member)', 'RSS MiB (mean)', 'RSS MiB (max)', 'MiB written/h (mean/member)', 'MiB written/h (max member)'], rows));
console.log('');
console.log('target: idle writes under 1 MB per hour per node');
