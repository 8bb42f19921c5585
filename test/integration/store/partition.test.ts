// Real network partitions: every node in its own network namespace (NetnsLab), the leader cut off
// from its peers with iptables while clients keep talking to every node (the test host can still
// reach the isolated leader: it is the stale leader clients must not be fooled by), then healed.
// The client history, closed by one final read of every key, goes through the linearizability
// checker: a stale read, a lost acknowledged write or a write applied twice fails it.

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { StoreClient } from '../../../src/store/client.ts';
import { agreedAppliedIndex, type BrambleNode, startBrambleCluster, statusOf, waitForLeader } from '../../lib/bramble-cluster.ts';
import type { KvOperation } from '../../lib/linearizability/index.ts';
import { assertLinearizable, runKvWorkload } from '../../lib/kv-workload.ts';
import { type NetnsHost, type NetnsLab, withNetnsLab } from '../../lib/netns.ts';
import { withProcesses } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const keys = ['a', 'b', 'c', 'd'];

/** One linearizable read per key after everything healed, appended to the history as client -1. */
async function finalReads(nodes: BrambleNode[]): Promise<KvOperation[]> {
  const client = new StoreClient({ tls: nodes[0]!.tls, endpoints: nodes.map((node) => node.clientAddress), timeoutMs: 10_000 });
  const reads: KvOperation[] = [];
  try {
    for (const key of keys) {
      const invokeTime = performance.now();
      const response = await client.range({ key: Buffer.from(`/workload/${key}`) });
      const value = response.kvs[0]?.value;
      reads.push({ clientId: -1, input: { kind: 'get', key }, output: value ? Buffer.from(value).toString() : null, invokeTime, returnTime: performance.now() });
    }
  } finally {
    client.close();
  }
  return reads;
}

/** One member's data under /workload/ as its local store holds it (a serializable read), with its revision. */
async function localData(node: BrambleNode): Promise<{ data: string; revision: number }> {
  const client = new StoreClient({ tls: node.tls, endpoints: [node.clientAddress], timeoutMs: 10_000 });
  try {
    const response = await client.range({ prefix: Buffer.from('/workload/'), serializable: true });
    const data = response.kvs.map((kv) => `${Buffer.from(kv.key).toString()}=${Buffer.from(kv.value).toString()}`).join(',') || 'empty';
    return { data, revision: response.header.revision };
  } finally {
    client.close();
  }
}

/**
 * Every member's data, all read at one applied index. Writes go on after the workload ends: a
 * proposal a follower forwarded over a link that stalled during the cut (TCP backing off) reaches
 * the leader and commits seconds after the heal. So a target taken once (the leader's commit at
 * some moment) does not make members comparable: one that applied such a late write holds
 * different data from one read just before it. The index is checked before and after the reads.
 */
async function dataAtOneIndex(nodes: BrambleNode[]): Promise<{ index: number; views: { data: string; revision: number }[] }> {
  const agreed = async () => agreedAppliedIndex(await Promise.all(nodes.map((node) => statusOf(node))));
  return waitFor(
    'every member to apply the same index under one leader',
    async () => {
      const index = await agreed();
      if (index === null) return null;
      const views = await Promise.all(nodes.map((node) => localData(node)));
      return (await agreed()) === index ? { index, views } : null;
    },
    60_000,
    200,
  );
}

/** 'both': no traffic either way; 'inbound': the minority still sends but hears nothing back. */
type CutMode = 'both' | 'inbound';

async function isolate(lab: NetnsLab, hosts: NetnsHost[], minority: number[], heal: boolean, mode: CutMode): Promise<void> {
  for (const inside of minority) {
    for (const [other, host] of hosts.entries()) {
      if (minority.includes(other)) continue;
      if (mode === 'inbound') {
        if (heal) await lab.heal(host, hosts[inside]!);
        else await lab.cut(host, hosts[inside]!);
      } else if (heal) await lab.healBoth(hosts[inside]!, host);
      else await lab.cutBoth(hosts[inside]!, host);
    }
  }
}

