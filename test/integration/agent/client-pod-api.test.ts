// The agent's pod watch (ClientPodApi over the in-process Client, on a real single-member Raft
// node) rides the one list-and-watch cache: after a real 410 it lists again and tells the agent
// what changed meanwhile, including a pod deleted and created again under the same name (a new
// uid: the old one is reported deleted, so its containers go).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { ClientPodApi } from '../../../src/agent/client-adapters.ts';
import type { PodEvent } from '../../../src/agent/pods/reconciler.ts';
import { type Client, InProcessClient, Kinds } from '../../../src/client/index.ts';
import { pod } from '../../lib/objects.ts';
import { type InProcessNode, startInProcessNode } from '../../lib/inprocess-node.ts';
import { waitFor } from '../../lib/wait.ts';

let n: InProcessNode;
let client: InProcessClient;

before(async () => {
  n = await startInProcessNode('agent-watch');
  client = new InProcessClient(n.registry);
  await client.create(Kinds.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
});
after(async () => n.stop());

test('after a 410 the pod watch reports the changes made meanwhile, a recreated pod as delete + upsert', { timeout: 60_000 }, async () => {
  const first = await client.create(Kinds.pods, pod('web', { node: 'pi-1' }));
  await client.create(Kinds.pods, pod('gone', { node: 'pi-1' }));
  // The real client with its first watch held back until the store has moved on and compacted:
  // that watch then starts from a revision the store no longer has, as a slow one would.
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  let watches = 0;
  const slow: Client = Object.assign(Object.create(client) as InProcessClient, {
    watch: (async (...args: Parameters<Client['watch']>) => {
      if (watches++ === 0) await held;
      return client.watch(...args);
    }) as Client['watch'],
  });
  const events: string[] = [];
  const api = new ClientPodApi(slow, { logger: pino({ level: 'silent' }) });
  const { initial, stop } = await api.watchPods('pi-1', (e: PodEvent) => events.push(e.type === 'deleted' ? `deleted ${e.uid}` : `upsert ${e.pod.metadata.name} ${e.pod.metadata.uid}`));
  try {
    assert.deepEqual(initial.map((p) => p.metadata.name).sort(), ['gone', 'web']);
    const gone = initial.find((p) => p.metadata.name === 'gone')!;
    await client.delete(Kinds.pods, 'default', 'gone', { gracePeriodSeconds: 0 });
    await client.delete(Kinds.pods, 'default', 'web', { gracePeriodSeconds: 0 });
    const again = await client.create(Kinds.pods, pod('web', { node: 'pi-1' }));
    await client.create(Kinds.pods, pod('elsewhere', { node: 'pi-2' }));
    await n.store.compact(n.store.local.revision());
    release();
    await waitFor('the relist', () => (events.length >= 3 ? true : undefined));
    assert.deepEqual(events.sort(), [`deleted ${first.metadata.uid ?? ''}`, `deleted ${gone.metadata.uid}`, `upsert web ${again.metadata.uid ?? ''}`].sort());
    assert.ok(watches >= 2, 'watching again from the new list');
  } finally {
    stop();
  }
});
