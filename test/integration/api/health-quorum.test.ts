// /readyz tells the truth on real processes: three `bramble up` boards (API on each, no container
// runtime) are ready; kill -9 of two leaves the survivor unready with the failing check named
// (`raft-leader`), alive (/livez 200), and answering a create with 503 + Retry-After and the
// honest "not applied"; once the two restart on their data dirs, all are ready again and the
// create succeeds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreClient, StoreClientError } from '../../../src/store/client.ts';
import { clientTls, groupBundle } from '../../lib/bramble-cluster.ts';
import { quickRaftTiming } from '../../lib/control-cluster.ts';
import { freePort } from '../../lib/ports.ts';
import { type ManagedProcess, STARTUP_TIMEOUT_MS, withProcesses } from '../../lib/processes.ts';
import { kubeconfigCredentials, rawRequest, type KubeconfigCredentials, type RawAnswer } from '../../lib/raw-https.ts';
import { waitFor } from '../../lib/wait.ts';

interface Board {
  process: ManagedProcess;
  credentials: KubeconfigCredentials;
}

/** The answer, or undefined while the board does not answer at all (starting, or killed). */
async function ask(board: Board, path: string, options: Parameters<typeof rawRequest>[2] = {}): Promise<RawAnswer | undefined> {
  try {
    return await rawRequest(board.credentials, path, { server: `https://127.0.0.1:${board.process.ports['api']}`, ...options });
  } catch {
    return undefined;
  }
}

const configMap = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } });

async function allReady(boards: Board[], what: string): Promise<void> {
  for (const board of boards) {
    await waitFor(`${board.process.name} /readyz ok (${what})`, async () => {
      const answer = await ask(board, '/readyz', { anonymous: true });
      return answer?.status === 200 && answer.body === 'ok';
    }, 120_000);
  }
}

test('a board that lost quorum is not ready (raft-leader named), stays live, refuses a create with 503 "not applied", and is ready again when the others return', { timeout: 600_000 }, async (t) => {
  await withProcesses(async (group) => {
    const names = ['node1', 'node2', 'node3'];
    const peers = await Promise.all(names.map(async () => `127.0.0.1:${await freePort()}`));
    const initialCluster = names.map((name, i) => `${name}=${peers[i]!}`).join(',');
    const bundle = await groupBundle(group);
    const processes: ManagedProcess[] = [];
    for (const [i, name] of names.entries()) {
      processes.push(
        await group.spawn(name, {
          portNames: ['client', 'api'],
          args: ({ ports, dataDir }) => ['up', '--name', name, '--data-dir', dataDir, '--peer-addr', peers[i]!, '--client-addr', `127.0.0.1:${ports['client']!}`, '--api-addr', `127.0.0.1:${ports['api']!}`, '--initial-cluster', initialCluster, '--bundle', bundle, ...quickRaftTiming, '--runtime', 'none', '--log-level', 'info'],
        }),
      );
    }
    await Promise.all(processes.map((p) => p.waitForLog(/kubernetes API ready/, STARTUP_TIMEOUT_MS)));
    const boards: Board[] = processes.map((process) => ({ process, credentials: kubeconfigCredentials(process.dataDir) }));
    await allReady(boards, 'all three up');
    const [survivor, ...others] = boards as [Board, Board, Board];
    assert.equal((await ask(survivor, '/readyz?verbose'))?.body, '[+]ping ok\n[+]event-loop ok\n[+]raft-leader ok\n[+]shutdown ok\nreadyz check passed\n');

    const killedAt = Date.now();
    for (const other of others) await other.process.kill('SIGKILL');
    const unready = await waitFor('the survivor /readyz?verbose 500', async () => {
      const answer = await ask(survivor, '/readyz?verbose', { anonymous: true });
      return answer?.status === 500 ? answer : undefined;
    }, 60_000);
    t.diagnostic(`/readyz of the survivor failed ${Date.now() - killedAt} ms after kill -9 of the two others`);
    assert.equal(unready.body, '[+]ping ok\n[+]event-loop ok\n[-]raft-leader failed: reason withheld\n[+]shutdown ok\nreadyz check failed\n');
    assert.equal(unready.headers['content-type'], 'text/plain; charset=utf-8');
    const live = await ask(survivor, '/livez?verbose', { anonymous: true });
    assert.deepEqual([live?.status, live?.body], [200, '[+]ping ok\n[+]event-loop ok\nlivez check passed\n'], 'liveness never depends on quorum');
    const healthz = await ask(survivor, '/healthz');
    assert.deepEqual([healthz?.status, healthz?.body], [500, '[+]ping ok\n[+]event-loop ok\n[-]raft-leader failed: reason withheld\nhealthz check failed\n'], '/healthz includes the store, as Kubernetes\' includes etcd');

    // The admin reads the reason; once the survivor knows no leader at all, a create was surely never proposed.
    const reason = await waitFor('the survivor knows no leader', async () => {
      const answer = await ask(survivor, '/readyz/raft-leader');
      return answer?.status === 500 && /^internal server error: no leader is known/.test(answer.body) ? answer.body : undefined;
    }, 60_000);
    assert.match(reason, /^internal server error: no leader is known \(term \d+, this node is (follower|preCandidate|candidate)\)\n$/);

    const refused = await ask(survivor, '/api/v1/namespaces/default/configmaps', { method: 'POST', body: configMap('during-quorum-loss') });
    assert.equal(refused?.status, 503);
    assert.equal(refused.headers['retry-after'], '2');
    assert.deepEqual(JSON.parse(refused.body), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'create configmaps was not applied: the cluster store found no leader within 5000 ms (quorum lost, or an election in progress); nothing was proposed, so it is safe to retry',
      reason: 'ServiceUnavailable',
      details: { retryAfterSeconds: 2 },
      code: 503,
    });
    // The store's client port says the same in its own terms: 503 no-leader, not applied.
    const store = new StoreClient({ endpoints: [`127.0.0.1:${survivor.process.ports['client']!}`], timeoutMs: 30_000, tls: clientTls(bundle) });
    try {
      const error = await store.put(new TextEncoder().encode('/health/during-quorum-loss'), new TextEncoder().encode('x')).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof StoreClientError, String(error));
      assert.deepEqual([error.status, error.code], [503, 'no-leader']);
      assert.match(error.message, /proposal found no leader within 5000 ms \(quorum lost, or an election in progress\); it was not applied \(nothing was proposed\) and may be retried/);
    } finally {
      store.close();
    }
    assert.equal((await ask(survivor, '/livez'))?.status, 200, 'still live after serving requests without quorum');

    for (const other of others) other.process.start();
    await allReady(boards, 'the two restarted on their data dirs');
    assert.equal((await ask(survivor, '/readyz?verbose'))?.body, '[+]ping ok\n[+]event-loop ok\n[+]raft-leader ok\n[+]shutdown ok\nreadyz check passed\n');
    // Ready means a leader is heard from now; on a busy machine an election may still intervene, and 503 says to retry.
    const created = await waitFor('a create on the survivor, retried while 503', async () => {
      const answer = await ask(survivor, '/api/v1/namespaces/default/configmaps', { method: 'POST', body: configMap('after-quorum-returned') });
      return answer?.status === 503 ? undefined : answer;
    }, 60_000);
    assert.equal(created.status, 201, created.body);
    const lost = await ask(survivor, '/api/v1/namespaces/default/configmaps/during-quorum-loss');
    assert.equal(lost?.status, 404, 'the refused create was indeed not applied');
  });
});
