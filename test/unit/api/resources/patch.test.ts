import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import {
  applyDefaults, applyJsonPatch, applyMergePatch, applyStrategicMergePatch, findByKind, listStrategy, PatchError, validateCreate,
  type KubeObject, type ResourceInfo,
} from '../../../../src/api/resources/index.ts';
import { NGINX_DEPLOYMENT } from '../../../lib/docs-manifests.ts';

const DEPLOY = findByKind('apps/v1', 'Deployment') as ResourceInfo;
const POD = findByKind('v1', 'Pod') as ResourceInfo;
const SVC = findByKind('v1', 'Service') as ResourceInfo;

function deployment(): KubeObject {
  const d = parse(NGINX_DEPLOYMENT) as KubeObject;
  d.metadata.namespace = 'default';
  return applyDefaults(DEPLOY, d);
}

type Spec = { spec: { replicas: number; strategy: Record<string, unknown>; template: { spec: { containers: Record<string, unknown>[] } } } };
const podSpecOf = (o: unknown): { containers: Record<string, unknown>[] } => (o as Spec).spec.template.spec;

const isPatchError = (code: number, re: RegExp) => (e: unknown): boolean => e instanceof PatchError && e.code === code && re.test(e.message);

test('json patch: RFC 6902 operations, pointer escapes, append, atomic on failure', () => {
  const doc = { metadata: { labels: { 'app.kubernetes.io/name': 'web' } }, list: [1, 2, 3] };
  const out = applyJsonPatch(doc, [
    { op: 'add', path: '/list/-', value: 4 },
    { op: 'add', path: '/list/0', value: 0 },
    { op: 'remove', path: '/list/1' },
    { op: 'replace', path: '/metadata/labels/app.kubernetes.io~1name', value: 'api' },
    { op: 'copy', from: '/list', path: '/copy' },
    { op: 'move', from: '/copy', path: '/moved' },
    { op: 'test', path: '/moved/0', value: 0 },
  ]);
  assert.deepEqual(out, { metadata: { labels: { 'app.kubernetes.io/name': 'api' } }, list: [0, 2, 3, 4], moved: [0, 2, 3, 4] });
  assert.deepEqual(doc.list, [1, 2, 3], 'the input is not modified');
  assert.throws(() => applyJsonPatch(doc, [{ op: 'replace', path: '/list/0', value: 9 }, { op: 'test', path: '/list/0', value: 1 }]), isPatchError(422, /testing value \/list\/0 failed/));
  assert.deepEqual(doc.list, [1, 2, 3]);
  assert.throws(() => applyJsonPatch(doc, [{ op: 'remove', path: '/nope/x' }]), isPatchError(422, /doc is missing path: "\/nope\/x"/));
  assert.throws(() => applyJsonPatch(doc, [{ op: 'replace', path: '/absent', value: 1 }]), isPatchError(422, /missing key/));
  assert.throws(() => applyJsonPatch(doc, [{ op: 'add', path: '/list/7', value: 1 }]), isPatchError(422, /index out of range/));
  assert.throws(() => applyJsonPatch(doc, { op: 'add' }), isPatchError(400, /must be a JSON array/));
  assert.throws(() => applyJsonPatch(doc, [{ op: 'frob', path: '/a' }]), isPatchError(400, /Unexpected kind: frob/));
  assert.throws(() => applyJsonPatch(doc, [{ op: 'add', path: '/a' }]), isPatchError(400, /missing "value"/));
  assert.throws(() => applyJsonPatch(doc, [{ op: 'add', path: 'a', value: 1 }]), isPatchError(400, /must start with '\/'/));
});

test('merge patch: RFC 7386 semantics', () => {
  const doc = { title: 'Goodbye!', author: { givenName: 'John', familyName: 'Doe' }, tags: ['example', 'sample'], content: 'x' };
  const patch = { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] };
  assert.deepEqual(applyMergePatch(doc, patch), { title: 'Hello!', author: { givenName: 'John' }, tags: ['example'], content: 'x', phoneNumber: '+01-123-456-7890' });
  assert.deepEqual(applyMergePatch({ a: 'b' }, 'c'), 'c');
  assert.deepEqual(applyMergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
  assert.deepEqual(doc.author, { givenName: 'John', familyName: 'Doe' });
});

test('strategic merge: the patch of a second kubectl apply changes image and replicas, keeps the rest', () => {
  const d = deployment();
  const patch = {
    metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1"}\n' } },
    spec: { replicas: 2, template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ image: 'nginx:1.16.1', name: 'nginx' }] } } },
  };
  const out = applyStrategicMergePatch(DEPLOY, d, patch);
  assert.equal((out as unknown as Spec).spec.replicas, 2);
  const [c] = podSpecOf(out).containers;
  assert.equal(c?.image, 'nginx:1.16.1');
  assert.deepEqual(c?.ports, [{ containerPort: 80, protocol: 'TCP' }], 'the ports of the container are kept');
  assert.equal(c?.imagePullPolicy, 'IfNotPresent');
  assert.equal(out.metadata.labels?.app, 'nginx');
  assert.ok(out.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']);
  assert.deepEqual(validateCreate(DEPLOY, out), []);
});

