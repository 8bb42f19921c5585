// The EndpointSlice contents (shared backend computation with Endpoints), the kubernetes Service's
// endpoints from the Nodes, and LoadBalancer ingress: pure planners.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../../src/client/index.ts';
import { desiredSlices, MAX_ENDPOINTS_PER_SLICE } from '../../../../src/control/controllers/endpointslices.ts';
import { endpointSubsets } from '../../../../src/control/controllers/endpoints.ts';
import { apiServers, apiSlices, apiSubsets } from '../../../../src/control/controllers/api-endpoints.ts';
import { loadBalancerIngress } from '../../../../src/control/controllers/service-lb.ts';
import { serviceBackends } from '../../../../src/control/controllers/service-backends.ts';
import { templateHash } from '../../../../src/control/controllers/hash.ts';
import { pod } from '../../../lib/objects.ts';

const svc: KubeObject = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }] },
};
const spec = { containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: 8080 }] }] };

test('EndpointSlice: ready, not-ready and terminating pods with their conditions, nodeName, targetRef, named ports', () => {
  const pods = [pod('a', { ip: '10.42.0.2', node: 'n1', spec }), pod('b', { ip: '10.42.0.3', ready: false, spec }), pod('c', { spec }), pod('d', { ip: '10.42.0.4', deleting: true, node: 'n2', spec })];
  const slices = desiredSlices('web', serviceBackends(svc, pods));
  const ports = [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }];
  assert.deepEqual(slices, [{
    name: `web-${templateHash(ports)}`,
    ports,
    endpoints: [
      { addresses: ['10.42.0.2'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } },
      { addresses: ['10.42.0.3'], conditions: { ready: false, serving: false, terminating: false }, targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
      // A terminating pod that still passes its readiness check: serving, not ready (Kubernetes' rule).
      { addresses: ['10.42.0.4'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'n2', targetRef: { kind: 'Pod', namespace: 'default', name: 'd', uid: 'uid-d' } },
    ],
  }]);
});

test('EndpointSlice: a Service without backends keeps one empty slice; more than 100 backends are cut into slices', () => {
  assert.deepEqual(desiredSlices('web', []), [{ name: `web-${templateHash([])}`, endpoints: [] }]);
  const many = Array.from({ length: MAX_ENDPOINTS_PER_SLICE + 5 }, (_, i) => pod(`p${i}`, { ip: `10.42.${Math.floor(i / 200)}.${(i % 200) + 2}`, spec }));
  const slices = desiredSlices('web', serviceBackends(svc, many));
  assert.deepEqual(slices.map((s) => s.endpoints.length), [MAX_ENDPOINTS_PER_SLICE, 5]);
  assert.equal(slices[1]!.name, `${slices[0]!.name}-1`);
});

test('EndpointSlice: pods whose named targetPort differs are in slices of their own port set', () => {
  const other = { containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: 8081 }] }] };
  const slices = desiredSlices('web', serviceBackends(svc, [pod('a', { ip: '10.42.0.2', spec }), pod('b', { ip: '10.42.0.3', spec: other })]));
  assert.deepEqual(slices.map((s) => [s.ports?.[0]?.port, s.endpoints.map((e) => e.addresses[0])]), [[8080, ['10.42.0.2']], [8081, ['10.42.0.3']]]);
});

function node(name: string, ip: string, port: number, ready = true): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'Unknown' }], addresses: [{ type: 'InternalIP', address: ip }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
  };
}

test('kubernetes Service: the Ready boards\' API addresses, one slice per API port; LoadBalancer ingress: the boards\' addresses', () => {
  const nodes = [node('b', '192.168.1.12', 6443), node('a', '192.168.1.11', 6443), node('c', '192.168.1.13', 6443, false), node('d', '192.168.1.14', 7443)];
  const servers = apiServers(nodes);
  assert.deepEqual(apiSubsets(servers), [
    { addresses: [{ ip: '192.168.1.11', nodeName: 'a' }, { ip: '192.168.1.12', nodeName: 'b' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] },
    { addresses: [{ ip: '192.168.1.14', nodeName: 'd' }], ports: [{ name: 'https', port: 7443, protocol: 'TCP' }] },
  ]);
  assert.deepEqual(apiSlices(servers).map((s) => [s.name, s.endpoints.map((e) => e.addresses[0])]), [['kubernetes', ['192.168.1.11', '192.168.1.12']], ['kubernetes-7443', ['192.168.1.14']]]);
  assert.deepEqual(loadBalancerIngress(nodes), [{ ip: '192.168.1.11', ipMode: 'VIP' }, { ip: '192.168.1.12', ipMode: 'VIP' }, { ip: '192.168.1.14', ipMode: 'VIP' }]);
});

test('hostname: a pod with spec.hostname whose spec.subdomain names the Service carries it in both views; another subdomain does not', () => {
  const named = (name: string, ip: string, subdomain: string) => pod(name, { ip, spec: { ...spec, hostname: name, subdomain } });
  const pods = [named('web-0', '10.42.0.2', 'web'), named('db-0', '10.42.0.3', 'db')];
  const endpoints = desiredSlices('web', serviceBackends(svc, pods))[0]!.endpoints;
  assert.deepEqual(endpoints.map((e) => [e.addresses[0], e.hostname]), [['10.42.0.2', 'web-0'], ['10.42.0.3', undefined]]);
  const addresses = endpointSubsets(svc, pods)[0]!.addresses ?? [];
  assert.deepEqual(addresses.map((a) => [a.ip, a.hostname]), [['10.42.0.2', 'web-0'], ['10.42.0.3', undefined]]);
});
