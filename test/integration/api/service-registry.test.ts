// Service allocation through the Registry over a real single-member Raft node and store: concurrent
// creates never share an IP or port, requested ones are checked against what is stored, delete
// releases, updates keep what was allocated, and allocation rides the control-plane fence.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiError, Registry } from '../../../src/api/registry.ts';
import { findResource, type KubeObject } from '../../../src/api/resources/index.ts';
import { startInProcessNode, type InProcessNode } from '../../lib/inprocess-node.ts';

const SERVICES = findResource('', 'v1', 'services')!;
let node: InProcessNode;

before(async () => {
  node = await startInProcessNode();
});
after(async () => {
  await node.stop();
});

function svc(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], ...spec } };
}

const spec = (o: KubeObject): { clusterIP?: string; ports?: Array<{ nodePort?: number }>; type?: string } => o['spec'] as never;

async function rejection(p: Promise<unknown>): Promise<{ code?: number; message?: string; reason?: string }> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    return { code: error.status.code, message: error.status.message, reason: error.status.reason ?? '' };
  }
  assert.fail('expected a rejection');
}

test('concurrent creates through three API servers\' registries: 90 distinct IPs and 90 distinct node ports, none starved', async () => {
  // Three registries over one store, as three boards' API servers: only the store transaction keeps
  // them apart. Each server's creates take turns, so a server that kept losing to the others' queues
  // would run out of attempts (a 409): only a write that wants the same number may make another wait.
  const servers = [0, 1, 2].map(() => new Registry(node.store, undefined));
  const created = await Promise.all(Array.from({ length: 90 }, (_, i) => servers[i % 3]!.create(SERVICES, 'race', svc(`s${i}`, { type: 'NodePort' }))));
  assert.equal(new Set(created.map((o) => spec(o).clusterIP)).size, 90);
  assert.equal(new Set(created.map((o) => spec(o).ports?.[0]?.nodePort)).size, 90);
  // What was answered is what is stored.
  const listed = await node.registry.list(SERVICES, { namespace: 'race' });
  assert.deepEqual(new Set(listed.items.map((o) => spec(o).clusterIP)), new Set(created.map((o) => spec(o).clusterIP)));
});

/** An IP and a node port no stored Service holds (the earlier tests' Services got random ones). */
async function freeIpAndPort(): Promise<{ ip: string; port: number }> {
  const held = (await node.registry.list(SERVICES, {})).items.map(spec);
  const ips = new Set(held.map((s) => s.clusterIP));
  const ports = new Set(held.flatMap((s) => (s.ports ?? []).map((p) => p.nodePort)));
  let last = 7;
  while (ips.has(`10.43.7.${last}`)) last++;
  let port = 31000;
  while (ports.has(port)) port++;
  return { ip: `10.43.7.${last}`, port };
}

test('two servers that ask for the same IP and node port at once: one Service gets them, the other a 422', async () => {
  const { ip, port } = await freeIpAndPort();
  const servers = [new Registry(node.store, undefined), new Registry(node.store, undefined)];
  for (let round = 0; round < 5; round++) {
    const ask = (i: number): Promise<KubeObject> => servers[i]!.create(SERVICES, 'same', svc(`r${round}-${i}`, { type: 'NodePort', clusterIP: ip, ports: [{ port: 80, nodePort: port }] }));
    const results = await Promise.allSettled([ask(0), ask(1)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, `round ${round}: ${results.map((r) => r.status).join(', ')}`);
    const lost = results.find((r) => r.status === 'rejected');
    assert.ok(lost?.status === 'rejected' && lost.reason instanceof ApiError && lost.reason.status.code === 422, String(lost));
    await node.registry.delete(SERVICES, 'same', (won[0] as PromiseFulfilledResult<KubeObject>).value.metadata.name ?? '');
  }
});

test('a requested IP or node port held by another Service is 422; free again once that Service is deleted', async () => {
  const { ip, port } = await freeIpAndPort();
  const first = await node.registry.create(SERVICES, 'default', svc('first', { type: 'NodePort', clusterIP: ip, ports: [{ port: 80, nodePort: port }] }));
  assert.equal(spec(first).clusterIP, ip);
  assert.deepEqual(await rejection(node.registry.create(SERVICES, 'default', svc('second', { clusterIP: ip }))), {
    code: 422,
    reason: 'Invalid',
    message: `Service "second" is invalid: spec.clusterIPs: Invalid value: ["${ip}"]: failed to allocate IP ${ip}: provided IP is already allocated`,
  });
  assert.deepEqual(await rejection(node.registry.create(SERVICES, 'default', svc('second', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }))), {
    code: 422,
    reason: 'Invalid',
    message: `Service "second" is invalid: spec.ports[0].nodePort: Invalid value: ${port}: provided port is already allocated`,
  });
  await node.registry.delete(SERVICES, 'default', 'first');
  const second = await node.registry.create(SERVICES, 'default', svc('second', { type: 'NodePort', clusterIP: ip, ports: [{ port: 80, nodePort: port }] }));
  assert.equal(spec(second).ports?.[0]?.nodePort, port);
});

