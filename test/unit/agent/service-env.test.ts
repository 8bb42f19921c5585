// The kubelet's Service environment variables (pkg/kubelet/envvars): names, order, which Services.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { staticConfigSource } from '../../../src/agent/pods/config-sources.ts';
import { resolveEnv } from '../../../src/agent/pods/env.ts';
import { envVarName, serviceEnvVars, servicesForPod } from '../../../src/agent/pods/service-env.ts';
import type { Pod, Service } from '../../../src/client/index.ts';

function svc(namespace: string, name: string, clusterIP: string, ports: Array<{ name?: string; port: number; protocol?: 'TCP' | 'UDP' }>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, uid: `uid-${name}`, creationTimestamp: '', resourceVersion: '1' }, spec: { clusterIP, ports } } as Service;
}

function pod(namespace: string, enableServiceLinks?: boolean): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace, uid: 'u' }, spec: { containers: [{ name: 'c', image: 'i' }], ...(enableServiceLinks === undefined ? {} : { enableServiceLinks }) } } as Pod;
}

const kubernetes = svc('default', 'kubernetes', '10.43.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]);
const web = svc('shop', 'web-front', '10.43.12.7', [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns-udp', port: 53, protocol: 'UDP' }]);
const headless = svc('shop', 'db', 'None', [{ port: 5432 }]);
const other = svc('elsewhere', 'cache', '10.43.5.5', [{ port: 6379 }]);

test('names: dots and dashes become underscores, upper case, a leading digit gets a _', () => {
  assert.equal(envVarName('web-front.v2'), 'WEB_FRONT_V2');
  assert.equal(envVarName('3d'), '_3D');
});

test('a Service\'s variables, exactly as the kubelet writes them', () => {
  assert.deepEqual(serviceEnvVars([web]), [
    { name: 'WEB_FRONT_SERVICE_HOST', value: '10.43.12.7' },
    { name: 'WEB_FRONT_SERVICE_PORT', value: '80' },
    { name: 'WEB_FRONT_SERVICE_PORT_HTTP', value: '80' },
    { name: 'WEB_FRONT_SERVICE_PORT_DNS_UDP', value: '53' },
    { name: 'WEB_FRONT_PORT', value: 'tcp://10.43.12.7:80' },
    { name: 'WEB_FRONT_PORT_80_TCP', value: 'tcp://10.43.12.7:80' },
    { name: 'WEB_FRONT_PORT_80_TCP_PROTO', value: 'tcp' },
    { name: 'WEB_FRONT_PORT_80_TCP_PORT', value: '80' },
    { name: 'WEB_FRONT_PORT_80_TCP_ADDR', value: '10.43.12.7' },
    { name: 'WEB_FRONT_PORT_53_UDP', value: 'udp://10.43.12.7:53' },
    { name: 'WEB_FRONT_PORT_53_UDP_PROTO', value: 'udp' },
    { name: 'WEB_FRONT_PORT_53_UDP_PORT', value: '53' },
    { name: 'WEB_FRONT_PORT_53_UDP_ADDR', value: '10.43.12.7' },
  ]);
});

test('which Services: the pod\'s namespace with a cluster IP, plus kubernetes always; enableServiceLinks: false keeps only kubernetes', () => {
  const all = [kubernetes, web, headless, other];
  assert.deepEqual(servicesForPod(pod('shop'), all).map((s) => s.metadata.name), ['kubernetes', 'web-front']);
  assert.deepEqual(servicesForPod(pod('shop', false), all).map((s) => s.metadata.name), ['kubernetes']);
  // A Service named kubernetes in the pod's own namespace wins over default's.
  const own = svc('shop', 'kubernetes', '10.43.9.9', [{ port: 8443 }]);
  assert.deepEqual(servicesForPod(pod('shop'), [kubernetes, own]).map((s) => s.spec?.clusterIP), ['10.43.9.9']);
});

test('the container\'s own variables win; $(VAR) may name a Service variable', async () => {
  const env = await resolveEnv(pod('shop'), { name: 'c', image: 'i', env: [{ name: 'WEB_FRONT_SERVICE_PORT', value: '8080' }, { name: 'URL', value: 'http://$(WEB_FRONT_SERVICE_HOST)/' }] }, staticConfigSource({}), { podIP: null, hostIP: 'h', nodeName: 'n' }, serviceEnvVars([web]));
  const map = new Map(env.map((e) => [e.name, e.value]));
  assert.equal(map.get('WEB_FRONT_SERVICE_PORT'), '8080');
  assert.equal(map.get('URL'), 'http://10.43.12.7/');
  assert.equal(map.get('WEB_FRONT_PORT_80_TCP_ADDR'), '10.43.12.7');
  assert.equal(env.filter((e) => e.name === 'WEB_FRONT_SERVICE_PORT').length, 1);
});
