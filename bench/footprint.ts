// npm run bench:footprint -- [--duration 60] [--runs 3] [--settle 5]
// The checkout (Node + tsx over the TypeScript sources) next to the linux-x64 single executable
// (issue 19), as a board would run each: what is on disk (the executable and its xz size; the
// checkout's Node binary, src and node_modules), the time from spawn to `bramble node ready` of a
// full node (one-member cluster, the Kubernetes API, the node agent on the real Docker engine, the
// control plane; a fresh data dir each run, so it includes making the cluster's certificates), and
// the idle RSS and CPU % of that full node over a window. The two are measured one after the
// other, never at once. Figures only: never fails on a number.
// Goals from the issue: idle RSS under 80 MB and ready within 1 s, for the executable on x64.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProcessGroup, type ProcessSpec, STARTUP_TIMEOUT_MS } from '../test/lib/processes.ts';
import { bareEnv, freshExecutable, projectDir } from '../test/lib/single-executable.ts';
import { parseBenchFlags } from './lib/args.ts';
import { type ProcSample, sampleProcess } from './lib/proc.ts';
import { machineLine, sleep, withCluster } from './lib/run.ts';
import { formatTable, round } from './lib/stats.ts';

const flags = parseBenchFlags('npm run bench:footprint --', 'The checkout (tsx) vs the x64 single executable: size, spawn to ready of a full node, idle RSS and CPU %.', [
  { name: 'duration', description: 'seconds of the idle window of each full node', defaultValue: 60, min: 5, max: 3_600 },
  { name: 'runs', description: 'spawn-to-ready starts of each (fresh data dir each)', defaultValue: 3, min: 1, max: 20 },
  { name: 'settle', description: 'seconds between ready and the idle window', defaultValue: 5, min: 0, max: 600 },
], [
  'npm run bench:footprint                    # 3 starts each and a 60 s idle window each (~3 min)',
  'npm run bench:footprint -- --runs 10       # more starts, a steadier median',
]);
const mib = 2 ** 20;

type Variant = 'checkout' | 'executable';

/** A full node as a board runs it: production timers, the API, the agent on Docker, the control plane. */
const fullNodeArgs = (context: { ports: Record<string, number>; dataDir: string; name: string }): string[] => [
  'up', '--name', context.name, '--data-dir', context.dataDir,
  '--peer-addr', `127.0.0.1:${context.ports['peer']}`, '--client-addr', `127.0.0.1:${context.ports['client']}`, '--api-addr', `127.0.0.1:${context.ports['api']}`,
  '--initial-cluster', `${context.name}=127.0.0.1:${context.ports['peer']}`, '--runtime', 'docker', '--pod-network', 'off', '--log-level', 'info',
];

function du(paths: string[]): number {
  return Number(execFileSync('du', ['-sbc', ...paths], { encoding: 'utf8' }).trim().split('\n').pop()!.split('\t')[0]);
}

interface Start {
  variant: Variant;
  run: number;
  readyMs: number;
}

interface Idle {
  variant: Variant;
  windowSeconds: number;
  cpuPercent: number;
  rssMeanMiB: number;
  rssMaxMiB: number;
}

