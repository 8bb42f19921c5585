// EndpointSlice mirroring (pure parts): which Endpoints are a user's to mirror, and the slices copied
// from them: ready and not-ready addresses, one port set per subset, 100 endpoints per slice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENDPOINTS_MANAGED_LABEL, type KubeObject } from '../../../../src/client/index.ts';
import { mirroredSlices, mirrors, SKIP_MIRROR_LABEL } from '../../../../src/control/controllers/endpointslice-mirroring.ts';
import { templateHash } from '../../../../src/control/controllers/hash.ts';

const service = (selector?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'default' }, spec: { ports: [{ port: 5432 }], ...(selector ? { selector } : {}) } });
const endpoints = (labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'db', namespace: 'default', labels }, subsets: [] });

test('mirrored: a selector-less Service\'s hand-written Endpoints; not: a selector, ours, skip-mirror, either missing', () => {
  assert.equal(mirrors(service(), endpoints()), true);
  assert.equal(mirrors(service({ app: 'db' }), endpoints()), false);
  assert.equal(mirrors(service(), endpoints({ [ENDPOINTS_MANAGED_LABEL]: 'true' })), false);
  assert.equal(mirrors(service(), endpoints({ [SKIP_MIRROR_LABEL]: 'true' })), false);
  assert.equal(mirrors(undefined, endpoints()), false);
  assert.equal(mirrors(service(), undefined), false);
});

test('each subset is a slice of its port set; ready and not-ready addresses keep their condition; 250 addresses make 3 slices', () => {
  const ports = [{ name: '', port: 5432, protocol: 'TCP' }];
  const slices = mirroredSlices('db', [
    { addresses: [{ ip: '192.168.1.50', hostname: 'primary' }], notReadyAddresses: [{ ip: '192.168.1.51' }], ports: [{ port: 5432 }] },
  ]);
  assert.deepEqual(slices, [{
    name: `db-${templateHash(ports)}`,
    ports,
    endpoints: [
      { addresses: ['192.168.1.50'], conditions: { ready: true, serving: true, terminating: false }, hostname: 'primary' },
      { addresses: ['192.168.1.51'], conditions: { ready: false, serving: false, terminating: false } },
    ],
  }]);
  const many = mirroredSlices('db', [{ addresses: Array.from({ length: 250 }, (_, i) => ({ ip: `10.0.${Math.floor(i / 200)}.${i % 200}` })), ports: [{ port: 5432 }] }]);
  assert.deepEqual(many.map((s) => s.endpoints.length), [100, 100, 50]);
  assert.equal(new Set(many.map((s) => s.name)).size, 3);
  assert.deepEqual(mirroredSlices('db', []), []);
});
