// A real node whose cluster loses quorum for longer than the read timeout keeps running, and
// when quorum returns it serves again: authorization works and an RBAC change made afterwards is
// seen. Three real `bramble up` processes; the API (and its RBAC cache) on node1; the two others
// are killed and started again.
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findResource } from '../../../src/api/resources/index.ts';
import { ClientError, HttpClient } from '../../../src/client/index.ts';
import { adminClient, clusterRoleBinding } from '../../lib/api-node.ts';
import { groupBundle } from '../../lib/bramble-cluster.ts';
import { freePort } from '../../lib/ports.ts';
import { type ManagedProcess, withProcesses, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;
const CLUSTER_ROLE_BINDINGS = findResource('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings')!;

async function status(client: HttpClient): Promise<number> {
  try {
    await client.list(CONFIGMAPS, { namespace: 'default' });
    return 200;
  } catch (error) {
    if (error instanceof ClientError) return error.code;
    return -1; // no answer at all (a socket error): the caller decides
  }
}

test('a node without quorum for longer than the read timeout keeps running and serves again when quorum returns', { timeout: 300_000 }, async () => {
  await withProcesses(async (group) => {
    const names = ['node1', 'node2', 'node3'];
    const peers = await Promise.all(names.map(async () => `127.0.0.1:${await freePort()}`));
    const initialCluster = names.map((name, i) => `${name}=${peers[i]!}`).join(',');
    const bundle = await groupBundle(group);
    const apiPort = await freePort();
    const nodes: ManagedProcess[] = [];
    for (const [i, name] of names.entries()) {
      const api = i === 0 ? ['--api-addr', `127.0.0.1:${apiPort}`, '--runtime', 'none'] : ['--api-addr', 'off'];
      nodes.push(
        await group.spawn(name, {
          portNames: ['client'],
          args: ({ ports, dataDir }) => ['up', '--pod-network', 'off', '--name', name, '--data-dir', dataDir, '--peer-addr', peers[i]!, '--client-addr', `127.0.0.1:${ports['client']!}`, '--initial-cluster', initialCluster, '--bundle', bundle, '--tick-ms', '20', '--election-ticks', '10', '--log-level', 'info', ...api],
        }),
      );
    }
    const [apiNode, ...others] = nodes as [ManagedProcess, ManagedProcess, ManagedProcess];
    await apiNode.waitForLog(/kubernetes API ready/, STARTUP_TIMEOUT_MS);
    const admin = adminClient(apiNode.dataDir);
    const url = `https://127.0.0.1:${apiPort}`;
    appendFileSync(join(apiNode.dataDir, 'auth', 'tokens.csv'), 'bob-token,bob,1002\n');
    const bob = new HttpClient({ server: url, token: 'bob-token', insecureSkipTlsVerify: true, requestTimeoutMs: 15_000, maxRetries: 0 });
    await waitFor('bob is known and refused', async () => ((await status(bob)) === 403 ? true : undefined), 30_000);

    // Quorum lost: a read now fails after the read timeout (5 s), the node runs on.
    for (const other of others) await other.kill('SIGKILL');
    await waitFor('a read that times out without quorum', async () => ((await status(admin)) >= 500 ? true : undefined), 60_000);
    await waitFor('a second read that times out, well past the read timeout', async () => ((await status(admin)) >= 500 ? true : undefined), 60_000);
    assert.equal(apiNode.running, true, 'the API node is still running without quorum');

    for (const other of others) other.start();
    await waitFor('the API answers again', async () => ((await status(admin)) === 200 ? true : undefined), 120_000);
    await admin.create(CLUSTER_ROLE_BINDINGS, clusterRoleBinding('bob-view', 'bob'));
    await waitFor('bob allowed by the binding made after quorum returned', async () => ((await status(bob)) === 200 ? true : undefined), 60_000);
    assert.equal(apiNode.running, true);
    assert.equal(apiNode.log.some((l) => /unhandled promise rejection/.test(l)), false, 'no rejection escaped');
  });
});