test('updates keep the IP (a change is immutable: 422); type changes allocate and release node ports', async () => {
  const web = await node.registry.create(SERVICES, 'default', svc('web'));
  const ip = spec(web).clusterIP;
  assert.match(ip ?? '', /^10\.43\./);
  const noIp = await node.registry.update(SERVICES, 'default', 'web', svc('web', { type: 'NodePort' }));
  assert.equal(spec(noIp).clusterIP, ip);
  const port = spec(noIp).ports?.[0]?.nodePort ?? 0;
  assert.ok(port >= 30000 && port <= 32767, String(port));
  const again = await node.registry.update(SERVICES, 'default', 'web', { ...noIp, metadata: { ...noIp.metadata, labels: { a: 'b' } } });
  assert.equal(spec(again).ports?.[0]?.nodePort, port);
  assert.deepEqual(await rejection(node.registry.update(SERVICES, 'default', 'web', svc('web', { clusterIP: '10.43.9.9', type: 'NodePort' }))), {
    code: 422,
    reason: 'Invalid',
    message: 'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.43.9.9"]: may not change once set',
  });
  // Back to ClusterIP with the node port still in the body (kubectl edit of the type alone): released.
  const back = await node.registry.update(SERVICES, 'default', 'web', { ...again, spec: { ...(again['spec'] as object), type: 'ClusterIP' } });
  assert.equal(spec(back).ports?.[0]?.nodePort, undefined);
  const other = await node.registry.create(SERVICES, 'default', svc('other', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }));
  assert.equal(spec(other).ports?.[0]?.nodePort, port);
});

test('a deposed leader\'s fenced registry allocates nothing once a newer term holds the fence', async () => {
  const old = node.registry.fenced(await node.registry.acquireFence(5, 'old'));
  await node.registry.acquireFence(6, 'new');
  assert.equal((await rejection(old.create(SERVICES, 'default', svc('late')))).reason, 'Fenced');
  assert.equal((await rejection(node.registry.get(SERVICES, 'default', 'late'))).code, 404);
});

test('a NodePort Service with 100 ports (a range) is created with 100 distinct node ports: one claim for all, within a transaction\'s limit', async () => {
  const ports = Array.from({ length: 100 }, (_, i) => ({ name: `p${i}`, port: 10_000 + i, protocol: i % 2 === 0 ? 'TCP' : 'UDP' }));
  const wide = await node.registry.create(SERVICES, 'wide', svc('rtp', { type: 'NodePort', ports }));
  assert.equal(new Set(spec(wide).ports?.map((p) => p.nodePort)).size, 100);
  // A small Service created after it gets none of its ports.
  const small = await node.registry.create(SERVICES, 'wide', svc('after', { type: 'NodePort' }));
  assert.ok(!spec(wide).ports?.some((p) => p.nodePort === spec(small).ports?.[0]?.nodePort));
});
