// The Service ClusterIP / NodePort allocator, pure: ranges, requested values, exhaustion, release.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocateService, allocationsOf, parseServiceCidr, newAllocations, serviceIPAt, type AllocationResult } from '../../../src/api/service-alloc.ts';
import type { KubeObject } from '../../../src/api/resources/index.ts';

const RANGE = parseServiceCidr('10.43.0.0/16');

function svc(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }], ...spec } };
}

function allocated(result: AllocationResult): KubeObject {
  assert.ok(result.ok, JSON.stringify(result));
  return result.service;
}

const specOf = (o: KubeObject): Record<string, unknown> => o['spec'] as Record<string, unknown>;
const messages = (result: AllocationResult): string[] => (!result.ok && 'errors' in result ? result.errors.map((e) => `${e.field}: ${e.message}`) : []);

test('service CIDR: parsed and normalised; refused with what would do', () => {
  assert.equal(parseServiceCidr(' 10.96.0.0/12 ').text, '10.96.0.0/12');
  assert.throws(() => parseServiceCidr('10.43.0.0'), { message: '"10.43.0.0" is not an IPv4 CIDR (a.b.c.d/n), e.g. 10.43.0.0/16' });
  assert.throws(() => parseServiceCidr('10.43.0.0/29'), { message: "10.43.0.0/29 is too small: the DNS Service takes the range's 10th address, so the prefix must be /28 or shorter (e.g. 10.43.0.0/16)" });
  assert.throws(() => parseServiceCidr('10.0.0.0/8'), { message: '10.0.0.0/8 is too large: at most a /12 (1,048,576 addresses), as Kubernetes allows (e.g. 10.43.0.0/16)' });
  assert.throws(() => parseServiceCidr('10.43.0.1/16'), { message: '10.43.0.1/16 has host bits set: the network is 10.43.0.0/16' });
  assert.equal(serviceIPAt(RANGE, 10), '10.43.0.10');
});

test('ClusterIP: a dynamic address is in the range, never the well-known .1 or .10, and from the upper band first', () => {
  const random = (): number => 0;
  const out = allocated(allocateService(svc('web', {}), undefined, allocationsOf([], RANGE), RANGE, random));
  // Kubernetes' static band of a /16 is its first 256 addresses: dynamic allocation starts above it.
  assert.equal(specOf(out).clusterIP, '10.43.1.1');
  assert.deepEqual(specOf(out).clusterIPs, ['10.43.1.1']);
  const small = parseServiceCidr('10.43.0.0/28');
  const held = [svc('a', { clusterIP: '10.43.0.2' })];
  const ips = new Set<unknown>();
  for (let i = 0; i < 30; i++) ips.add(specOf(allocated(allocateService(svc('x', {}), undefined, allocationsOf(held, small), small, Math.random))).clusterIP);
  for (const ip of ips) assert.ok(!['10.43.0.0', '10.43.0.1', '10.43.0.2', '10.43.0.10', '10.43.0.15'].includes(String(ip)), String(ip));
});

