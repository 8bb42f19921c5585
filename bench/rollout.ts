// npm run bench:rollout [-- --replicas 10 --trials 2]
// Three real `bramble up` processes on this machine's Docker engine (shared): a Deployment of 10
// from nothing to all Running and Ready, then a rolling update of the 10 to a new image
// (maxSurge 25%, maxUnavailable 25%) until every pod is the new one and Ready. Local images only.
// Figures only: never fails on a number.
import { Kinds } from '../src/client/index.ts';
import { adminClient } from '../test/lib/api-node.ts';
import { isReadyPod, podsWithLabel, sleeperDeployment, startControlCluster } from '../test/lib/control-cluster.ts';
import { docker } from '../test/lib/docker.ts';
import { testImages } from '../test/lib/images.ts';
import { parseBenchFlags } from './lib/args.ts';
import { machineLine, withCluster } from './lib/run.ts';
import { formatTable, round, summarize } from './lib/stats.ts';
import { waitFor } from '../test/lib/wait.ts';

const flags = parseBenchFlags('npm run bench:rollout --', 'Deployment of N -> all Running; rolling update of N -> all new and Ready.', [
  { name: 'replicas', description: 'Deployment replicas', defaultValue: 10, min: 1, max: 100 },
  { name: 'trials', description: 'Deployments created and rolled, one after the other', defaultValue: 2, min: 1, max: 20 },
], ['npm run bench:rollout', 'npm run bench:rollout -- --replicas 30 --trials 1']);

const V2 = 'bramble-test/busybox:bench-rollout-v2';
console.log(machineLine());
const create: number[] = [];
const roll: number[] = [];
await docker(['tag', testImages.amd64, V2]);
try {
  await withCluster('rollout', async (group) => {
    const nodes = await startControlCluster(group, ['r1', 'r2', 'r3']);
    const client = adminClient(nodes[0]!.process.dataDir);
    const n = flags['replicas']!;
    for (let t = 0; t < flags['trials']!; t++) {
      const name = `bench${t}`;
      let started = performance.now();
      await client.create(Kinds.deployments, sleeperDeployment(name, n, testImages.amd64, { maxSurge: '25%', maxUnavailable: '25%' }));
      await waitFor('all Running', async () => ((await podsWithLabel(client, `app=${name}`)).filter(isReadyPod).length === n ? true : null), 180_000);
      create.push(performance.now() - started);
      started = performance.now();
      await client.patch(Kinds.deployments, 'default', name, 'strategic', { spec: { template: { spec: { containers: [{ name: 'main', image: V2 }] } } } });
      await waitFor('rolled', async () => {
        const pods = await podsWithLabel(client, `app=${name}`);
        const live = pods.filter((p) => p.metadata.deletionTimestamp === undefined);
        return live.length === n && live.every((p) => isReadyPod(p) && p.spec.containers[0]?.image === V2) ? true : null;
      }, 180_000);
      roll.push(performance.now() - started);
      console.log(`trial ${t + 1}: ${n} Running after ${Math.round(create.at(-1)!)} ms; rolled to the new image after ${Math.round(roll.at(-1)!)} ms`);
      await client.delete(Kinds.deployments, 'default', name);
      await waitFor('pods gone', async () => ((await podsWithLabel(client, `app=${name}`)).length === 0 ? true : null), 120_000);
    }
  });
} finally {
  await docker(['rmi', V2]).catch(() => undefined);
}
const c = summarize(create);
const r = summarize(roll);
console.log(formatTable(['phase', 'replicas', 'trials', 'p50 ms', 'max ms'], [
  ['create -> all Running', flags['replicas']!, c.count, round(c.p50Ms), round(c.maxMs)],
  ['rolling update -> all new Running', flags['replicas']!, r.count, round(r.p50Ms), round(r.maxMs)],
]));