/** Starts a full node `runs` times (fresh data dir each), timing spawn to ready; the last one stays up for the idle window. */
async function measure(variant: Variant, launch: Pick<ProcessSpec, 'command' | 'cwd' | 'env'>): Promise<{ starts: Start[]; idle: Idle } | undefined> {
  return withCluster(`bench:footprint ${variant}`, async (group: ProcessGroup) => {
    const starts: Start[] = [];
    for (let run = 1; run <= flags.runs!; run++) {
      const spawnedAt = performance.now();
      const node = await group.spawn(`${variant}${run}`, { ...launch, portNames: ['peer', 'client', 'api'], args: fullNodeArgs });
      await node.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
      starts.push({ variant, run, readyMs: round(performance.now() - spawnedAt) });
      await node.waitForLog(/node agent running pods on the Docker engine/, STARTUP_TIMEOUT_MS);
      if (run < flags.runs!) await node.stop();
    }
    const node = group.members[group.members.length - 1]!;
    await sleep(flags.settle! * 1000);
    const samples: ProcSample[] = [sampleProcess(node.pid!)];
    const windowMs = flags.duration! * 1000;
    while (samples[samples.length - 1]!.atMs - samples[0]!.atMs < windowMs) {
      await sleep(1_000);
      samples.push(sampleProcess(node.pid!));
    }
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const rss = samples.map((sample) => sample.rssBytes);
    return {
      starts,
      idle: {
        variant,
        windowSeconds: round((last.atMs - first.atMs) / 1000),
        cpuPercent: round(((last.cpuMs - first.cpuMs) / (last.atMs - first.atMs)) * 100),
        rssMeanMiB: round(rss.reduce((sum, value) => sum + value, 0) / rss.length / mib),
        rssMaxMiB: round(Math.max(...rss) / mib),
      },
    };
  });
}

console.error(machineLine());
const built = await freshExecutable('linux-x64');
// The executable runs from a scratch dir with no node_modules above it, as on a board.
const scratch = mkdtempSync(join(tmpdir(), 'bramble-footprint-'));
const executable = join(scratch, 'bramble');
copyFileSync(built, executable);
mkdirSync(join(scratch, 'addon-cache'));

const size = {
  bench: 'footprint-size',
  executableBytes: statSync(executable).size,
  // xz -6 (its default), what a release would ship.
  executableXzBytes: Number(execFileSync('sh', ['-c', 'xz -6 -T0 -c "$1" | wc -c', 'sh', executable], { encoding: 'utf8', maxBuffer: 1024 }).trim()),
  checkoutNodeBytes: statSync(process.execPath).size,
  checkoutSourceBytes: du([join(projectDir, 'src'), join(projectDir, 'bin'), join(projectDir, 'package.json')]),
  // Development dependencies included: what `npm ci` installs.
  checkoutNodeModulesBytes: du([join(projectDir, 'node_modules/')]),
};
console.log(JSON.stringify(size));

const results: { starts: Start[]; idle: Idle }[] = [];
try {
  const variants: [Variant, Pick<ProcessSpec, 'command' | 'cwd' | 'env'>][] = [
    ['checkout', {}],
    ['executable', { command: [executable], cwd: scratch, env: bareEnv({ BRAMBLE_CACHE_DIR: join(scratch, 'addon-cache') }) }],
  ];
  for (const [variant, launch] of variants) {
    console.error(`${variant}: ${flags.runs} starts of a full node, then ${flags.settle} s settle and a ${flags.duration} s idle window`);
    const result = await measure(variant, launch);
    if (result) results.push(result);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

for (const { starts, idle } of results) {
  for (const start of starts) console.log(JSON.stringify({ bench: 'footprint-start', ...start }));
  console.log(JSON.stringify({ bench: 'footprint-idle', ...idle }));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log('');
console.log(
  formatTable(
    ['variant', 'on disk MiB', 'spawn to ready ms (median)', 'spawn to ready ms (each)', 'idle CPU %', 'idle RSS MiB (mean)', 'idle RSS MiB (max)'],
    results.map(({ starts, idle }) => [
      idle.variant,
      idle.variant === 'executable'
        ? `${round(size.executableBytes / mib)} (xz ${round(size.executableXzBytes / mib)})`
        : `${round((size.checkoutNodeBytes + size.checkoutSourceBytes + size.checkoutNodeModulesBytes) / mib)} (node ${round(size.checkoutNodeBytes / mib)}, src ${round(size.checkoutSourceBytes / mib)}, node_modules ${round(size.checkoutNodeModulesBytes / mib)})`,
      median(starts.map((start) => start.readyMs)),
      starts.map((start) => start.readyMs).join(' '),
      idle.cpuPercent,
      idle.rssMeanMiB,
      idle.rssMaxMiB,
    ]),
  ),
);
console.log('');
console.log('goals (issue 19, the executable on x64): idle RSS under 80 MB, ready within 1 s');