test('ClusterIP: exhaustion is the 500 Kubernetes answers, and a deleted Service releases its address', () => {
  const small = parseServiceCidr('10.43.0.0/28');
  const services: KubeObject[] = [];
  // 14 usable addresses, 2 of them reserved for the kubernetes and kube-dns Services.
  for (let i = 0; i < 12; i++) services.push(allocated(allocateService(svc(`s${i}`, {}), undefined, allocationsOf(services, small), small)));
  assert.equal(new Set(services.map((s) => specOf(s).clusterIP)).size, 12);
  const full = allocateService(svc('one-more', {}), undefined, allocationsOf(services, small), small);
  assert.deepEqual(full, { ok: false, status: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Internal error occurred: failed to allocate a serviceIP: range is full', reason: 'InternalError', details: { causes: [{ message: 'failed to allocate a serviceIP: range is full' }] }, code: 500 } });
  const gone = services.splice(5, 1)[0]!;
  const again = allocated(allocateService(svc('one-more', {}), undefined, allocationsOf(services, small), small));
  assert.equal(specOf(again).clusterIP, specOf(gone).clusterIP);
});

test('ClusterIP: a requested address outside the range or held by another Service is 422 with Kubernetes\' words', () => {
  const held = [svc('a', { clusterIP: '10.43.0.5', clusterIPs: ['10.43.0.5'] })];
  const taken = allocationsOf(held, RANGE);
  assert.deepEqual(messages(allocateService(svc('b', { clusterIP: '10.96.0.5' }), undefined, taken, RANGE)), [
    'spec.clusterIPs: Invalid value: ["10.96.0.5"]: failed to allocate IP 10.96.0.5: the provided IP (10.96.0.5) is not in the valid range. The range of valid IPs is 10.43.0.0/16',
  ]);
  // The network and broadcast addresses are not in the valid range either.
  assert.equal(messages(allocateService(svc('b', { clusterIP: '10.43.255.255' }), undefined, taken, RANGE)).length, 1);
  assert.deepEqual(messages(allocateService(svc('b', { clusterIPs: ['10.43.0.5'] }), undefined, taken, RANGE)), [
    'spec.clusterIPs: Invalid value: ["10.43.0.5"]: failed to allocate IP 10.43.0.5: provided IP is already allocated',
  ]);
  const ok = allocated(allocateService(svc('b', { clusterIP: '10.43.0.6' }), undefined, taken, RANGE));
  assert.deepEqual(specOf(ok).clusterIPs, ['10.43.0.6']);
  // The well-known addresses can be asked for by name (the bootstrap does).
  assert.equal(specOf(allocated(allocateService(svc('kube-dns', { clusterIP: '10.43.0.10' }), undefined, taken, RANGE))).clusterIP, '10.43.0.10');
});

test('headless and ExternalName Services take no address', () => {
  const headless = allocated(allocateService(svc('h', { clusterIP: 'None' }), undefined, allocationsOf([], RANGE), RANGE));
  assert.deepEqual([specOf(headless).clusterIP, specOf(headless).clusterIPs], ['None', ['None']]);
  const ext = allocated(allocateService(svc('e', { type: 'ExternalName', externalName: 'example.com', clusterIP: '' }), undefined, allocationsOf([], RANGE), RANGE));
  assert.equal(specOf(ext).clusterIP, undefined);
  assert.deepEqual(allocationsOf([headless, ext], RANGE).ips, new Set());
});

test('NodePort: every port gets a distinct one in 30000-32767; requested ones are checked; LoadBalancer too', () => {
  const two = svc('np', { type: 'NodePort', ports: [{ name: 'a', port: 80, protocol: 'TCP' }, { name: 'b', port: 81, protocol: 'TCP' }] });
  const out = allocated(allocateService(two, undefined, allocationsOf([], RANGE), RANGE, () => 0));
  const ports = (specOf(out).ports as Array<{ nodePort: number }>).map((p) => p.nodePort);
  assert.deepEqual(ports, [30000, 30001]);
  const held = allocationsOf([out], RANGE);
  assert.deepEqual(messages(allocateService(svc('x', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] }), undefined, held, RANGE)), [
    'spec.ports[0].nodePort: Invalid value: 30001: provided port is already allocated',
  ]);
  assert.deepEqual(messages(allocateService(svc('x', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }), undefined, held, RANGE)), [
    'spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
  ]);
  const lb = allocated(allocateService(svc('lb', { type: 'LoadBalancer' }), undefined, held, RANGE, () => 0));
  assert.equal((specOf(lb).ports as Array<{ nodePort: number }>)[0]!.nodePort, 30002);
  const noPorts = allocated(allocateService(svc('lb2', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false }), undefined, held, RANGE));
  assert.equal((specOf(noPorts).ports as Array<{ nodePort?: number }>)[0]!.nodePort, undefined);
});

test('NodePort: exhaustion is 500, and deleting a Service releases its ports', () => {
  const services: KubeObject[] = [];
  const many = Array.from({ length: 100 }, (_, i) => ({ name: `p${i}`, port: 1000 + i, protocol: 'TCP' }));
  for (let i = 0; i < 27; i++) services.push(allocated(allocateService(svc(`s${i}`, { type: 'NodePort', ports: many }), undefined, allocationsOf(services, RANGE), RANGE)));
  const last = allocated(allocateService(svc('last', { type: 'NodePort', ports: many.slice(0, 68) }), undefined, allocationsOf(services, RANGE), RANGE));
  services.push(last);
  assert.equal(allocationsOf(services, RANGE).ports.size, 2768);
  const full = allocateService(svc('more', { type: 'NodePort' }), undefined, allocationsOf(services, RANGE), RANGE);
  assert.ok(!full.ok && 'status' in full && full.status.message === 'Internal error occurred: failed to allocate a nodePort: range is full');
  services.pop();
  assert.ok(allocateService(svc('more', { type: 'NodePort' }), undefined, allocationsOf(services, RANGE), RANGE).ok);
});

test('updates keep the IP and own ports; a type change to NodePort allocates, back to ClusterIP releases', () => {
  const old = allocated(allocateService(svc('web', { type: 'NodePort' }), undefined, allocationsOf([], RANGE), RANGE));
  const same = allocated(allocateService(structuredClone(old), old, allocationsOf([], RANGE), RANGE));
  assert.deepEqual(same, old);
  assert.deepEqual(newAllocations(same, old, RANGE), { ips: new Set(), ports: new Set() });
  const asClusterIP = allocated(allocateService(svc('web', { clusterIP: specOf(old).clusterIP, type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP', nodePort: 0 }] }), old, allocationsOf([], RANGE), RANGE));
  assert.equal((specOf(asClusterIP).ports as Array<{ nodePort?: number }>)[0]!.nodePort, undefined);
  const back = allocated(allocateService(svc('web', { clusterIP: specOf(old).clusterIP, type: 'NodePort' }), asClusterIP, allocationsOf([], RANGE), RANGE));
  const backPort = (specOf(back).ports as Array<{ nodePort?: number }>)[0]!.nodePort ?? 0;
  assert.ok(backPort >= 30000);
  // Only the new port is claimed: the IP stayed the Service's.
  assert.deepEqual(newAllocations(back, asClusterIP, RANGE), { ips: new Set(), ports: new Set([backPort]) });
  assert.equal(newAllocations(back, undefined, RANGE).ips.size, 1);
});
