// npm run bench:reschedule [-- --trials 3 --replicas 6 --grace-ms 2000]
// Time from kill -9 of a board's process to all of its pods Running (and Ready) on the others:
// three real `bramble up` processes on this machine's Docker engine (they share the engine), a
// Deployment spread over them; each trial kills a non-leader node holding pods, waits for the
// replacements, then restarts the node and waits until it is Ready and untainted again.
// The leader notices the silence from Raft peer contact (no heartbeat writes) after --grace-ms.
// Figures only: never fails on a number.
import { Kinds } from '../src/client/index.ts';
import { adminClient } from '../test/lib/api-node.ts';
import { isReadyPod, leaderOf, podsWithLabel, sleeperDeployment, startControlCluster } from '../test/lib/control-cluster.ts';
import { parseBenchFlags } from './lib/args.ts';
import { machineLine, sleep, withCluster } from './lib/run.ts';
import { formatTable, round, summarize } from './lib/stats.ts';
import { waitFor } from '../test/lib/wait.ts';

const flags = parseBenchFlags('npm run bench:reschedule --', 'kill -9 of a node -> its pods Running elsewhere (p50/p99 over trials).', [
  { name: 'trials', description: 'kills', defaultValue: 3, min: 1, max: 50 },
  { name: 'replicas', description: 'Deployment replicas spread over 3 nodes', defaultValue: 6, min: 3, max: 60 },
  { name: 'grace-ms', description: 'the leader marks a silent node unreachable after this long (bramble up --node-grace-ms)', defaultValue: 2000, min: 500, max: 60000 },
], ['npm run bench:reschedule', 'npm run bench:reschedule -- --trials 5 --grace-ms 4000']);

console.log(machineLine());
const samples: number[] = [];
await withCluster('reschedule', async (group) => {
  const nodes = await startControlCluster(group, ['b1', 'b2', 'b3'], flags['grace-ms']);
  const client = () => adminClient(nodes.find((n) => n.process.running)!.process.dataDir);
  const replicas = flags['replicas']!;
  await client().create(Kinds.deployments, sleeperDeployment('bench', replicas));
  await waitFor('all replicas Ready', async () => ((await podsWithLabel(client(), 'app=bench')).filter(isReadyPod).length === replicas ? true : null), 120_000);
  for (let t = 0; t < flags['trials']!; t++) {
    const lead = await leaderOf(nodes);
    const pods = (await podsWithLabel(client(), 'app=bench')).filter(isReadyPod);
    const victim = nodes.find((n) => n !== lead && pods.some((p) => p.spec.nodeName === n.name)) ?? nodes.find((n) => n !== lead)!;
    const held = pods.filter((p) => p.spec.nodeName === victim.name).length;
    const killedAt = performance.now();
    await victim.process.kill('SIGKILL');
    await waitFor('replacements Ready', async () => {
      const now = (await podsWithLabel(client(), 'app=bench')).filter(isReadyPod);
      return now.length === replicas && now.every((p) => p.spec.nodeName !== victim.name) ? true : null;
    }, 120_000);
    const ms = performance.now() - killedAt;
    samples.push(ms);
    console.log(`trial ${t + 1}: killed ${victim.name} holding ${held} pods -> all ${replicas} Ready elsewhere after ${Math.round(ms)} ms`);
    victim.process.start();
    await waitFor('the node back, untainted', async () => {
      const n = await adminClient(lead.process.dataDir).get(Kinds.nodes, undefined, victim.name).catch(() => null);
      if (!n) return null;
      const tainted = ((n['spec'] as { taints?: { key: string }[] }).taints ?? []).some((x) => x.key === 'node.kubernetes.io/unreachable');
      return !tainted ? true : null;
    }, 120_000);
    await waitFor('the node API back', () => adminClient(victim.process.dataDir).list(Kinds.nodes).then(() => true, () => null), 60_000);
    // Spread again so the next kill finds pods on the node: restart the rollout.
    await client().patch(Kinds.deployments, 'default', 'bench', 'merge', { spec: { template: { metadata: { annotations: { 'bench/trial': String(t) } } } } });
    await waitFor('respread', async () => ((await podsWithLabel(client(), 'app=bench')).filter(isReadyPod).filter((p) => p.metadata.annotations?.['bench/trial'] === String(t)).length === replicas ? true : null), 120_000);
    await sleep(500);
  }
});
const s = summarize(samples);
console.log(formatTable(['grace ms', 'trials', 'p50 ms', 'p99 ms', 'max ms'], [[flags['grace-ms']!, s.count, round(s.p50Ms), round(s.p99Ms), round(s.maxMs)]]));
