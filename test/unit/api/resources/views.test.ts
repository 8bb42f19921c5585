// The typed views: a stored object (defaulted, prepared and validated as the registry does) is
// accepted as its kind with its typed fields readable; another kind or a shape validation would
// have refused is an error, not a silent cast.
import test from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults, asDeployment, asNode, asPod, findByKind, prepareForCreate, validateCreate, ViewError, type KubeObject } from '../../../../src/api/resources/index.ts';

const NOW = new Date('2026-12-07T10:00:00Z');

function stored(obj: KubeObject): KubeObject {
  const info = findByKind(obj.apiVersion, obj.kind);
  assert.ok(info);
  const out = prepareForCreate(info, applyDefaults(info, obj), { uid: 'u-1', now: NOW });
  assert.deepEqual(validateCreate(info, out), []);
  return out;
}

test('asPod: a stored pod reads as a Pod with its defaulted fields', () => {
  const pod = asPod(stored({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } }));
  assert.equal(pod.metadata.uid, 'u-1');
  assert.equal(pod.spec.restartPolicy, 'Always');
  assert.equal(pod.spec.schedulerName, 'default-scheduler');
  assert.equal(pod.spec.containers[0]?.ports?.[0]?.protocol, 'TCP');
  assert.equal(pod.status?.phase, 'Pending');
});

test('asDeployment and asNode: defaulted fields typed', () => {
  const d = asDeployment(stored({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } }));
  assert.equal(d.spec?.replicas, 1);
  assert.equal(d.spec?.strategy?.rollingUpdate?.maxSurge, '25%');
  assert.equal(d.spec?.template?.spec?.containers[0]?.imagePullPolicy, 'Always');
  const n = asNode(stored({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi1' }, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } }));
  assert.equal(n.spec?.taints?.[0]?.effect, 'NoSchedule');
});

test('a view of another kind, or of a pod without containers, throws ViewError', () => {
  const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi1' } };
  assert.throws(() => asPod(node), ViewError);
  assert.throws(() => asDeployment(node), /not a Deployment \(Node \/pi1\): kind is Node/);
  assert.throws(() => asPod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} }), /spec.containers is not a list/);
  assert.throws(() => asNode({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'p' }, spec: 'x' }), /spec is not an object/);
});
