// The control plane's write fence over a real Raft node and store: once a newer term claims it,
// every write of the older term's client fails (create, update, delete, binding, batched bindings), and an older
// term can never claim it back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ClientError, InProcessClient, Kinds, type Client } from '../../../src/client/index.ts';
import { isFenced } from '../../../src/client/index.ts';
import { startInProcessNode, type InProcessNode } from '../../lib/inprocess-node.ts';

let n: InProcessNode;
before(async () => {
  n = await startInProcessNode();
  await new InProcessClient(n.registry).create(Kinds.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
});
after(() => n.stop());

async function fencedError(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (error) {
    assert.ok(isFenced(error), String(error));
    assert.equal((error as ClientError).status.reason, 'Fenced');
    assert.equal((error as ClientError).code, 409);
    return error as ClientError;
  }
  assert.fail('the write went through');
}

const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { a: '1' } });
const CONFIGMAPS = { ...Kinds.pods, resource: 'configmaps', kind: 'ConfigMap', listKind: 'ConfigMapList', singular: 'configmap' };

test('a deposed term cannot write once a newer term claims the fence', async () => {
  const old: Client = await InProcessClient.fenced(n.registry, 3, 'pi1');
  const kept = await old.create(CONFIGMAPS, cm('kept'));
  await old.create(Kinds.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

  const fresh: Client = await InProcessClient.fenced(n.registry, 4, 'pi2');
  const err = await fencedError(old.create(CONFIGMAPS, cm('late')));
  assert.equal(err.code, 409);
  await fencedError(old.update(CONFIGMAPS, { ...kept, data: { a: '2' } }));
  await fencedError(old.delete(CONFIGMAPS, 'default', 'kept'));
  await fencedError(old.bind('default', 'p', 'pi1'));
  const pending = await old.get(Kinds.pods, 'default', 'p');
  const scheduled = { apiVersion: 'v1', kind: 'Event', metadata: { generateName: 'p.', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Scheduled', message: 'late', type: 'Normal' };
  await fencedError(old.bindAll([{ pod: pending, nodeName: 'pi1', event: scheduled }]));
  assert.deepEqual((await new InProcessClient(n.registry).list(Kinds.events, { namespace: 'default' })).items, [], 'nor its Event');

  const plain = new InProcessClient(n.registry);
  assert.equal((await plain.list(CONFIGMAPS, { namespace: 'default' })).items.map((o) => o.metadata.name).join(), 'kept');
  assert.equal(((await plain.get(CONFIGMAPS, 'default', 'kept'))['data'] as { a: string }).a, '1');
  // The new term writes normally.
  await fresh.bind('default', 'p', 'pi2');
  assert.equal(((await plain.get(Kinds.pods, 'default', 'p'))['spec'] as { nodeName: string }).nodeName, 'pi2');
  // An older term cannot claim the fence back.
  await fencedError(InProcessClient.fenced(n.registry, 3, 'pi1'));
});

test('an ordinary conflict under a valid fence is a plain 409, not a fencing failure', async () => {
  const c: Client = await InProcessClient.fenced(n.registry, 5, 'pi1');
  const a = await c.create(CONFIGMAPS, cm('race'));
  await c.update(CONFIGMAPS, { ...a, data: { a: '2' } });
  try {
    await c.update(CONFIGMAPS, { ...a, data: { a: '3' } });
    assert.fail('stale update went through');
  } catch (error) {
    assert.ok(error instanceof ClientError && error.code === 409);
    assert.ok(!isFenced(error));
  }
});

test('bindAll of pods the caller saw last is one store transaction: every pod and Event gets the same revision', async () => {
  const c: Client = await InProcessClient.fenced(n.registry, 6, 'pi1');
  const pods = [];
  for (const name of ['batch-a', 'batch-b', 'batch-c']) pods.push(await c.create(Kinds.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }));
  const event = (pod: string) => ({ apiVersion: 'v1', kind: 'Event', metadata: { generateName: `${pod}.`, namespace: 'default' }, involvedObject: { kind: 'Pod', name: pod, namespace: 'default' }, reason: 'Scheduled', message: `to pi1`, type: 'Normal' });
  assert.deepEqual(await c.bindAll(pods.map((pod) => ({ pod, nodeName: 'pi1', event: event(pod.metadata.name ?? '') }))), [null, null, null]);
  const plain = new InProcessClient(n.registry);
  const revisions = new Set<string | undefined>();
  for (const pod of pods) revisions.add((await plain.get(Kinds.pods, 'default', pod.metadata.name ?? '')).metadata.resourceVersion);
  const events = (await plain.list(Kinds.events, { namespace: 'default' })).items.filter((e) => String((e['involvedObject'] as { name: string }).name).startsWith('batch-'));
  assert.equal(events.length, 3);
  for (const e of events) revisions.add(e.metadata.resourceVersion);
  assert.equal(revisions.size, 1, `one revision, got ${[...revisions].join()}`);
});
