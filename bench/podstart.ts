// node --import tsx bench/podstart.ts [--pods 10] [--idle 10]   (the lead may add npm run bench:podstart)
// Pod start on one node through the agent's runtime layer: PodWorker + DockerRuntime on the real
// engine, in this process, without the API (the reconcile loop against the API does not exist
// yet). A Deployment-like set of N one-container pods (local image) is created at once and synced
// concurrently every 100 ms; each pod's time from creation to Running-and-Ready is recorded
// (p50/p99). Then the pods sit idle under a 1 s resync for a while and this process's RSS and CPU
// are read from /proc. Once for the native amd64 image and once for the arm64 one (qemu).
// Figures only: never fails on a number. Removes every container, its pause image and data dir.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { staticConfigSource } from '../src/agent/pods/config-sources.ts';
import type { Pod } from '../src/client/index.ts';
import { PodWorker } from '../src/agent/pods/pod-worker.ts';
import { DockerRuntime } from '../src/agent/runtime/docker-runtime.ts';
import { labels } from '../src/agent/runtime/labels.ts';
import { busyboxCacheDir, testImages } from '../test/lib/images.ts';
import { parseBenchFlags } from './lib/args.ts';
import { sampleProcess } from './lib/proc.ts';
import { machineLine, sleep } from './lib/run.ts';
import { formatTable, round, summarize } from './lib/stats.ts';

const flags = parseBenchFlags('node --import tsx bench/podstart.ts', 'Pods from creation to Running on one node (PodWorker + DockerRuntime, real engine), then idle RSS/CPU of the agent process.', [
  { name: 'pods', description: 'pods created at once per image', defaultValue: 10, min: 1, max: 50 },
  { name: 'idle', description: 'seconds the running pods are resynced every second while CPU and RSS are measured', defaultValue: 10, min: 1, max: 300 },
], [
  'node --import tsx bench/podstart.ts                 # defaults: 10 pods, 10 s idle, about a minute',
  'node --import tsx bench/podstart.ts --pods 30       # a busier board',
]);

const engine = new Dockerode();
const run = randomUUID().slice(0, 8);
const nodeName = `bench-podstart-${run}`;
const pauseImageLabels = { 'io.bramble.bench-run': run };
const syncIntervalMs = 100;
const startTimeoutMs = 180_000;

interface Result {
  bench: 'podstart';
  image: string;
  pods: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  allRunningMs: number;
  idleSeconds: number;
  idleCpuPercent: number;
  idleRssMiB: number;
}

async function cleanup(runtime: DockerRuntime | null, dataDir: string | null): Promise<void> {
  for (const c of await engine.listContainers({ all: true, filters: { label: [`${labels.node}=${nodeName}`] } })) {
    await engine.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
  if (runtime) {
    const pauseTag = await runtime.pauseImage().catch(() => null);
    if (pauseTag) await engine.getImage(pauseTag).remove({ force: true }).catch(() => undefined);
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

async function measure(worker: PodWorker, image: string, podCount: number): Promise<Result> {
  const pods: Pod[] = Array.from({ length: podCount }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `web-${i}`, namespace: 'default', uid: randomUUID(), labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', image, command: ['sleep', '3600'], imagePullPolicy: 'Never' }], terminationGracePeriodSeconds: 0 },
  }));
  const startedAt = performance.now();
  const runningAfterMs = new Map<string, number>();
  while (runningAfterMs.size < pods.length) {
    if (performance.now() - startedAt > startTimeoutMs) throw new Error(`only ${runningAfterMs.size} of ${pods.length} pods running after ${startTimeoutMs} ms`);
    await Promise.all(
      pods.filter((pod) => !runningAfterMs.has(pod.metadata.uid)).map(async (pod) => {
        const status = await worker.sync(pod);
        pod.status = status;
        if (status.phase === 'Running' && status.containerStatuses.every((c) => c.ready)) runningAfterMs.set(pod.metadata.uid, performance.now() - startedAt);
      }),
    );
    if (runningAfterMs.size < pods.length) await sleep(syncIntervalMs);
  }
  const latencies = [...runningAfterMs.values()];
  const summary = summarize(latencies);

  const before = sampleProcess(process.pid);
  const idleEndsAt = performance.now() + flags.idle! * 1000;
  while (performance.now() < idleEndsAt) {
    await Promise.all(pods.map((pod) => worker.sync(pod)));
    await sleep(1000);
  }
  const afterIdle = sampleProcess(process.pid);
  for (const pod of pods) await worker.kill(pod.metadata.uid, 0);
  return {
    bench: 'podstart',
    image,
    pods: podCount,
    p50Ms: round(summary.p50Ms),
    p99Ms: round(summary.p99Ms),
    maxMs: round(summary.maxMs),
    allRunningMs: round(Math.max(...latencies)),
    idleSeconds: round((afterIdle.atMs - before.atMs) / 1000),
    idleCpuPercent: round(((afterIdle.cpuMs - before.cpuMs) / (afterIdle.atMs - before.atMs)) * 100),
    idleRssMiB: round(afterIdle.rssBytes / 2 ** 20),
  };
}

async function main(): Promise<void> {
  console.log(machineLine());
  let runtime: DockerRuntime | null = null;
  let dataDir: string | null = null;
  const stop = () => {
    console.error('\nstopping: removing every container, the pause image and the data dir of this bench');
    void cleanup(runtime, dataDir).finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    dataDir = await mkdtemp(join(tmpdir(), 'bramble-bench-podstart-'));
    runtime = await DockerRuntime.create({ docker: engine, nodeName, pauseBusyboxPath: join(busyboxCacheDir(), 'amd64', 'bin', 'busybox'), pauseImageLabels });
    const pauseStartedAt = performance.now();
    await runtime.pauseImage();
    console.log(`pause image built and loaded in ${round(performance.now() - pauseStartedAt)} ms (once per node and version)`);
    const worker = new PodWorker({ runtime, hostIP: '127.0.0.1', dataDir, configSource: staticConfigSource({}) });
    const results: Result[] = [];
    for (const image of [testImages.amd64, testImages.arm64]) {
      const result = await measure(worker, image, flags.pods!);
      console.log(JSON.stringify(result));
      results.push(result);
    }
    console.log(
      formatTable(
        ['image', 'pods', 'p50 ms', 'p99 ms', 'all running ms', 'idle CPU %', 'idle RSS MiB'],
        results.map((r) => [r.image, r.pods, r.p50Ms, r.p99Ms, r.allRunningMs, r.idleCpuPercent, r.idleRssMiB]),
      ),
    );
  } finally {
    await cleanup(runtime, dataDir);
  }
}

await main();
