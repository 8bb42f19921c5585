// Pod subnets in a real cluster of `bramble up` processes (`--runtime none`: no pods, only the
// Nodes): the leader gives each board a /24 of `--cluster-cidr`, and a CIDR it cannot use is refused
// at start with what is wrong.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Kinds } from '../../../src/client/index.ts';
import { adminClient } from '../../lib/api-node.ts';
import { groupBundle } from '../../lib/bramble-cluster.ts';
import { bramble } from '../../lib/commands.ts';
import { quickRaftTiming } from '../../lib/control-cluster.ts';
import { freePort } from '../../lib/ports.ts';
import { type ManagedProcess, STARTUP_TIMEOUT_MS, withProcesses } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

test('each board of a real cluster gets its own /24 of --cluster-cidr, stored with its Node', { timeout: 300_000 }, async () => {
  await withProcesses(async (group) => {
    const names = ['pc1', 'pc2'];
    const peers = await Promise.all(names.map(() => freePort()));
    const initialCluster = names.map((name, i) => `${name}=127.0.0.1:${peers[i]}`).join(',');
    const bundleDir = await groupBundle(group);
    const members: ManagedProcess[] = [];
    for (const [i, name] of names.entries()) {
      members.push(
        await group.spawn(name, {
          portNames: ['client', 'api'],
          args: ({ ports, dataDir }) => [
            'up', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${peers[i]}`, '--client-addr', `127.0.0.1:${ports['client']}`,
            '--api-addr', `127.0.0.1:${ports['api']}`, '--initial-cluster', initialCluster, '--bundle', bundleDir,
            ...quickRaftTiming, '--runtime', 'none', '--node-status-ms', '500', '--cluster-cidr', '10.45.0.0/16', '--log-level', 'info',
          ],
        }),
      );
    }
    const subnets = await waitFor(
      'both Nodes with a pod subnet',
      async () => {
        // The kubeconfig appears once the API serves; until then, nothing to list.
        const items = await Promise.resolve()
          .then(() => adminClient(members[0]!.dataDir).list(Kinds.nodes))
          .then((list) => list.items, () => []);
        const found = items.map((node) => [node.metadata.name, (node['spec'] as { podCIDR?: string; podCIDRs?: string[] } | undefined) ?? {}] as const);
        return found.length === 2 && found.every(([, spec]) => spec.podCIDR) ? new Map(found) : null;
      },
      STARTUP_TIMEOUT_MS,
      200,
    );
    const cidrs = names.map((name) => subnets.get(name)?.podCIDR);
    assert.deepEqual([...cidrs].sort(), ['10.45.0.0/24', '10.45.1.0/24']);
    for (const name of names) assert.deepEqual(subnets.get(name)?.podCIDRs, [subnets.get(name)?.podCIDR]);
  });
});

test('an invalid --cluster-cidr is refused at start with a precise message', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bramble-cidr-'));
  try {
    const refusals: [string, string][] = [
      ['10.42.0.0/25', '--cluster-cidr: 10.42.0.0/25 is too small: each board gets a /24, so the prefix must be /24 or shorter (e.g. 10.42.0.0/16: 256 boards)'],
      ['10.42.1.0/16', '--cluster-cidr: 10.42.1.0/16 has host bits set: the network is 10.42.0.0/16'],
      ['ten.42/16', '--cluster-cidr: "ten.42/16" is not an IPv4 CIDR (a.b.c.d/n), e.g. 10.42.0.0/16'],
    ];
    for (const [cidr, message] of refusals) {
      const run = await bramble(['up', '--name', 'solo', '--data-dir', join(dir, 'solo'), '--api-addr', 'off', '--cluster-cidr', cidr]);
      assert.equal(run.code, 2, run.stderr);
      assert.ok(run.stderr.includes(message), run.stderr);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
