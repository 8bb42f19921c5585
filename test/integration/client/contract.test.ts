// One contract for both Client implementations: the in-process one over a real single-member Raft
// node (LevelDB log and store, TCP transport) in this process, and the HTTPS one against a real
// `bramble up` process. Same calls, same answers, same Status errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { findResource, type KubeObject, type ResourceInfo, type Status } from '../../../src/api/resources/index.ts';
import { ClientError, HttpClient, InProcessClient, type Client, type WatchEvent } from '../../../src/client/index.ts';
import { clientTls } from '../../lib/bramble-cluster.ts';
import { StoreClient } from '../../../src/store/client.ts';
import { startInProcessNode } from '../../lib/inprocess-node.ts';
import { ProcessGroup, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

function resource(group: string, version: string, plural: string): ResourceInfo {
  const info = findResource(group, version, plural);
  assert.ok(info, plural);
  return info;
}
const CONFIGMAPS = resource('', 'v1', 'configmaps');
const NAMESPACES = resource('', 'v1', 'namespaces');
const DEPLOYMENTS = resource('apps', 'v1', 'deployments');
const PODS = resource('', 'v1', 'pods');

async function rejected(p: Promise<unknown>): Promise<Status> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof ClientError, String(error));
    return error.status;
  }
  assert.fail('expected a ClientError');
}

interface Setup {
  client: Client;
  /** Compacts the store's history up to the revision (through the store, as an operator would). */
  compact: (revision: number) => Promise<void>;
  teardown: () => Promise<void>;
}

