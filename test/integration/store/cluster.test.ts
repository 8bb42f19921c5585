import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StoreClient } from '../../../src/store/client.ts';
import { type BrambleNode, joinBrambleNode, startBrambleCluster, statusOf, waitForLeader } from '../../lib/bramble-cluster.ts';
import { assertLinearizable, runKvWorkload } from '../../lib/kv-workload.ts';
import { withProcesses, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

const text = (value: string) => Buffer.from(value);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function clientFor(nodes: BrambleNode[]): StoreClient {
  return new StoreClient({ tls: nodes[0]!.tls, endpoints: nodes.map((node) => node.clientAddress), timeoutMs: 5_000 });
}

/** Every acknowledged put of the history is either the final value of its key or was overwritten later. */
async function readAll(nodes: BrambleNode[], prefix: string): Promise<Map<string, string>> {
  const client = clientFor(nodes);
  try {
    const response = await client.range({ prefix: text(prefix) });
    return new Map(response.kvs.map((kv) => [Buffer.from(kv.key).toString(), Buffer.from(kv.value).toString()]));
  } finally {
    client.close();
  }
}

describe('real bramble up processes', () => {
  test('a 3-node cluster replicates writes; reads on every node are linearizable', async () => {
    await withProcesses(async (group) => {
      const nodes = await startBrambleCluster(group, 3);
      await waitForLeader(nodes);
      for (const [i, node] of nodes.entries()) {
        const client = new StoreClient({ tls: node.tls, endpoints: [node.clientAddress] });
        await client.put(text(`/k/${i}`), text(`from-${node.name}`));
        client.close();
      }
      for (const node of nodes) {
        const client = new StoreClient({ tls: node.tls, endpoints: [node.clientAddress] });
        const response = await client.range({ prefix: text('/k/') });
        assert.deepEqual(
          response.kvs.map((kv) => Buffer.from(kv.value).toString()),
          ['from-node1', 'from-node2', 'from-node3'],
          `${node.name} reads every write acknowledged before the read`,
        );
        client.close();
      }
      const statuses = await Promise.all(nodes.map(statusOf));
      assert.equal(statuses.filter((status) => status?.role === 'leader').length, 1);
      assert.deepEqual(statuses[0]!.confState.voters.sort(), ['node1', 'node2', 'node3']);
    });
  });

  test('kill -9 of the leader under load, then its restart: linearizable, no acknowledged write lost', async () => {
    await withProcesses(async (group) => {
      const nodes = await startBrambleCluster(group, 3);
      const firstLeader = await waitForLeader(nodes);
      let faultsDone!: () => void;
      const until = new Promise<void>((resolve) => {
        faultsDone = resolve;
      });
      const workload = runKvWorkload({
        tls: nodes[0]!.tls,
        clientEndpoints: Array.from({ length: 6 }, (_, i) => [nodes[i % 3]!.clientAddress, nodes[(i + 1) % 3]!.clientAddress, nodes[(i + 2) % 3]!.clientAddress]),
        keys: ['a', 'b', 'c'],
        seed: 11,
        until,
      });
      await sleep(800);
      await firstLeader.process.kill('SIGKILL');
      const secondLeader = await waitForLeader(nodes, 20_000, firstLeader);
      assert.notEqual(secondLeader, firstLeader);
      await sleep(800);
      firstLeader.process.start();
      // Not waitForLog: it would find the first start's "ready" line at once.
      await waitFor('the restarted node to answer', () => statusOf(firstLeader), 30_000);
      await sleep(800);
      faultsDone();
      const summary = await workload;
      assert.ok(summary.completedWrites > 20, `writes were acknowledged (${summary.completedWrites})`);
      assertLinearizable(summary.operations);
      // The restarted node caught up: it serves the same data.
      const restarted = new StoreClient({ tls: firstLeader.tls, endpoints: [firstLeader.clientAddress] });
      const fromRestarted = await restarted.range({ prefix: text('/workload/'), serializable: false });
      restarted.close();
      const fromCluster = await readAll(nodes.filter((node) => node !== firstLeader), '/workload/');
      assert.deepEqual(new Map(fromRestarted.kvs.map((kv) => [Buffer.from(kv.key).toString(), Buffer.from(kv.value).toString()])), fromCluster);
    });
  });

  test('restarting the whole cluster keeps every acknowledged write', async () => {
    await withProcesses(async (group) => {
      const nodes = await startBrambleCluster(group, 3);
      await waitForLeader(nodes);
      const client = clientFor(nodes);
      const acknowledged = new Map<string, string>();
      for (let i = 0; i < 200; i++) {
        await client.put(text(`/durable/${i % 50}`), text(`v${i}`));
        acknowledged.set(`/durable/${i % 50}`, `v${i}`);
      }
      client.close();
      await Promise.all(nodes.map((node) => node.process.kill('SIGKILL')));
      for (const node of nodes) node.process.start();
      await Promise.all(nodes.map((node) => node.process.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS)));
      await waitForLeader(nodes);
      assert.deepEqual(await readAll(nodes, '/durable/'), acknowledged);
    });
  });

  test('a node joins with --join as a learner, fetches a snapshot out of band and is promoted', async () => {
    // --snapshot-inline-bytes 1024: the snapshot is far larger, so the follower pulls it over the client API.
    const snapshotArgs = ['--snapshot-entries', '50', '--snapshot-inline-bytes', '1024'];
    await withProcesses(async (group) => {
      const nodes = await startBrambleCluster(group, 3, { extraArgs: snapshotArgs });
      await waitForLeader(nodes);
      const client = clientFor(nodes);
      for (let i = 0; i < 150; i++) await client.put(text(`/join/${i}`), text(`v${i}`));
      client.close();
      const newcomer = await joinBrambleNode(group, 'node4', nodes[1]!, snapshotArgs);
      await waitFor('node4 promoted to voter', async () => (await statusOf(nodes[0]!))?.confState.voters.includes('node4'));
      const local = new StoreClient({ tls: newcomer.tls, endpoints: [newcomer.clientAddress] });
      const response = await local.range({ prefix: text('/join/'), countOnly: true });
      local.close();
      assert.equal(response.count, 150);
      assert.ok(newcomer.process.log.some((line) => line.includes('fetching a snapshot from the leader')), 'node4 fetched the snapshot out of band');
      assert.ok(newcomer.process.log.some((line) => line.includes('installed a snapshot from the leader')), 'node4 started from a snapshot');
    });
  });

  test('a 5-node cluster survives losing two nodes, including the leader', async () => {
    await withProcesses(async (group) => {
      const nodes = await startBrambleCluster(group, 5);
      const leader = await waitForLeader(nodes);
      const other = nodes.find((node) => node !== leader)!;
      await leader.process.kill('SIGKILL');
      await other.process.kill('SIGKILL');
      const alive = nodes.filter((node) => node !== leader && node !== other);
      await waitForLeader(alive);
      const client = clientFor(alive);
      await client.put(text('/five/after'), text('still-writable'));
      assert.equal(Buffer.from((await client.get(text('/five/after')))!).toString(), 'still-writable');
      client.close();
    });
  });
});
