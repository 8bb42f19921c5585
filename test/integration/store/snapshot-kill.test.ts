// kill -9 of a follower in the middle of a snapshot transfer. The nodes run in network namespaces
// so the follower's link can be slowed down (a token bucket on its bridge port): the transfer
// then takes seconds and the kill lands in the middle of it for certain, not by luck of timing.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { StoreClient } from '../../../src/store/client.ts';
import { type BrambleNode, startBrambleCluster, waitForLeader } from '../../lib/bramble-cluster.ts';
import { withNetnsLab } from '../../lib/netns.ts';
import { withProcesses } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

const text = (value: string) => Buffer.from(value);
const valueBytes = 64 * 1024;
const keyCount = 40;

/** A 64 KiB value that differs per key and does not compress to nothing. */
function valueFor(i: number): Buffer {
  const value = Buffer.alloc(valueBytes);
  let state = (i + 1) * 2654435761;
  for (let offset = 0; offset < valueBytes; offset += 4) {
    state = (state * 1103515245 + 12345) >>> 0;
    value.writeUInt32BE(state, offset);
  }
  return value;
}

function partFileSize(node: BrambleNode): number {
  const dir = join(node.process.dataDir, 'incoming-snapshot');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((name) => name.endsWith('.part'))
    .reduce((total, name) => total + statSync(join(dir, name)).size, 0);
}

function logField(line: string, field: string): number {
  const value = (JSON.parse(line) as Record<string, unknown>)[field];
  assert.equal(typeof value, 'number', `${field} in ${line}`);
  return value as number;
}

test('kill -9 of a follower during a snapshot transfer: after restart it resumes the download and catches up', async () => {
  await withNetnsLab(3, (lab) =>
    withProcesses(async (group) => {
      const nodes = await startBrambleCluster(group, 3, {
        hosts: lab.hosts.map((host) => host.ip),
        netns: lab.hosts.map((host) => host.netns),
        // Snapshots every 20 entries, always pulled out of band (they are far above 1 KiB).
        extraArgs: ['--snapshot-entries', '20', '--snapshot-inline-bytes', '1024'],
      });
      const leader = await waitForLeader(nodes);
      const follower = nodes.find((node) => node !== leader)!;
      const followerHost = lab.host(nodes.indexOf(follower));
      const others = nodes.filter((node) => node !== follower);

      await follower.process.kill('SIGKILL');
      const client = new StoreClient({ tls: others[0]!.tls, endpoints: others.map((node) => node.clientAddress), timeoutMs: 10_000 });
      for (let i = 0; i < keyCount; i++) await client.put(text(`/snap/${i}`), valueFor(i));
      client.close();

      // 4 Mbit/s towards the follower: a snapshot of ~2.6 MB takes about 5 s.
      await lab.limitReceiveRate(followerHost, 4_000);
      follower.process.start();
      const fetching = await follower.process.waitForLog(/fetching a snapshot from the leader/, 30_000);
      const sizeBytes = logField(fetching, 'sizeBytes');
      // It was taken after at least half of the puts (one every 20 entries).
      assert.ok(sizeBytes > (keyCount / 2) * valueBytes, `the snapshot holds the values (${sizeBytes} bytes)`);
      const partialBytes = await waitFor('a part of the snapshot on the follower\'s disk', async () => {
        const size = partFileSize(follower);
        return size >= 256 * 1024 ? size : null;
      });
      await follower.process.kill('SIGKILL');
      const keptBytes = partFileSize(follower);
      assert.ok(keptBytes >= partialBytes && keptBytes < sizeBytes, `killed mid-transfer: ${keptBytes} of ${sizeBytes} bytes on disk`);
      assert.ok(!follower.process.log.some((line) => line.includes('installed a snapshot from the leader')), 'the first run never installed it');

      await lab.limitReceiveRate(followerHost, null);
      follower.process.start();
      const resuming = await follower.process.waitForLog(/resuming a snapshot download/, 30_000);
      assert.equal(logField(resuming, 'offsetBytes'), keptBytes, 'the download resumed where the killed process stopped');
      await follower.process.waitForLog(/installed a snapshot from the leader/, 30_000);

      // The follower's own copy (a serializable read answers from its local store) has every value.
      const local = new StoreClient({ tls: follower.tls, endpoints: [follower.clientAddress], timeoutMs: 10_000 });
      try {
        const caughtUp = await waitFor('the follower to hold every key', async () => {
          const response = await local.range({ prefix: text('/snap/'), serializable: true });
          return response.count === keyCount ? response : null;
        });
        for (const kv of caughtUp.kvs) {
          const i = Number(Buffer.from(kv.key).toString().slice('/snap/'.length));
          assert.ok(Buffer.from(kv.value).equals(valueFor(i)), `value of /snap/${i} is intact on the follower`);
        }
        // And it takes part again: a write through it commits and is read back linearizably there.
        await local.put(text('/snap/after'), text('through-the-follower'));
        assert.equal(Buffer.from((await local.get(text('/snap/after')))!).toString(), 'through-the-follower');
      } finally {
        local.close();
      }
    }),
  );
});

