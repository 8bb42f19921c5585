// The API's followers of the store (the RBAC cache, the peers' published CAs) recover when their
// watch ends and the relist fails, as it does with no leader (a linearizable read): before the
// shared informer, the RBAC relist was a bare `void follow()` whose rejection ended the process
// and left authorization frozen, and the forwarder swallowed its failed relist and never tried
// again, so peer trust froze. Real Raft node, real registry and HTTPS API; the faults are the
// store's own (a watch ended by compaction, reads refused) caused at will (test/lib/faulty-store).
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { NodeForwarder } from '../../../src/api/node-forward.ts';
import { findResource } from '../../../src/api/resources/index.ts';
import { startApi, type RunningApi } from '../../../src/api/start.ts';
import { apiFeeds } from '../../../src/client/cache/index.ts';
import { ClientError, HttpClient, Kinds } from '../../../src/client/index.ts';
import { clusterRoleBinding } from '../../lib/api-node.ts';
import { type FaultyStore, faultyStore } from '../../lib/faulty-store.ts';
import { type InProcessNode, startInProcessNode } from '../../lib/inprocess-node.ts';
import { freePort } from '../../lib/ports.ts';
import { waitFor } from '../../lib/wait.ts';

const enc = new TextEncoder();
let n: InProcessNode;
let faulty: FaultyStore;
let dataDir: string;
const rejections: unknown[] = [];
const recordRejection = (reason: unknown): void => void rejections.push(reason);

before(async () => {
  process.on('unhandledRejection', recordRejection);
  n = await startInProcessNode('feeds');
  faulty = faultyStore(n.store);
  dataDir = mkdtempSync(join(tmpdir(), 'bramble-feeds-'));
});
after(async () => {
  process.off('unhandledRejection', recordRejection);
  await n.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function status(client: HttpClient): Promise<number> {
  try {
    await client.list(Kinds.pods, { namespace: 'default' });
    return 200;
  } catch (error) {
    if (error instanceof ClientError) return error.code;
    throw error;
  }
}

test('RBAC: a watch end whose relist fails (no leader) is retried; the API keeps serving and sees later RBAC changes', { timeout: 120_000 }, async () => {
  const logger = pino({ level: 'silent' });
  const api: RunningApi = await startApi({ dataDir, store: faulty.store, host: '127.0.0.1', port: await freePort(), nodeName: 'feeds', gitVersion: 'v0.0.0-test', feeds: apiFeeds(logger) });
  try {
    appendFileSync(join(dataDir, 'auth', 'tokens.csv'), 'bob-token,bob,1002\n');
    const bob = new HttpClient({ server: api.url, token: 'bob-token', insecureSkipTlsVerify: true, maxRetries: 0 });
    await waitFor('bob authenticated and refused', async () => ((await status(bob)) === 403 ? true : undefined));

    faulty.failReads(3);
    const ended = faulty.endWatches({ type: 'compacted', compactRevision: n.store.local.revision() });
    assert.ok(ended >= 5, `the 4 RBAC watches and the CA watch were open (${ended})`);
    await waitFor('the three refused relists', () => (faulty.refused >= 3 ? true : undefined));

    const rbac = findResource('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings');
    assert.ok(rbac);
    await api.registry.create(rbac, undefined, clusterRoleBinding('bob-view', 'bob'));
    await waitFor('bob allowed by the new binding', async () => ((await status(bob)) === 200 ? true : undefined), 60_000);
    assert.deepEqual(rejections, [], 'no rejection escaped');
  } finally {
    await api.stop();
  }
});

test('forwarder: after a failed relist it tries again, so a CA published later is trusted', { timeout: 120_000 }, async () => {
  let trusted: string[] = [];
  const forwarder = new NodeForwarder({
    store: faulty.store,
    registry: n.registry,
    follow: apiFeeds(pino({ level: 'silent' })).storePrefix,
    nodeName: 'feeds',
    caCertPem: 'CA OF feeds',
    clientCertPem: 'unused',
    clientKeyPem: 'unused',
    onPeerCas: (cas) => void (trusted = cas),
  });
  await forwarder.start({ host: '127.0.0.1', port: 1 });
  try {
    await n.store.txn({ compare: [], success: [{ op: 'put', key: enc.encode('/bramble/nodes/peer1/ca.crt'), value: enc.encode('CA OF peer1') }], failure: [] });
    await waitFor('peer1 trusted', () => (trusted.includes('CA OF peer1') ? true : undefined));

    const refusedBefore = faulty.refused;
    faulty.failReads(2);
    assert.equal(faulty.endWatches({ type: 'cancelled', reason: 'restored' }), 1);
    await waitFor('the refused relists', () => (faulty.refused >= refusedBefore + 1 ? true : undefined));
    await n.store.txn({ compare: [], success: [{ op: 'put', key: enc.encode('/bramble/nodes/peer2/ca.crt'), value: enc.encode('CA OF peer2') }], failure: [] });
    await waitFor('peer2, published after the failed relist, trusted', () => (trusted.includes('CA OF peer2') ? true : undefined), 60_000);
    assert.deepEqual([...trusted].sort(), ['CA OF peer1', 'CA OF peer2']);
    assert.deepEqual(rejections, [], 'no rejection escaped');
  } finally {
    forwarder.stop();
  }
});
