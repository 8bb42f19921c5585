// The scheduler loop under the leader-only manager, over a real Raft node and store: pods get
// bound through the binding subresource, an unschedulable pod gets PodScheduled=False with
// Kubernetes' message and is placed once a node fits, and the loops stop when the node stops leading.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InProcessClient, Kinds, type KubeObject } from '../../../src/client/index.ts';
import { createScheduler } from '../../../src/control/index.ts';
import { readyNode, registerNode, startControlPlane, type ControlPlane } from '../../lib/control.ts';
import { pod } from '../../lib/objects.ts';
import { waitFor } from '../../lib/wait.ts';

let plane: ControlPlane;
let client: InProcessClient;
before(async () => {
  plane = await startControlPlane([(ctx) => createScheduler(ctx, { retryUnschedulableMs: 200 })], {
    beforeControllers: async (c) => {
      await registerNode(c, readyNode('pi1', { memory: '1Gi' }));
      await registerNode(c, readyNode('pi2', { memory: '1Gi', labels: { 'kubernetes.io/arch': 'arm64' } }));
    },
  });
  client = plane.client;
});
after(() => plane.stop());

const nodeOf = async (name: string): Promise<string | undefined> => ((await client.get(Kinds.pods, 'default', name))['spec'] as { nodeName?: string }).nodeName;
const scheduledCondition = async (name: string) => ((await client.get(Kinds.pods, 'default', name))['status'] as { conditions?: { type: string; status: string; reason?: string; message?: string }[] }).conditions?.find((c) => c.type === 'PodScheduled');

test('pods are bound, spread by least-allocated, arch selector honoured', async () => {
  await client.create(Kinds.pods, pod('a', { spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { memory: '600Mi' } } }] } }));
  await client.create(Kinds.pods, pod('b', { spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { memory: '300Mi' } } }] } }));
  await client.create(Kinds.pods, pod('arm', { spec: { nodeSelector: { 'kubernetes.io/arch': 'arm64' } } }));
  const a = await waitFor('a bound', () => nodeOf('a'));
  const b = await waitFor('b bound', () => nodeOf('b'));
  assert.notEqual(a, b, 'the second pod goes to the emptier node');
  assert.equal(await waitFor('arm bound', () => nodeOf('arm')), 'pi2');
  assert.equal((await scheduledCondition('a'))?.status, 'True');
  const events = await waitFor('a Scheduled event', async () => (await client.list(Kinds.events, { namespace: 'default' })).items.find((e) => (e['involvedObject'] as { name: string }).name === 'a' && e['reason'] === 'Scheduled'));
  assert.match(String(events['message']), new RegExp(`^Successfully assigned default/a to ${a}$`));
});

test('a pod nothing fits stays Pending with the aggregate message, then lands when a node fits', async () => {
  await client.create(Kinds.pods, pod('big', { spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { memory: '2Gi' } } }] } }));
  const cond = await waitFor('PodScheduled=False', async () => {
    const c = await scheduledCondition('big');
    return c?.status === 'False' ? c : undefined;
  });
  assert.equal(cond.reason, 'Unschedulable');
  assert.equal(cond.message, '0/2 nodes are available: 2 Insufficient memory.');
  assert.equal(await nodeOf('big'), undefined);
  await registerNode(client, readyNode('pi3', { memory: '8Gi' }));
  assert.equal(await waitFor('big bound', () => nodeOf('big')), 'pi3');
});

test('host ports conflict: the second pod asking the same host port goes elsewhere', async () => {
  const withPort = (name: string): KubeObject => pod(name, { spec: { nodeSelector: { 'kubernetes.io/arch': 'amd64' }, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] }] } });
  await client.create(Kinds.pods, withPort('port1'));
  const first = await waitFor('port1 bound', () => nodeOf('port1'));
  await client.create(Kinds.pods, withPort('port2'));
  const second = await waitFor('port2 bound', () => nodeOf('port2'));
  assert.notEqual(first, second);
  await client.create(Kinds.pods, withPort('port3'));
  const cond = await waitFor('port3 unschedulable', async () => {
    const c = await scheduledCondition('port3');
    return c?.status === 'False' ? c : undefined;
  });
  assert.equal(cond.message, "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) didn't have free ports for the requested pod ports.");
});

test('the loops stop when the node stops leading', async () => {
  assert.equal(typeof plane.manager.runningTerm, 'number');
  await plane.n.node.stop();
  assert.equal(plane.manager.runningTerm, undefined);
});
