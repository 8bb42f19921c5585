// Controller references over a real Raft node and store, with the leader's controllers running:
// a bare pod is adopted by a later ReplicaSet (which then creates only the rest), a pod labelled
// out of the selector (`kubectl label pod x app-`) is released and replaced, a pod another
// ReplicaSet controls is left alone, a Deployment re-adopts the ReplicaSet it orphaned, and the
// adoption writes lose cleanly to a concurrent writer and to a newer term's fence.
// No agent runs: pods stay Pending, which is all a ReplicaSet needs to count them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ClientError, InProcessClient, Kinds, type KubeObject } from '../../../src/client/index.ts';
import { defaultControllers } from '../../../src/control/index.ts';
import { isFenced } from '../../../src/client/index.ts';
import { executeClaims } from '../../../src/control/controllers/claim.ts';
import pino from 'pino';
import { ObjectInformer } from '../../../src/client/cache/index.ts';
import { startInProcessNode } from '../../lib/inprocess-node.ts';
import { startControlPlane, type ControlPlane } from '../../lib/control.ts';
import { pod } from '../../lib/objects.ts';
import { waitFor } from '../../lib/wait.ts';

let plane: ControlPlane;
let client: InProcessClient;
before(async () => {
  plane = await startControlPlane(defaultControllers());
  client = plane.client;
});
after(() => plane.stop());

const template = (labels: Record<string, string>) => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image: 'bramble-test/busybox:amd64' }] } });
function replicaSet(name: string, replicas: number, selector: Record<string, string>, labels = selector): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'default' }, spec: { replicas, selector: { matchLabels: selector }, template: template(labels) } };
}
const allPods = async (): Promise<KubeObject[]> => (await client.list(Kinds.pods, { namespace: 'default' })).items;
const controlledBy = (o: KubeObject, uid: string | undefined): boolean => o.metadata.ownerReferences?.some((r) => r.controller === true && r.uid === uid) ?? false;
const podsOf = async (uid: string | undefined): Promise<KubeObject[]> => (await allPods()).filter((p) => controlledBy(p, uid));
/** Waits until `probe` holds, then checks it still holds a little later (nothing more was created). */
async function settled(what: string, probe: () => Promise<boolean>): Promise<void> {
  await waitFor(what, async () => ((await probe()) ? true : undefined));
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(await probe(), `${what} no longer holds`);
}

