// The mirror pods of a board's built-in components (kube-proxy, coredns) over a real single-member
// Raft node and store: written once the Node exists, Ready as the component says, nothing written
// while nothing changes, a state change written at the next check, a pod deleted by hand back with
// a new uid, owned by the Node.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { type ComponentState, MIRROR_ANNOTATION, startMirrorPods } from '../../../src/agent/mirror-pods.ts';
import { InProcessClient, Kinds, type KubeObject } from '../../../src/client/index.ts';
import { startInProcessNode, type InProcessNode } from '../../lib/inprocess-node.ts';
import { waitFor } from '../../lib/wait.ts';

let node: InProcessNode;
before(async () => {
  node = await startInProcessNode();
});
after(async () => {
  await node.stop();
});

interface PodStatusView { phase?: string; podIP?: string; conditions?: Array<{ type: string; status: string; message?: string }>; containerStatuses?: Array<{ ready: boolean }> }
const statusOf = (pod: KubeObject): PodStatusView => (pod['status'] ?? {}) as PodStatusView;
const readyOf = (pod: KubeObject): string | undefined => statusOf(pod).conditions?.find((c) => c.type === 'Ready')?.status;

test('kube-proxy-<node> and coredns-<node> in kube-system: Ready as their component, written only on change, back when deleted', async () => {
  const client = new InProcessClient(node.registry);
  const proxy: ComponentState = { ready: true, message: '' };
  const dns: ComponentState = { ready: false, message: 'not answering on 10.43.0.10:53' };
  const mirrors = startMirrorPods({
    client,
    nodeName: 'pi-1',
    image: 'bramble:0.0.0-test',
    logger: pino({ level: 'silent' }),
    checkIntervalMs: 100,
    components: [
      { name: 'kube-proxy', description: 'the Service proxy inside bramble up', state: () => proxy },
      { name: 'coredns', description: 'the cluster DNS inside bramble up', state: () => dns },
    ],
  });
  try {
    // No Node yet: nothing is written (the owner reference needs its uid).
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await client.list(Kinds.pods, { namespace: 'kube-system' })).items.length, 0);
    const nodeObject = await client.create(Kinds.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi-1' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.1.21' }] } });

    const pods = await waitFor('both mirror pods with their status', async () => {
      const items = (await client.list(Kinds.pods, { namespace: 'kube-system' })).items;
      return items.length === 2 && items.every((p) => statusOf(p).phase === 'Running') ? items : null;
    }, 30_000, 50);
    const byName = new Map(pods.map((p) => [p.metadata.name, p]));
    const kubeProxy = byName.get('kube-proxy-pi-1')!;
    assert.equal(readyOf(kubeProxy), 'True');
    assert.equal(statusOf(kubeProxy).podIP, '192.168.1.21');
    assert.equal(kubeProxy.metadata.annotations?.[MIRROR_ANNOTATION], 'kube-proxy');
    assert.deepEqual(kubeProxy.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid]), [['Node', 'pi-1', nodeObject.metadata.uid]]);
    assert.equal((kubeProxy['spec'] as { nodeName?: string }).nodeName, 'pi-1');
    const coredns = byName.get('coredns-pi-1')!;
    assert.equal(readyOf(coredns), 'False');
    assert.equal(statusOf(coredns).conditions?.find((c) => c.type === 'Ready')?.message, 'not answering on 10.43.0.10:53');

    // Idle: several checks, no write.
    const versions = pods.map((p) => p.metadata.resourceVersion).sort();
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.deepEqual((await client.list(Kinds.pods, { namespace: 'kube-system' })).items.map((p) => p.metadata.resourceVersion).sort(), versions);

    Object.assign(dns, { ready: true, message: '' });
    await waitFor('coredns Ready', async () => readyOf(await client.get(Kinds.pods, 'kube-system', 'coredns-pi-1')) === 'True', 30_000, 50);

    await client.delete(Kinds.pods, 'kube-system', 'kube-proxy-pi-1');
    await waitFor('kube-proxy back with a new uid', async () => {
      const again = await client.get(Kinds.pods, 'kube-system', 'kube-proxy-pi-1').catch(() => null);
      return again !== null && again.metadata.uid !== kubeProxy.metadata.uid && !again.metadata.deletionTimestamp && readyOf(again) === 'True';
    }, 30_000, 50);
  } finally {
    mirrors.stop();
  }
});
