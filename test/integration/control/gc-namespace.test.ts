// Garbage collection (background, orphan, foreground) and namespace deletion by the leader's
// controllers over a real Raft node and store (no agent: pods stay unscheduled, so deleting them
// needs no grace period).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ClientError, InProcessClient, Kinds, type KubeObject } from '../../../src/client/index.ts';
import { defaultControllers } from '../../../src/control/index.ts';
import { startControlPlane, type ControlPlane } from '../../lib/control.ts';
import { waitFor } from '../../lib/wait.ts';

let plane: ControlPlane;
let client: InProcessClient;
before(async () => {
  plane = await startControlPlane(defaultControllers(), { namespaces: ['default', 'class'] });
  client = plane.client;
});
after(() => plane.stop());

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
const rs = (name: string, ns = 'default'): KubeObject => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: ns }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template } });
const podsOf = async (uid: string, ns = 'default') => (await client.list(Kinds.pods, { namespace: ns })).items.filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === uid));
const missing = async (p: Promise<unknown>): Promise<boolean> => p.then(() => false, (e: unknown) => e instanceof ClientError && e.code === 404);

test('background: deleting a Deployment removes its ReplicaSet and pods', async () => {
  const d = await client.create(Kinds.deployments, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template } });
  const set = await waitFor('the ReplicaSet', async () => (await client.list(Kinds.replicasets, { namespace: 'default' })).items.find((r) => r.metadata.ownerReferences?.[0]?.uid === d.metadata.uid));
  await waitFor('2 pods', async () => ((await podsOf(set.metadata.uid ?? '')).length === 2 ? true : undefined));
  await client.delete(Kinds.deployments, 'default', 'web', { propagationPolicy: 'Background' });
  await waitFor('ReplicaSet gone', () => missing(client.get(Kinds.replicasets, 'default', set.metadata.name ?? '')));
  await waitFor('pods gone', async () => ((await podsOf(set.metadata.uid ?? '')).length === 0 ? true : undefined));
});

test('orphan: the ReplicaSet goes, its pods stay without the owner reference', async () => {
  const set = await client.create(Kinds.replicasets, rs('keep-pods'));
  await waitFor('2 pods', async () => ((await podsOf(set.metadata.uid ?? '')).length === 2 ? true : undefined));
  const names = (await podsOf(set.metadata.uid ?? '')).map((p) => p.metadata.name ?? '');
  await client.delete(Kinds.replicasets, 'default', 'keep-pods', { propagationPolicy: 'Orphan' });
  await waitFor('ReplicaSet gone', () => missing(client.get(Kinds.replicasets, 'default', 'keep-pods')));
  for (const name of names) {
    const p = await client.get(Kinds.pods, 'default', name);
    assert.deepEqual(p.metadata.ownerReferences ?? [], []);
  }
  for (const name of names) await client.delete(Kinds.pods, 'default', name);
});

test('foreground: the ReplicaSet stays (deletionTimestamp) until its pods are gone, then goes', async () => {
  const set = await client.create(Kinds.replicasets, rs('fg'));
  await waitFor('2 pods', async () => ((await podsOf(set.metadata.uid ?? '')).length === 2 ? true : undefined));
  const marked = await client.delete(Kinds.replicasets, 'default', 'fg', { propagationPolicy: 'Foreground' });
  assert.ok((marked as KubeObject).metadata.deletionTimestamp);
  assert.deepEqual((marked as KubeObject).metadata.finalizers, ['foregroundDeletion']);
  await waitFor('ReplicaSet gone', () => missing(client.get(Kinds.replicasets, 'default', 'fg')), 20_000);
  assert.equal((await podsOf(set.metadata.uid ?? '')).length, 0);
});

test('namespace deletion: Terminating, contents deleted, then the namespace is removed', async () => {
  await client.create(Kinds.replicasets, rs('in-class', 'class'));
  await client.create({ ...Kinds.pods, resource: 'configmaps', kind: 'ConfigMap', listKind: 'ConfigMapList', singular: 'configmap' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'notes', namespace: 'class' } });
  await waitFor('pods in class', async () => ((await client.list(Kinds.pods, { namespace: 'class' })).items.length === 2 ? true : undefined));
  const ns = await client.delete(Kinds.namespaces, undefined, 'class');
  assert.equal(((ns as KubeObject)['status'] as { phase: string }).phase, 'Terminating');
  await waitFor('namespace gone', () => missing(client.get(Kinds.namespaces, undefined, 'class')), 20_000);
  assert.deepEqual((await client.list(Kinds.pods, { namespace: 'class' })).items, []);
  assert.deepEqual((await client.list(Kinds.replicasets, { namespace: 'class' })).items, []);
});