test('a bare pod is adopted by a later ReplicaSet of 3, which creates 2 more, not 3', async () => {
  await client.create(Kinds.pods, pod('bare', { labels: { app: 'adopt' } }));
  const rs = await client.create(Kinds.replicasets, replicaSet('adopt', 3, { app: 'adopt' }));
  await settled('3 pods owned by the ReplicaSet', async () => (await podsOf(rs.metadata.uid)).length === 3);
  const bare = await client.get(Kinds.pods, 'default', 'bare');
  assert.deepEqual(bare.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'adopt', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  const labelled = (await allPods()).filter((p) => p.metadata.labels?.['app'] === 'adopt');
  assert.equal(labelled.length, 3, `pods: ${labelled.map((p) => p.metadata.name).join(', ')}`);
  assert.equal(labelled.filter((p) => p.metadata.name?.startsWith('adopt-')).length, 2);
  await waitFor('status replicas 3', async () => (((await client.get(Kinds.replicasets, 'default', 'adopt'))['status'] as { replicas?: number } | undefined)?.replicas === 3 ? true : undefined));
});

test('`kubectl label pod x app-`: the pod is released and a replacement created', async () => {
  const rs = await client.get(Kinds.replicasets, 'default', 'adopt');
  const victim = (await podsOf(rs.metadata.uid)).find((p) => p.metadata.name !== 'bare')!;
  await client.patch(Kinds.pods, 'default', victim.metadata.name ?? '', 'merge', { metadata: { labels: { app: null } } });
  await settled('the victim released and 3 others owned', async () => {
    const owned = await podsOf(rs.metadata.uid);
    return owned.length === 3 && !owned.some((p) => p.metadata.name === victim.metadata.name);
  });
  const released = await client.get(Kinds.pods, 'default', victim.metadata.name ?? '');
  assert.equal(released.metadata.ownerReferences, undefined, 'the field goes with its last reference');
  assert.equal(released.metadata.deletionTimestamp, undefined, 'released, not deleted');
  // Labelled back, it is an orphan the ReplicaSet matches again: adopted, and one extra pod goes.
  await client.patch(Kinds.pods, 'default', victim.metadata.name ?? '', 'merge', { metadata: { labels: { app: 'adopt' } } });
  await settled('back to 3 owned, the victim among them or deleted', async () => {
    const owned = (await podsOf(rs.metadata.uid)).filter((p) => p.metadata.deletionTimestamp === undefined);
    return owned.length === 3 && (await allPods()).filter((p) => p.metadata.labels?.['app'] === 'adopt' && p.metadata.deletionTimestamp === undefined).length === 3;
  });
  for (const p of await allPods()) if (p.metadata.labels?.['app'] === 'adopt') assert.ok(controlledBy(p, rs.metadata.uid), `${p.metadata.name ?? ''} is owned`);
  await client.delete(Kinds.replicasets, 'default', 'adopt');
  await waitFor('adopt pods gone', async () => ((await allPods()).some((p) => p.metadata.labels?.['app'] === 'adopt') ? undefined : true));
});

test('a pod another ReplicaSet controls is left alone even when it matches', async () => {
  const narrow = await client.create(Kinds.replicasets, replicaSet('narrow', 1, { app: 'overlap', tier: 'b' }));
  await waitFor('the narrow pod', async () => ((await podsOf(narrow.metadata.uid)).length === 1 ? true : undefined));
  const wide = await client.create(Kinds.replicasets, replicaSet('wide', 2, { app: 'overlap' }));
  await settled('wide owns 2 of its own, narrow keeps its 1', async () => (await podsOf(wide.metadata.uid)).length === 2 && (await podsOf(narrow.metadata.uid)).length === 1);
  assert.equal((await allPods()).filter((p) => p.metadata.labels?.['app'] === 'overlap').length, 3);
  for (const name of ['narrow', 'wide']) await client.delete(Kinds.replicasets, 'default', name);
  await waitFor('overlap pods gone', async () => ((await allPods()).some((p) => p.metadata.labels?.['app'] === 'overlap') ? undefined : true));
});

test('a Deployment deleted with --cascade=orphan and created again adopts its ReplicaSet (no new one, same pods)', async () => {
  const spec = { replicas: 2, selector: { matchLabels: { app: 'again' } }, template: template({ app: 'again' }) };
  const d1 = await client.create(Kinds.deployments, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'again', namespace: 'default' }, spec });
  const rs = await waitFor('its ReplicaSet', async () => (await client.list(Kinds.replicasets, { namespace: 'default' })).items.find((r) => controlledBy(r, d1.metadata.uid)));
  await waitFor('2 pods', async () => ((await podsOf(rs.metadata.uid)).length === 2 ? true : undefined));
  const podNames = (await podsOf(rs.metadata.uid)).map((p) => p.metadata.name).sort();
  await client.delete(Kinds.deployments, 'default', 'again', { propagationPolicy: 'Orphan' });
  await waitFor('the ReplicaSet orphaned', async () => ((await client.get(Kinds.replicasets, 'default', rs.metadata.name ?? '')).metadata.ownerReferences?.length ? undefined : true));
  await waitFor('the Deployment gone', () => client.get(Kinds.deployments, 'default', 'again').then(() => undefined, (e: unknown) => (e instanceof ClientError && e.code === 404 ? true : undefined)));
  const d2 = await client.create(Kinds.deployments, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'again', namespace: 'default' }, spec });
  await waitFor('the ReplicaSet adopted', async () => (controlledBy(await client.get(Kinds.replicasets, 'default', rs.metadata.name ?? ''), d2.metadata.uid) ? true : undefined));
  await settled('one ReplicaSet, the same two pods', async () => {
    const sets = (await client.list(Kinds.replicasets, { namespace: 'default' })).items.filter((r) => r.metadata.labels?.['app'] === 'again');
    const names = (await podsOf(rs.metadata.uid)).map((p) => p.metadata.name).sort();
    return sets.length === 1 && sets[0]!.metadata.uid === rs.metadata.uid && JSON.stringify(names) === JSON.stringify(podNames);
  });
  await client.delete(Kinds.deployments, 'default', 'again');
});

test('an adoption from a stale copy loses to the concurrent write; one from a deposed term is fenced', async () => {
  // A separate node: no controllers there to adopt the pod first.
  const solo = await startInProcessNode('pi9');
  try {
    const plain = new InProcessClient(solo.registry);
    await plain.create(Kinds.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    const owner = await plain.create(Kinds.replicasets, replicaSet('race', 1, { app: 'race' }));
    const stale = await plain.create(Kinds.pods, pod('contested', { labels: { app: 'race' } }));
    const winner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'first', uid: 'someone-else', controller: true };
    await plain.patch(Kinds.pods, 'default', 'contested', 'merge', { metadata: { ownerReferences: [winner] } });
    const term = await InProcessClient.fenced(solo.registry, 7, 'pi9');
    const cache = new ObjectInformer(term, Kinds.pods, { logger: pino({ level: 'silent' }) });
    const lost = await executeClaims(term, Kinds.replicasets, owner, Kinds.pods, cache, { owned: [], adopt: [stale], release: [] });
    assert.equal(lost.conflicts, 1);
    assert.deepEqual(lost.adopted, []);
    assert.deepEqual((await plain.get(Kinds.pods, 'default', 'contested')).metadata.ownerReferences, [winner], 'the other controller keeps it');

    const orphan = await plain.create(Kinds.pods, pod('orphan', { labels: { app: 'race' } }));
    await InProcessClient.fenced(solo.registry, 8, 'pi8');
    await assert.rejects(executeClaims(term, Kinds.replicasets, owner, Kinds.pods, cache, { owned: [], adopt: [orphan], release: [] }), (e: unknown) => isFenced(e));
    assert.deepEqual((await plain.get(Kinds.pods, 'default', 'orphan')).metadata.ownerReferences ?? [], []);
  } finally {
    await solo.stop();
  }
});