function contract(name: string, setup: () => Promise<Setup>): void {
  describe(`Client contract: ${name}`, { timeout: 180_000 }, () => {
    let client: Client;
    let teardown: () => Promise<void> = () => Promise.resolve();
    let compact: (revision: number) => Promise<void> = () => Promise.resolve();
    before(async () => {
      ({ client, teardown, compact } = await setup());
      // The in-process node has no bootstrap: make sure the namespace admission would want exists.
      await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'contract' } }).catch((e: unknown) => {
        if (!(e instanceof ClientError && e.code === 409)) throw e;
      });
    });
    after(() => teardown());

    test('create, get, list with a label selector', async () => {
      const created = await client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'contract', labels: { tier: 'web' } }, data: { k: 'v' } });
      assert.match(created.metadata.resourceVersion ?? '', /^\d+$/);
      assert.match(created.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
      await client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'contract', labels: { tier: 'db' } } });
      const got = await client.get(CONFIGMAPS, 'contract', 'a');
      assert.deepEqual(got['data'], { k: 'v' });
      const web = await client.list(CONFIGMAPS, { namespace: 'contract', labelSelector: 'tier=web' });
      assert.deepEqual(web.items.map((o) => o.metadata.name), ['a']);
      assert.ok(Number(web.resourceVersion) >= Number(created.metadata.resourceVersion));
    });

    test('errors are Statuses: 404, 409 AlreadyExists, 422 Invalid, 400 bad selector', async () => {
      assert.equal((await rejected(client.get(CONFIGMAPS, 'contract', 'missing'))).code, 404);
      assert.equal((await rejected(client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'contract' } }))).reason, 'AlreadyExists');
      const invalid = await rejected(client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name', namespace: 'contract' } }));
      assert.equal(invalid.code, 422);
      assert.match(invalid.message ?? '', /metadata.name: Invalid value: "Bad_Name"/);
      assert.equal((await rejected(client.list(CONFIGMAPS, { namespace: 'contract', labelSelector: 'a in (' }))).code, 400);
    });

    test('update with a stale resourceVersion is a 409 Conflict; a fresh one succeeds', async () => {
      const current = await client.get(CONFIGMAPS, 'contract', 'a');
      const updated = await client.update(CONFIGMAPS, { ...current, data: { k: 'v2' } });
      assert.ok(Number(updated.metadata.resourceVersion) > Number(current.metadata.resourceVersion));
      const stale = await rejected(client.update(CONFIGMAPS, { ...current, data: { k: 'v3' } }));
      assert.equal(stale.code, 409);
      assert.equal(stale.reason, 'Conflict');
    });

    test('patch: merge, json and strategic (containers merged by name)', async () => {
      assert.deepEqual((await client.patch(CONFIGMAPS, 'contract', 'a', 'merge', { data: { m: '1' } }))['data'], { k: 'v2', m: '1' });
      assert.deepEqual((await client.patch(CONFIGMAPS, 'contract', 'a', 'json', [{ op: 'remove', path: '/data/k' }]))['data'], { m: '1' });
      const deployment: KubeObject = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'contract' },
        spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1' }, { name: 'side', image: 'busybox:1' }] } } },
      };
      await client.create(DEPLOYMENTS, deployment);
      const patched = await client.patch(DEPLOYMENTS, 'contract', 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } } } });
      const containers = ((patched['spec'] as { template: { spec: { containers: { name: string; image: string }[] } } }).template.spec.containers);
      assert.deepEqual(containers.map((c) => `${c.name}=${c.image}`), ['app=nginx:2', 'side=busybox:1']);
    });

    test('watch from a resourceVersion sees ADDED, MODIFIED, DELETED in order', async () => {
      const start = await client.list(CONFIGMAPS, { namespace: 'contract' });
      const events: WatchEvent[] = [];
      const errors: Status[] = [];
      const handle = await client.watch(CONFIGMAPS, { namespace: 'contract', resourceVersion: start.resourceVersion }, (e) => events.push(e), (s) => errors.push(s));
      try {
        await client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w', namespace: 'contract' } });
        await client.patch(CONFIGMAPS, 'contract', 'w', 'merge', { data: { x: '1' } });
        await client.delete(CONFIGMAPS, 'contract', 'w');
        await waitFor('three events', () => events.length >= 3);
        assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`), ['ADDED w', 'MODIFIED w', 'DELETED w']);
        assert.deepEqual(errors, []);
      } finally {
        handle.stop();
      }
    });

    test('a watch from a compacted resourceVersion ends with 410 Expired', async () => {
      const old = await client.list(CONFIGMAPS, { namespace: 'contract' });
      // Two writes: the watch would need revision old+1, which the compaction at the second drops.
      await client.patch(CONFIGMAPS, 'contract', 'a', 'merge', { data: { n: '1' } });
      await client.patch(CONFIGMAPS, 'contract', 'a', 'merge', { data: { n: '2' } });
      const now = await client.list(CONFIGMAPS, { namespace: 'contract' });
      await compact(Number(now.resourceVersion));
      const errors: Status[] = [];
      const events: WatchEvent[] = [];
      const handle = await client.watch(CONFIGMAPS, { namespace: 'contract', resourceVersion: old.resourceVersion }, (e) => events.push(e), (s) => errors.push(s));
      try {
        await waitFor('the 410', () => errors.length > 0);
        assert.equal(errors[0]?.code, 410);
        assert.equal(errors[0]?.reason, 'Expired');
        assert.deepEqual(events, []);
      } finally {
        handle.stop();
      }
    });

    test('bind sets the node and PodScheduled=True once; a second bind is a 409, a missing pod a 404', async () => {
      await client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bindme', namespace: 'contract' }, spec: { schedulerName: 'nobody', containers: [{ name: 'c', image: 'busybox' }] } });
      await client.bind('contract', 'bindme', 'pi9');
      const pod = await client.get(PODS, 'contract', 'bindme');
      assert.equal((pod['spec'] as { nodeName?: string }).nodeName, 'pi9');
      assert.equal((pod['status'] as { conditions: { type: string; status: string }[] }).conditions.find((c) => c.type === 'PodScheduled')?.status, 'True');
      assert.equal((await rejected(client.bind('contract', 'bindme', 'pi8'))).code, 409);
      assert.equal((await rejected(client.bind('contract', 'nosuchpod', 'pi8'))).code, 404);
    });

    test('bindAll binds each pod with its Event; a stale copy is bound all the same, a bound pod answers 409 in its place', async () => {
      const EVENTS = resource('', 'v1', 'events');
      const make = (name: string) => client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'contract' }, spec: { schedulerName: 'nobody', containers: [{ name: 'c', image: 'busybox' }] } });
      const fresh = await make('many-1');
      const stale = await make('many-2');
      await client.patch(PODS, 'contract', 'many-2', 'merge', { metadata: { labels: { moved: 'yes' } } });
      const taken = await make('many-3');
      await client.bind('contract', 'many-3', 'pi7');
      const scheduled = (pod: string, node: string): KubeObject => ({ apiVersion: 'v1', kind: 'Event', metadata: { generateName: `${pod}.`, namespace: 'contract' }, involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod, namespace: 'contract' }, reason: 'Scheduled', message: `Successfully assigned contract/${pod} to ${node}`, type: 'Normal' });
      const answers = await client.bindAll([
        { pod: fresh, nodeName: 'pi1', event: scheduled('many-1', 'pi1') },
        { pod: stale, nodeName: 'pi2', event: scheduled('many-2', 'pi2') },
        { pod: taken, nodeName: 'pi3', event: scheduled('many-3', 'pi3') },
      ]);
      assert.equal(answers[0], null);
      assert.equal(answers[1], null);
      assert.equal(answers[2]?.code, 409);
      const nodeOf = async (name: string) => ((await client.get(PODS, 'contract', name))['spec'] as { nodeName?: string }).nodeName;
      assert.deepEqual([await nodeOf('many-1'), await nodeOf('many-2'), await nodeOf('many-3')], ['pi1', 'pi2', 'pi7']);
      assert.equal((await client.get(PODS, 'contract', 'many-2')).metadata.labels?.['moved'], 'yes', 'the newer copy was bound, not the stale one');
      const messages = (await client.list(EVENTS, { namespace: 'contract' })).items.filter((e) => e['reason'] === 'Scheduled' && String((e['involvedObject'] as { name: string }).name).startsWith('many-')).map((e) => e['message']).sort();
      assert.deepEqual(messages, ['Successfully assigned contract/many-1 to pi1', 'Successfully assigned contract/many-2 to pi2']);
      assert.deepEqual(await client.bindAll([]), []);
    });

    test('delete with finalizers marks; clearing them removes; Orphan adds the orphan finalizer', async () => {
      await client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: 'contract', finalizers: ['example.com/hold'] } });
      const marked = await client.delete(CONFIGMAPS, 'contract', 'held', { propagationPolicy: 'Orphan' });
      assert.ok(marked.kind === 'ConfigMap', 'a marked object comes back');
      const got = await client.get(CONFIGMAPS, 'contract', 'held');
      assert.ok(got.metadata.deletionTimestamp);
      assert.deepEqual(got.metadata.finalizers, ['example.com/hold', 'orphan']);
      await client.update(CONFIGMAPS, { ...got, metadata: { ...got.metadata, finalizers: [] } });
      assert.equal((await rejected(client.get(CONFIGMAPS, 'contract', 'held'))).code, 404);
    });

    test('delete removes the object', async () => {
      await client.delete(CONFIGMAPS, 'contract', 'b');
      assert.equal((await rejected(client.get(CONFIGMAPS, 'contract', 'b'))).code, 404);
    });
  });
}

contract('in-process (Registry over a real single-member Raft node)', async () => {
  const solo = await startInProcessNode();
  return {
    client: new InProcessClient(solo.registry),
    compact: async (revision) => {
      await solo.store.compact(revision);
    },
    teardown: () => solo.stop(),
  };
});

contract('HTTPS (a real bramble up process)', async () => {
  const group = new ProcessGroup();
  const member = await group.spawn('pi1', {
    portNames: ['peer', 'client', 'api'],
    args: ({ ports, dataDir, name }) => ['up', '--pod-network', 'off', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports['peer']}`, '--client-addr', `127.0.0.1:${ports['client']}`, '--api-addr', `127.0.0.1:${ports['api']}`, '--log-level', 'warn'],
  });
  await member.waitForLog(/Kubernetes API: https:/, STARTUP_TIMEOUT_MS);
  const kubeconfig = parseYaml(readFileSync(join(member.dataDir, 'kubeconfig'), 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const cluster = kubeconfig.clusters[0]?.cluster;
  const user = kubeconfig.users[0]?.user;
  assert.ok(cluster && user);
  const b64 = (s: string) => Buffer.from(s, 'base64');
  return {
    client: new HttpClient({ server: cluster.server, ca: b64(cluster['certificate-authority-data']), cert: b64(user['client-certificate-data']), key: b64(user['client-key-data']) }),
    compact: async (revision) => {
      const store = new StoreClient({ endpoints: [`127.0.0.1:${member.ports['client'] ?? 0}`], tls: clientTls(member.dataDir) });
      try {
        await store.compact(revision);
      } finally {
        store.close();
      }
    },
    teardown: () => group.cleanup(),
  };
});
