// A patch that names no resourceVersion applies to the newest object even when another writer
// changes it between the read and the write (Kubernetes retries such a patch); one that names a
// resourceVersion gets the 409. Over a real single-member Raft node, through the in-process Client.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { findResource, patchPinsResourceVersion, type KubeObject } from '../../../src/api/resources/index.ts';
import { ClientError, InProcessClient } from '../../../src/client/index.ts';
import { startInProcessNode, type InProcessNode } from '../../lib/inprocess-node.ts';

const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;
let node: InProcessNode;

before(async () => {
  node = await startInProcessNode();
});
after(() => node.stop());

test('patchPinsResourceVersion: merge/strategic metadata.resourceVersion, or a JSON patch op on it', () => {
  assert.equal(patchPinsResourceVersion('merge', { data: { a: '1' } }), false);
  assert.equal(patchPinsResourceVersion('strategic', { metadata: { resourceVersion: '7' } }), true);
  assert.equal(patchPinsResourceVersion('json', [{ op: 'replace', path: '/data/a', value: '1' }]), false);
  assert.equal(patchPinsResourceVersion('json', [{ op: 'test', path: '/metadata/resourceVersion', value: '7' }]), true);
  assert.equal(patchPinsResourceVersion('merge', null), false);
});

test('a concurrent write between read and write: the unpinned change is computed again on the newer object', async () => {
  const client = new InProcessClient(node.registry);
  await client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'raced', namespace: 'default' }, data: { writer: 'none' } });
  let calls = 0;
  const result = await node.registry.updateFrom(
    CONFIGMAPS,
    'default',
    'raced',
    async (current) => {
      calls++;
      // The first time, another writer changes the object after our read: our write must conflict.
      if (calls === 1) await client.patch(CONFIGMAPS, 'default', 'raced', 'merge', { data: { other: 'yes' } });
      return { ...current, data: { ...(current as KubeObject & { data: Record<string, string> }).data, writer: 'patch' } } as KubeObject;
    },
    { retryOnConflict: true },
  );
  assert.equal(calls, 2);
  assert.deepEqual((result as KubeObject & { data: unknown }).data, { writer: 'patch', other: 'yes' });
});

test('a pinned change that lost the race is a 409 Conflict, and the other write stands', async () => {
  const client = new InProcessClient(node.registry);
  await client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pinned', namespace: 'default' }, data: { writer: 'none' } });
  const stale = await client.get(CONFIGMAPS, 'default', 'pinned');
  await client.patch(CONFIGMAPS, 'default', 'pinned', 'merge', { data: { writer: 'other' } });
  await assert.rejects(
    client.patch(CONFIGMAPS, 'default', 'pinned', 'merge', { metadata: { resourceVersion: stale.metadata.resourceVersion }, data: { writer: 'late' } }),
    (error: unknown) => error instanceof ClientError && error.code === 409,
  );
  assert.deepEqual((await client.get(CONFIGMAPS, 'default', 'pinned') as KubeObject & { data: unknown }).data, { writer: 'other' });
});