async function partitionRun(size: number, minoritySize: number, seed: number, report: (line: string) => void, mode: CutMode = 'both'): Promise<void> {
  await withNetnsLab(size, (lab) =>
    withProcesses(async (group) => {
      const nodes = await startBrambleCluster(group, size, { hosts: lab.hosts.map((host) => host.ip), netns: lab.hosts.map((host) => host.netns) });
      const oldLeader = await waitForLeader(nodes);
      const oldLeaderIndex = nodes.indexOf(oldLeader);
      const minority = [oldLeaderIndex, ...nodes.map((_, i) => i).filter((i) => i !== oldLeaderIndex).slice(0, minoritySize - 1)];
      const majority = nodes.filter((_, i) => !minority.includes(i));

      let faultsDone!: () => void;
      const until = new Promise<void>((resolve) => {
        faultsDone = resolve;
      });
      // Two clients per node; each starts at its own node, so some keep asking the isolated leader.
      const workload = runKvWorkload({
        tls: nodes[0]!.tls,
        clientEndpoints: Array.from({ length: size * 2 }, (_, i) => nodes.map((_, j) => nodes[(i + j) % size]!.clientAddress)),
        keys,
        seed,
        until,
        requestTimeoutMs: 2_000,
      });
      await sleep(700);
      await isolate(lab, lab.hosts, minority, false, mode);
      const newLeader = await waitForLeader(majority, 20_000);
      assert.ok(!minority.includes(nodes.indexOf(newLeader)), 'the majority side elected a leader of its own');
      const statusBeforeHeal = await statusOf(newLeader);
      await sleep(1_500);
      await isolate(lab, lab.hosts, minority, true, mode);
      // The old leader hears the higher term and follows; the cluster is whole again.
      await waitFor('the old leader to rejoin as a follower', async () => {
        const status = await statusOf(oldLeader);
        return status && status.role !== 'leader' && status.term >= (statusBeforeHeal?.term ?? 0) && status.leader !== null;
      });
      await sleep(700);
      faultsDone();
      const summary = await workload;
      assert.ok(summary.completedWrites > 20, `writes were acknowledged (${summary.completedWrites})`);
      // The cut was real: clients asking the isolated side got no answer for a while.
      assert.ok(summary.openOperations + summary.failedReads > 0, 'some requests to the isolated side failed or stayed open');
      report(
        `${summary.completedWrites} writes acknowledged, ${summary.completedReads} reads answered, ${summary.failedReads} reads failed, ` +
          `${summary.openOperations} writes with unknown outcome; leader ${oldLeader.name} -> ${newLeader.name}`,
      );
      // Every member converged on the same data, compared at one applied index: a difference
      // there means a member applied something other than the committed log.
      const { index, views } = await dataAtOneIndex(nodes);
      const shown = views.map((view, i) => `${nodes[i]!.name} (revision ${view.revision}): ${view.data}`).join(' | ');
      assert.equal(new Set(views.map((view) => `${view.revision} ${view.data}`)).size, 1, `every member applied index ${index}, so all must hold the same data: ${shown}`);
      report(`every member applied index ${index} and holds the same data`);
      // The final reads come after the convergence, so they also see writes that were committed late.
      const operations = [...summary.operations, ...(await finalReads(nodes))];
      assertLinearizable(operations);
    }),
  );
}

test('3 nodes in network namespaces, the leader isolated then healed: linearizable, no acknowledged write lost', async (t) => {
  await partitionRun(3, 1, 41, (line) => t.diagnostic(line));
});

test('5 nodes, the leader and one follower cut off from the other three, then healed: linearizable', async (t) => {
  await partitionRun(5, 2, 42, (line) => t.diagnostic(line));
});

test('3 nodes, the leader can still send but hears nothing back (one-way cut): it steps down, a new leader takes over, linearizable', async (t) => {
  await partitionRun(3, 1, 43, (line) => t.diagnostic(line), 'inbound');
});
