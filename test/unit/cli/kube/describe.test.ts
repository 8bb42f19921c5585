import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeObject } from '../../../../src/cli/kube/describe.ts';

describe('bramble describe pages', () => {
  test('a pod: kubectl layout, containers with state, conditions, events', () => {
    const page = describeObject(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'default', labels: { run: 'web', app: 'x' } },
        spec: { nodeName: 'pi-1', serviceAccountName: 'default', containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
        status: { phase: 'Running', podIP: '10.88.0.5', hostIP: '192.168.1.20', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'web', ready: true, restartCount: 2, state: { running: { startedAt: '2026-11-23T07:00:00Z' } } }] },
      },
      [{ type: 'Normal', reason: 'Started', lastTimestamp: '2026-11-23T07:00:00Z', source: { component: 'kubelet' }, message: 'Started container web' }],
    );
    const lines = page.split('\n');
    assert.equal(lines[0], 'Name:         web');
    assert.equal(lines[1], 'Namespace:    default');
    assert.equal(lines[2], 'Labels:       app=x');
    assert.equal(lines[3], '              run=web');
    assert.equal(lines[4], 'Annotations:  <none>');
    assert.ok(lines.includes('Node:             pi-1/192.168.1.20'), page);
    assert.ok(lines.includes('Status:           Running'));
    assert.ok(lines.includes('    Image:          nginx:1.27'), page);
    assert.ok(lines.includes('    Port:           80/TCP'));
    assert.ok(lines.includes('    State:          Running'));
    assert.ok(lines.includes('    Restart Count:  2'));
    assert.ok(lines.includes('  Ready  True'), page);
    assert.ok(lines.includes('  Normal  Started  2026-11-23T07:00:00Z  kubelet  Started container web'), page);
  });

  test('a secret never shows its values, only their sizes', () => {
    const page = describeObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'a' }, type: 'Opaque', data: { password: Buffer.from('hunter22').toString('base64') } }, []);
    assert.match(page, /Data\n====\npassword: {2}8 bytes\n/);
    assert.ok(!page.includes('hunter22') && !page.includes(Buffer.from('hunter22').toString('base64')));
    assert.match(page, /Events: {2}<none>/);
  });

  test('other kinds: spec and status as nested fields; no events section when the server could not list them', () => {
    const page = describeObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'a' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } } }, status: { readyReplicas: 3 } }, undefined);
    assert.match(page, /Spec:\n {2}replicas: {2}3\n {2}selector:\n {4}matchLabels:\n {6}app: {2}web\nStatus:\n {2}readyReplicas: {2}3\n$/);
    assert.ok(!page.includes('Events'));
  });
});
