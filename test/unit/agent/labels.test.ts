import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerName, podLabels, podOfLabels } from '../../../src/agent/runtime/labels.ts';

test('pod labels round trip and container names are valid Docker names that carry the node', () => {
  const pod = { uid: '0f8e2c1a-1111-2222-3333-444455556666', namespace: 'kube-system', name: 'dns.v1' };
  assert.deepEqual(podOfLabels(podLabels('pi-1', 'container', pod)), pod);
  const name = containerName('pi-1', pod, 'app', 3);
  assert.equal(name, 'bramble_pi-1_kube-system_dns.v1_app_3_0f8e2c1a');
  assert.match(name, /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
  assert.notEqual(containerName('pi-2', pod, 'app', 3), name, 'two nodes on one engine never collide');
  assert.match(containerName('pi-1', { ...pod, name: 'weird/name with spaces' }, 'c', 0), /^[a-zA-Z0-9_.-]+$/);
});