test('strategic merge: containers, env and ports merge by key; $patch delete and $setElementOrder', () => {
  const d = deployment();
  const withTwo = applyStrategicMergePatch(DEPLOY, d, { spec: { template: { spec: {
    containers: [{ name: 'sidecar', image: 'busybox:1.36', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { name: 'nginx', ports: [{ containerPort: 443, protocol: 'TCP' }] }],
  } } } });
  assert.deepEqual(podSpecOf(withTwo).containers.map((c) => c.name), ['sidecar', 'nginx'], 'ordered as in the patch');
  assert.deepEqual(podSpecOf(withTwo).containers[1]?.ports, [{ containerPort: 443, protocol: 'TCP' }, { containerPort: 80, protocol: 'TCP' }], 'a new item goes first, as kubectl patch --local does');
  const reordered = applyStrategicMergePatch(DEPLOY, withTwo, { spec: { template: { spec: {
    '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'nginx' }],
    containers: [{ name: 'sidecar', '$setElementOrder/env': [{ name: 'A' }], env: [{ $patch: 'delete', name: 'B' }, { name: 'A', value: '10' }] }],
  } } } });
  assert.deepEqual(podSpecOf(reordered).containers.map((c) => c.name), ['sidecar', 'nginx']);
  assert.deepEqual(podSpecOf(reordered).containers[0]?.env, [{ name: 'A', value: '10' }]);
  const removed = applyStrategicMergePatch(DEPLOY, reordered, { spec: { template: { spec: {
    '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ $patch: 'delete', name: 'sidecar' }],
  } } } });
  assert.deepEqual(podSpecOf(removed).containers.map((c) => c.name), ['nginx']);
});

test('strategic merge: $retainKeys drops the old strategy, null deletes, $patch replace on a map and a list', () => {
  const d = deployment();
  const recreate = applyStrategicMergePatch(DEPLOY, d, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
  assert.deepEqual((recreate as unknown as Spec).spec.strategy, { type: 'Recreate' });
  assert.deepEqual(validateCreate(DEPLOY, recreate), []);
  const unlabeled = applyStrategicMergePatch(DEPLOY, d, { metadata: { labels: { app: null, tier: 'web' } } });
  assert.deepEqual(unlabeled.metadata.labels, { tier: 'web' });
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', finalizers: ['a/x', 'b/y'] },
    spec: { nodeSelector: { disk: 'ssd', arch: 'arm64' }, tolerations: [{ key: 'a', operator: 'Exists' }], containers: [{ name: 'c', image: 'x' }] } };
  const replaced = applyStrategicMergePatch(POD, pod, { spec: { nodeSelector: { $patch: 'replace', arch: 'amd64' } } });
  assert.deepEqual((replaced.spec as Record<string, unknown>).nodeSelector, { arch: 'amd64' });
  const listReplaced = applyStrategicMergePatch(POD, pod, { spec: { containers: [{ $patch: 'replace' }, { name: 'd', image: 'y' }] } });
  assert.deepEqual((listReplaced.spec as Record<string, unknown>).containers, [{ name: 'd', image: 'y' }]);
  const tolerations = applyStrategicMergePatch(POD, pod, { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } });
  assert.deepEqual((tolerations.spec as Record<string, unknown>).tolerations, [{ key: 'b', operator: 'Exists' }], 'tolerations are atomic: replaced');
  const fin = applyStrategicMergePatch(POD, pod, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a/x'], finalizers: ['c/z'] } });
  assert.deepEqual(fin.metadata.finalizers, ['c/z', 'b/y'], 'values the original lacked come first');
});

test('strategic merge: service ports by port; errors for a missing merge key and unknown directives; no prototype pollution', () => {
  const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } };
  const out = applyStrategicMergePatch(SVC, svc, { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443, targetPort: 8443 }] } });
  assert.deepEqual((out.spec as Record<string, unknown>).ports, [{ port: 80, targetPort: 9090, protocol: 'TCP' }, { port: 443, targetPort: 8443 }]);
  assert.throws(() => applyStrategicMergePatch(SVC, svc, { spec: { ports: [{ targetPort: 1 }] } }), isPatchError(422, /does not contain declared merge key: port/));
  assert.throws(() => applyStrategicMergePatch(SVC, svc, { spec: { $patch: 'explode' } }), isPatchError(400, /Unknown patch type: explode at spec/));
  assert.throws(() => applyStrategicMergePatch(SVC, svc, { spec: { $frob: 1 } }), isPatchError(400, /unknown directive "\$frob"/));
  assert.throws(() => applyStrategicMergePatch(SVC, svc, [1]), isPatchError(400, /must be a JSON object/));
  const evil = JSON.parse('{"metadata":{"__proto__":{"polluted":true}}}') as unknown;
  const safe = applyStrategicMergePatch(SVC, svc, evil);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(safe.metadata), Object.prototype);
  const merged = applyMergePatch(svc, evil);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(merged.metadata), Object.prototype);
});

