// `bramble cluster remove NAME` against real `bramble up` processes: a dead board is taken out of
// the configuration through any member (and says it hears no leader when it comes back), the leader itself can be removed (it hands over), and the
// mistakes (unknown member, the only voter, no name) are refused with what to do.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { type BrambleNode, joinBrambleNode, startBrambleCluster, statusOf, waitForLeader } from '../../lib/bramble-cluster.ts';
import { bramble, type CommandRun } from '../../lib/commands.ts';
import { withProcesses, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { StoreClient } from '../../../src/store/client.ts';
import { waitFor } from '../../lib/wait.ts';

const projectDir = resolve(import.meta.dirname, '..', '..', '..');

/** The CLI run from the project directory. */
const cli = (...args: string[]): Promise<CommandRun> => bramble(args, { cwd: projectDir });

async function configuration(nodes: BrambleNode[]): Promise<string | null> {
  const statuses = await Promise.all(nodes.map((node) => statusOf(node)));
  if (statuses.some((status) => status === null)) return null;
  const views = new Set(statuses.map((status) => `${[...status!.confState.voters].sort().join(',')}|${[...status!.confState.learners].sort().join(',')}`));
  return views.size === 1 ? [...views][0]! : null;
}

test('cluster remove: a dead board, then the leader itself; the rest keep writing; mistakes are refused', async () => {
  await withProcesses(async (group) => {
    const nodes = await startBrambleCluster(group, 3, { extraArgs: ['--runtime', 'none'] });
    const fourth = await joinBrambleNode(group, 'node4', nodes[0]!, ['--runtime', 'none']);
    await waitFor('node4 in every configuration', async () => ((await configuration(nodes))?.includes('node4') ? true : null));
    const bundle = nodes[0]!.bundleDir;
    const endpoints = nodes.map((node) => node.clientAddress).join(',');

    // The board dies for good: remove it through a member that is not the leader.
    await fourth.process.kill('SIGKILL');
    const leader = await waitForLeader(nodes);
    const follower = nodes.find((node) => node !== leader)!;
    const removed = await cli('cluster', 'remove', 'node4', '--bundle', bundle, '--endpoints', follower.clientAddress);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /^removed node4 from the cluster: voters node1,node2,node3, learners <none>$/m);
    assert.match(removed.stdout, /If node4 still runs, stop it: it is no longer a member/);
    await waitFor('node4 gone from every configuration', async () => ((await configuration(nodes)) === 'node1,node2,node3|' ? true : null));
    // The board comes back with its old data dir: nobody tells it, but it says it hears no leader and what to check.
    fourth.process.start();
    await fourth.process.waitForLog(/"mode":"resume"/, 30_000);
    await fourth.process.waitForLog(/no leader for a while: .*or it was removed from the cluster \(`bramble cluster remove`\).*start it with an empty data dir and the join token/, 30_000);
    assert.equal((await configuration(nodes)), 'node1,node2,node3|', 'it stays out');
    await fourth.process.stop();

    // Mistakes: an unknown name, no name.
    const unknown = await cli('cluster', 'remove', 'nope', '--bundle', bundle, '--endpoints', endpoints);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /could not remove nope: nope is not a member of this cluster \(voters: node1, node2, node3; learners: none\)/);
    const noName = await cli('cluster', 'remove', '--bundle', bundle);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /missing required argument 'name'/);

    // The leader itself: it hands over to one of the two others, which keep a quorum and write.
    const removedLeader = await cli('cluster', 'remove', leader.name, '--bundle', bundle, '--endpoints', leader.clientAddress);
    assert.equal(removedLeader.code, 0, removedLeader.stderr);
    const rest = nodes.filter((node) => node !== leader);
    const expected = `${rest.map((node) => node.name).sort().join(',')}|`;
    await waitFor('the two others alone in their configuration', async () => ((await configuration(rest)) === expected ? true : null));
    const newLeader = await waitForLeader(rest);
    assert.notEqual(newLeader.name, leader.name);
    const client = new StoreClient({ endpoints: rest.map((node) => node.clientAddress), timeoutMs: 10_000, tls: rest[0]!.tls });
    try {
      await client.put(Buffer.from('after-removals'), Buffer.from('ok'));
      assert.equal(Buffer.from((await client.get(Buffer.from('after-removals')))!).toString(), 'ok');
    } finally {
      client.close();
    }
  });
});

test('cluster remove refuses to remove the only voter', async () => {
  await withProcesses(async (group) => {
    const solo = await group.spawn('solo', {
      portNames: ['peer', 'client'],
      args: ({ ports, dataDir }) => ['up', '--name', 'solo', '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports.peer}`, '--client-addr', `127.0.0.1:${ports.client}`, '--api-addr', 'off', '--runtime', 'none'],
    });
    await solo.waitForLog(/leader elected/, STARTUP_TIMEOUT_MS);
    const result = await cli('cluster', 'remove', 'solo', '--data-dir', solo.dataDir, '--endpoints', `127.0.0.1:${solo.ports.client}`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /could not remove solo: solo is the only voter: removing it would leave the cluster without anyone to agree on anything/);
    assert.ok(solo.running);
  });
});
