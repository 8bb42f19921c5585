// The pod subnet allocator under the leader-only manager, over a real Raft node and store: one
// /24 per Node stored with it, two leaders in a row (the first deposed but not yet aware) never
// hand out one subnet twice, a full range is a condition and an Event, a deleted Node's subnet
// goes to the Node that waited for one.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { InProcessClient, Kinds, type KubeObject } from '../../../src/client/index.ts';
import { ControlManager, type Leadership } from '../../../src/control/index.ts';
import { createPodCidrController } from '../../../src/control/controllers/pod-cidr.ts';
import { readyNode, registerNode } from '../../lib/control.ts';
import { startInProcessNode, type InProcessNode } from '../../lib/inprocess-node.ts';
import { waitFor } from '../../lib/wait.ts';

let n: InProcessNode;
let client: InProcessClient;
const managers: ControlManager[] = [];

before(async () => {
  n = await startInProcessNode('pi0');
  client = new InProcessClient(n.registry);
  await client.create(Kinds.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
});
after(async () => {
  for (const manager of managers) manager.stop();
  await n.stop();
});

/** A leader of its own term over the shared store, as a new Raft leader would be; it is never told it lost. */
function leaderOfTerm(term: number, name: string, clusterCidr: string): ControlManager {
  const leadership: Leadership = {
    onLeadershipChange: () => () => undefined,
    lastContact: () => new Map(),
    status: () => ({ members: {}, role: 'leader', term }),
  };
  const manager = new ControlManager({
    leadership,
    nodeName: name,
    connect: (t) => InProcessClient.fenced(n.registry, t, name),
    controllers: [createPodCidrController],
    logger: pino({ level: process.env['BRAMBLE_TEST_LOG'] ?? 'silent' }),
    config: { clusterCidr },
  });
  managers.push(manager);
  manager.start();
  return manager;
}

interface NodeView {
  spec?: { podCIDR?: string; podCIDRs?: string[] };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

async function nodesByName(prefix: string): Promise<Map<string, NodeView>> {
  const items = (await client.list(Kinds.nodes)).items.filter((node) => node.metadata.name?.startsWith(prefix));
  return new Map(items.map((node: KubeObject) => [node.metadata.name ?? '', node as NodeView]));
}

const podCidrOf = async (name: string): Promise<string | undefined> => ((await client.get(Kinds.nodes, undefined, name)) as NodeView).spec?.podCIDR;

test('two leaders in a row never hand out the same subnet; each Node keeps the one it got', { timeout: 120_000 }, async () => {
  const first = leaderOfTerm(1_000, 'pi-a', '10.42.0.0/16');
  for (const name of ['two-1', 'two-2']) await registerNode(client, readyNode(name));
  await waitFor('two-1 and two-2 with subnets', async () => [...(await nodesByName('two-')).values()].every((node) => node.spec?.podCIDR));
  const before = await nodesByName('two-');

  // A new leader claims the fence while the first still runs its loop; both see the new Nodes.
  const second = leaderOfTerm(1_001, 'pi-b', '10.42.0.0/16');
  await waitFor('the second leader running', () => second.runningTerm === 1_001);
  for (const name of ['two-3', 'two-4', 'two-5']) await registerNode(client, readyNode(name));
  await waitFor('five Nodes with subnets', async () => {
    const nodes = [...(await nodesByName('two-')).values()];
    return nodes.length === 5 && nodes.every((node) => node.spec?.podCIDR);
  });
  const after = await nodesByName('two-');
  const handed = [...after.values()].map((node) => node.spec?.podCIDR);
  assert.equal(new Set(handed).size, 5, `a subnet handed out twice: ${handed.join(', ')}`);
  for (const [name, node] of after) {
    assert.match(node.spec?.podCIDR ?? '', /^10\.42\.\d+\.0\/24$/);
    assert.deepEqual(node.spec?.podCIDRs, [node.spec?.podCIDR], name);
  }
  for (const name of ['two-1', 'two-2']) assert.equal(after.get(name)?.spec?.podCIDR, before.get(name)?.spec?.podCIDR, `${name} changed subnet`);
  // The first leader's write was refused by the fence: its loops stopped.
  await waitFor('the deposed leader stopped', () => first.runningTerm === undefined);
  for (const name of [...after.keys()]) await client.delete(Kinds.nodes, undefined, name);
  second.stop();
});

test('a full range: the Node waits with NetworkUnavailable and an Event, and gets the subnet a deleted Node frees', { timeout: 120_000 }, async () => {
  // A /23 holds two boards; 10.44/16 is used by no other test of this file.
  const leader = leaderOfTerm(2_000, 'pi-c', '10.44.0.0/23');
  for (const name of ['full-1', 'full-2']) await registerNode(client, readyNode(name));
  await waitFor('full-1 and full-2 with subnets', async () => (await podCidrOf('full-1')) && (await podCidrOf('full-2')));
  await registerNode(client, readyNode('full-3'));
  const waiting = await waitFor('full-3 NetworkUnavailable', async () => {
    const node = (await client.get(Kinds.nodes, undefined, 'full-3')) as NodeView;
    return node.status?.conditions?.find((c) => c.type === 'NetworkUnavailable' && c.status === 'True');
  });
  assert.equal(waiting.reason, 'NoCIDRAvailable');
  assert.equal(waiting.message, 'no free /24 left in the cluster CIDR 10.44.0.0/23 (2 taken): delete a Node that is gone, or start the cluster with a larger --cluster-cidr');
  assert.equal(await podCidrOf('full-3'), undefined);
  const events = (await client.list(Kinds.events, { namespace: 'default' })).items.filter(
    (event) => (event['involvedObject'] as { name: string }).name === 'full-3' && event['reason'] === 'CIDRNotAvailable',
  );
  assert.equal(events.length, 1);
  assert.equal(events[0]!['type'], 'Warning');

  const freed = await podCidrOf('full-1');
  await client.delete(Kinds.nodes, undefined, 'full-1');
  assert.equal(await waitFor('full-3 given the freed subnet', () => podCidrOf('full-3')), freed);
  const node = (await client.get(Kinds.nodes, undefined, 'full-3')) as NodeView;
  const condition = node.status?.conditions?.find((c) => c.type === 'NetworkUnavailable');
  assert.deepEqual([condition?.status, condition?.reason], ['False', 'CIDRAssigned']);
  leader.stop();
});