test('strategic merge: list strategies of our types', () => {
  assert.deepEqual(listStrategy(DEPLOY, ['spec', 'template', 'spec', 'containers']), { mergeKey: 'name' });
  assert.deepEqual(listStrategy(DEPLOY, ['spec', 'template', 'spec', 'initContainers', 'volumeMounts']), { mergeKey: 'mountPath' });
  assert.deepEqual(listStrategy(POD, ['spec', 'containers', 'ports']), { mergeKey: 'containerPort' });
  assert.deepEqual(listStrategy(POD, ['spec', 'volumes']), { mergeKey: 'name' });
  assert.deepEqual(listStrategy(POD, ['status', 'conditions']), { mergeKey: 'type' });
  assert.equal(listStrategy(POD, ['spec', 'containers', 'command']), undefined);
  assert.equal(listStrategy(POD, ['spec', 'tolerations']), undefined);
  assert.equal(listStrategy(SVC, ['spec', 'containers']), undefined);
});

test('json patch: 22 copies that each double a 1 kB value are refused once they have added 3 MiB (they reached 4 GB and killed the process)', () => {
  const doc = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'x'.repeat(1000) } };
  const ops = Array.from({ length: 22 }, (_, i) => ({ op: 'copy', path: `/data/c${i}`, from: '/data' }));
  assert.throws(() => applyJsonPatch(doc, ops), (error: unknown) => error instanceof PatchError && error.code === 422 && error.message === 'Unable to complete the copy, the accumulated size increase of copy is 4152259, exceeding the limit 3145728');
  // Copies that add less than that apply.
  const patched = applyJsonPatch(doc, ops.slice(0, 5)) as unknown as { data: Record<string, unknown> };
  assert.equal(Object.keys(patched.data).length, 6);
});

test('json patch: more than 10 000 operations is a 413, as in Kubernetes', () => {
  const doc = { kind: 'ConfigMap', metadata: { name: 'x' } };
  const ops = Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/kind', value: 'ConfigMap' }));
  assert.throws(() => applyJsonPatch(doc, ops), (error: unknown) => error instanceof PatchError && error.code === 413 && error.message === 'The allowed maximum operations in a JSON patch is 10000, got 10001');
  assert.deepEqual(applyJsonPatch(doc, ops.slice(0, 10_000)), doc);
});

test('strategic merge: 33 000 containers and 33 000 finalizers (what fits in a body) merge by key, each found through an index', () => {
  const current = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', finalizers: ['f7', 'keep'] }, spec: { template: { spec: { containers: [{ name: 'c5', image: 'old' }, { name: 'server-only', image: 's' }] } } } } as unknown as KubeObject;
  const containers = Array.from({ length: 33_000 }, (_, i) => ({ name: `c${i}`, image: `i${i}` }));
  const finalizers = Array.from({ length: 33_000 }, (_, i) => `f${i}`);
  const merged = applyStrategicMergePatch(DEPLOY, current, { metadata: { finalizers }, spec: { template: { spec: { containers } } } }) as unknown as { metadata: { finalizers: string[] }; spec: { template: { spec: { containers: { name: string; image: string }[] } } } };
  const names = merged.spec.template.spec.containers.map((c) => c.name);
  assert.equal(names.length, 33_001);
  // The patch's order; the server-only container stays after c5, which it followed: here, at the end.
  assert.deepEqual(names.slice(0, 3), ['c0', 'c1', 'c2']);
  assert.equal(names[33_000], 'server-only');
  assert.equal(merged.spec.template.spec.containers[5]?.image, 'i5');
  assert.equal(merged.metadata.finalizers.length, 33_001);
  assert.deepEqual(new Set(merged.metadata.finalizers).size, 33_001);
});

test('strategic merge: $deleteFromPrimitiveList and $retainKeys of 30 000 entries against 30 000 are found through a Set', () => {
  const finalizers = Array.from({ length: 30_000 }, (_, i) => `f${i}`);
  const labels = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`l${i}`, 'v']));
  const current = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', finalizers, labels } } as unknown as KubeObject;
  const patch = {
    metadata: {
      '$deleteFromPrimitiveList/finalizers': finalizers.filter((_, i) => i % 2 === 0),
      labels: { $retainKeys: Object.keys(labels).filter((_, i) => i % 3 === 0) },
    },
  };
  const merged = applyStrategicMergePatch(DEPLOY, current, patch) as unknown as { metadata: { finalizers: string[]; labels: Record<string, string> } };
  assert.equal(merged.metadata.finalizers.length, 15_000);
  assert.equal(merged.metadata.finalizers[0], 'f1');
  assert.equal(Object.keys(merged.metadata.labels).length, 10_000);
  assert.equal(merged.metadata.labels['l3'], 'v');
});