test('kill -9 of the leader while a follower pulls a snapshot from it: the follower gets one from the new leader and catches up', async () => {
  await withNetnsLab(3, (lab) =>
    withProcesses(async (group) => {
      const nodes = await startBrambleCluster(group, 3, {
        hosts: lab.hosts.map((host) => host.ip),
        netns: lab.hosts.map((host) => host.netns),
        extraArgs: ['--snapshot-entries', '20', '--snapshot-inline-bytes', '1024'],
      });
      const leader = await waitForLeader(nodes);
      const follower = nodes.find((node) => node !== leader)!;
      const followerHost = lab.host(nodes.indexOf(follower));
      const others = nodes.filter((node) => node !== follower);

      await follower.process.kill('SIGKILL');
      const client = new StoreClient({ tls: others[0]!.tls, endpoints: others.map((node) => node.clientAddress), timeoutMs: 10_000 });
      for (let i = 0; i < keyCount; i++) await client.put(text(`/snap/${i}`), valueFor(i));
      client.close();

      await lab.limitReceiveRate(followerHost, 4_000);
      follower.process.start();
      // The node to kill is the one the follower pulls from, named by the fetch: under load the
      // first leader can lose its lease during the puts (it needs the third's answers within an
      // election timeout), and then the other survivor is the one sending the snapshot.
      const fetching = await follower.process.waitForLog(/fetching a snapshot from the leader/, 30_000);
      const source = others.find((node) => node.name === (JSON.parse(fetching) as { from: string }).from);
      assert.ok(source, `the snapshot comes from one of the two others: ${fetching}`);
      const third = others.find((node) => node !== source)!;
      await waitFor('a part of the snapshot on the follower\'s disk', async () => partFileSize(follower) >= 128 * 1024);
      await source.process.kill('SIGKILL');
      await lab.limitReceiveRate(followerHost, null);

      // The follower still votes (its log is behind, so it cannot win), so the third node leads.
      const newLeader = await waitForLeader([follower, third], 20_000);
      assert.equal(newLeader, third);
      await follower.process.waitForLog(/installed a snapshot from the leader/, 60_000);
      const fetchedFrom = follower.process.log.filter((line) => line.includes('fetching a snapshot from the leader')).map((line) => (JSON.parse(line) as { from: string }).from);
      assert.equal(fetchedFrom[0], source.name, 'the first transfer came from the leader that was then killed');
      assert.equal(fetchedFrom.at(-1), third.name, 'the snapshot installed came from the new leader');
      const local = new StoreClient({ tls: follower.tls, endpoints: [follower.clientAddress], timeoutMs: 10_000 });
      try {
        const caughtUp = await waitFor('the follower to hold every key', async () => {
          const response = await local.range({ prefix: text('/snap/'), serializable: true });
          return response.count === keyCount ? response : null;
        });
        for (const kv of caughtUp.kvs) {
          const i = Number(Buffer.from(kv.key).toString().slice('/snap/'.length));
          assert.ok(Buffer.from(kv.value).equals(valueFor(i)), `value of /snap/${i} is intact on the follower`);
        }
        // With the old leader still down, the two survivors commit together: the follower is a full member again.
        await local.put(text('/snap/after'), text('two-of-three'));
      } finally {
        local.close();
      }
    }),
  );
});
