// @kubernetes/client-node (the official JavaScript client) against a real `bramble up`: it loads
// the kubeconfig bramble wrote, lists nodes and namespaces, and watches pods. No container
// runtime: the watched pod needs no container, and a stopped bramble up keeps its containers by design.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { ProcessGroup, type ManagedProcess, STARTUP_TIMEOUT_MS } from '../lib/processes.ts';

describe('@kubernetes/client-node against bramble up', { timeout: 180_000 }, () => {
  const group = new ProcessGroup();
  let node: ManagedProcess;
  const kc = new KubeConfig();

  before(async () => {
    node = await group.spawn('pi1', {
      portNames: ['peer', 'client', 'api'],
      args: ({ ports, dataDir, name }) => ['up', '--name', name, '--data-dir', dataDir, '--peer-addr', `127.0.0.1:${ports['peer']}`, '--client-addr', `127.0.0.1:${ports['client']}`, '--api-addr', `127.0.0.1:${ports['api']}`, '--runtime', 'none', '--log-level', 'warn'],
    });
    await node.waitForLog(/Kubernetes API: https:/, STARTUP_TIMEOUT_MS);
    kc.loadFromFile(join(node.dataDir, 'kubeconfig'));
  });
  after(() => group.cleanup());

  test('lists nodes and namespaces', async () => {
    const api = kc.makeApiClient(CoreV1Api);
    const nodes = await api.listNode();
    assert.deepEqual(nodes.items.map((n) => n.metadata?.name), ['pi1']);
    const namespaces = await api.listNamespace();
    assert.ok(namespaces.items.some((n) => n.metadata?.name === 'kube-system'));
  });

  test('watches pods: sees one created after the watch started', async () => {
    const api = kc.makeApiClient(CoreV1Api);
    const list = await api.listNamespacedPod({ namespace: 'default' });
    const seen: string[] = [];
    const watch = new Watch(kc);
    const controller = await watch.watch('/api/v1/namespaces/default/pods', { resourceVersion: list.metadata?.resourceVersion }, (type: string, obj: { metadata?: { name?: string } }) => seen.push(`${type} ${obj.metadata?.name ?? ''}`), () => undefined);
    try {
      await api.createNamespacedPod({ namespace: 'default', body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'watched' }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } } });
      const deadline = Date.now() + 20_000;
      while (!seen.includes('ADDED watched') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // The first event is the creation; the scheduler may follow it with MODIFIED (PodScheduled) events.
      assert.equal(seen[0], 'ADDED watched');
      assert.ok(seen.every((e) => e.endsWith(' watched')), seen.join(', '));
    } finally {
      controller.abort();
    }
  });
});
