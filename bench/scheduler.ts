// npm run bench:scheduler [-- --nodes 100 --pods 2000]
// Pods scheduled per second with 100 simulated nodes and 2,000 pods, node affinity (required arch
// for a tenth of the pods, preferred zone for all), preferred pod anti-affinity, zone topology
// spread and the spread of each ReplicaSet's pods all active.
//  1. the decisions alone: schedule() over the scheduler's ClusterState, each placement assumed;
//  2. end to end: the same pods pending in a real single-member Raft node (LevelDB, fsync), the
//     leader's ControlManager runs the scheduler, which binds every pod and writes a Scheduled
//     Event per pod (Client.bindAll: batches of bindings with their Events, one fenced store
//     transaction per batch), timed until this watch has seen every pod bound. The process's CPU
//     time (all threads: LevelDB's too) is printed as well, since on a shared machine the wall
//     time says as much about the neighbours as about the scheduler.
// Simulated nodes are Node objects only (no agent): the scheduler is the part measured. Each
// carries the image-platforms annotation an agent would write for --images loaded images of its
// architecture (the pods' image is not among them, so placements do not change with --images).
// Figures only: never fails on a number.
import { imagePlatformsAnnotations } from '../src/agent/image-platforms.ts';
import { asNode, asPod, InProcessClient, Kinds, type KubeObject } from '../src/client/index.ts';
import { createScheduler } from '../src/control/index.ts';
import { schedule } from '../src/control/scheduler/schedule.ts';
import { ClusterState } from '../src/control/scheduler/state.ts';
import { startInProcessNode } from '../test/lib/inprocess-node.ts';
import { registerNode, startManager } from '../test/lib/control.ts';
import { parseBenchFlags } from './lib/args.ts';
import { machineLine } from './lib/run.ts';
import { formatTable, round } from './lib/stats.ts';

const flags = parseBenchFlags('npm run bench:scheduler --', 'Scheduler throughput: pure decisions, then end to end with bindings through a real Raft node.', [
  { name: 'nodes', description: 'simulated nodes', defaultValue: 100, min: 1, max: 5000 },
  { name: 'pods', description: 'pods to schedule', defaultValue: 2000, min: 1, max: 50000 },
  { name: 'images', description: 'loaded images each node lists in bramble.io/image-platforms', defaultValue: 50, min: 0, max: 1000 },
], ['npm run bench:scheduler', 'npm run bench:scheduler -- --nodes 20 --pods 500', 'npm run bench:scheduler -- --images 0']);

const platformsByArch = new Map(
  (['amd64', 'arm64'] as const).map((arch) => [
    arch,
    imagePlatformsAnnotations(
      Array.from({ length: flags['images']! }, (_, k) => ({ id: `sha256:${arch}${k}`, repoTags: [`team/app-${k}:1`], repoDigests: [], platform: { os: 'linux', architecture: arch }, sizeBytes: 1 })),
    ),
  ]),
);

const ZONES = 5;
const GROUPS = 20;

function nodeObject(i: number): KubeObject {
  const name = `sim-${String(i).padStart(3, '0')}`;
  const arch = i % 5 === 0 ? 'arm64' : 'amd64';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/arch': arch, 'topology.kubernetes.io/zone': `z${i % ZONES}` }, annotations: platformsByArch.get(arch) },
    spec: {},
    status: { capacity: { cpu: '64', memory: '256Gi', pods: '110' }, allocatable: { cpu: '64', memory: '256Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
  };
}

function podObject(i: number): KubeObject {
  const group = i % GROUPS;
  const app = `app-${group}`;
  const affinity: Record<string, unknown> = {
    nodeAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [`z${group % ZONES}`] }] } }],
      ...(group === 0 ? { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }] }] } } : {}),
    },
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: { labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' } }] },
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${app}-${i}`, namespace: 'default', uid: `pod-${i}`, labels: { app }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: app, uid: `rs-${group}`, controller: true }] },
    spec: {
      affinity,
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app } } }],
      containers: [{ name: 'c', image: 'bramble-test/busybox:amd64', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
    },
  };
}

function pure(): { seconds: number; perSecond: number } {
  const state = new ClusterState();
  for (let i = 0; i < flags['nodes']!; i++) state.setNode(asNode(nodeObject(i)));
  const pods = Array.from({ length: flags['pods']! }, (_, i) => asPod(podObject(i)));
  const started = performance.now();
  let unschedulable = 0;
  for (const pod of pods) {
    const r = schedule(pod, state);
    if ('nodeName' in r) state.placePod(`default/${pod.metadata.name}`, r.nodeName, pod);
    else unschedulable++;
  }
  const seconds = (performance.now() - started) / 1000;
  if (unschedulable > 0) console.log(`(${unschedulable} pods found no node)`);
  return { seconds, perSecond: pods.length / seconds };
}

async function endToEnd(): Promise<{ seconds: number; perSecond: number; cpuSeconds: number }> {
  const n = await startInProcessNode('bench');
  try {
    const client = new InProcessClient(n.registry);
    await client.create(Kinds.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    for (let i = 0; i < flags['nodes']!; i++) await registerNode(client, nodeObject(i));
    const total = flags['pods']!;
    for (let i = 0; i < total; i += 100) await Promise.all(Array.from({ length: Math.min(100, total - i) }, (_, j) => client.create(Kinds.pods, podObject(i + j))));
    const { resourceVersion } = await client.list(Kinds.pods, { namespace: 'default' });
    let bound = 0;
    let done: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (done = resolve));
    const watch = await client.watch(Kinds.pods, { namespace: 'default', resourceVersion }, (e) => {
      if (e.type === 'MODIFIED' && (e.object['spec'] as { nodeName?: string }).nodeName && !(e.object['status'] as { conditions?: { type: string; status: string }[] }).conditions?.some((c) => c.type === 'Ready')) {
        bound++;
        if (bound === total) done();
      }
    }, () => undefined);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const manager = startManager(n, [(ctx) => createScheduler(ctx)]);
    await all;
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    watch.stop();
    manager.stop();
    return { seconds, perSecond: total / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await n.stop();
  }
}

console.log(machineLine());
console.log(`${flags['nodes']} simulated nodes listing ${flags['images']} images each, ${flags['pods']} pods in ${GROUPS} ReplicaSets; preferred zone affinity, required arch affinity (1/${GROUPS} of the pods), preferred anti-affinity, zone spread, owner spread`);
const a = pure();
const b = await endToEnd();
console.log(formatTable(['part', 'pods', 'seconds', 'pods/s', 'process cpu s'], [
  ['decisions only (schedule() + assume)', flags['pods']!, round(a.seconds), round(a.perSecond), '-'],
  ['end to end (bind + Event through Raft, LevelDB fsync)', flags['pods']!, round(b.seconds), round(b.perSecond), round(b.cpuSeconds)],
]));
