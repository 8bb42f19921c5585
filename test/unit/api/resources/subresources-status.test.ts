import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  alreadyExists, applyScale, bindPod, conflict, findByKind, notFound, toScale, validateScale, type KubeObject, type ResourceInfo,
} from '../../../../src/api/resources/index.ts';

const PODS = findByKind('v1', 'Pod') as ResourceInfo;
const DEPLOY = findByKind('apps/v1', 'Deployment') as ResourceInfo;
const NOW = new Date('2026-11-23T08:00:00Z');

test('status: not found, already exists and conflict read as on Kubernetes', () => {
  assert.deepEqual(notFound(PODS, 'web'), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "web" not found', reason: 'NotFound', details: { name: 'web', kind: 'pods' }, code: 404 });
  assert.equal(alreadyExists(DEPLOY, 'web').message, 'deployments.apps "web" already exists');
  assert.equal(alreadyExists(DEPLOY, 'web').details?.group, 'apps');
  assert.equal(conflict(DEPLOY, 'web').message, 'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again');
  assert.equal(conflict(DEPLOY, 'web').code, 409);
});

test('scale: a deployment as autoscaling/v1 Scale and back', () => {
  const d: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', uid: 'u', resourceVersion: '7' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } } }, status: { replicas: 2 } };
  assert.deepEqual(toScale(d), { apiVersion: 'autoscaling/v1', kind: 'Scale',
    metadata: { name: 'web', namespace: 'default', uid: 'u', resourceVersion: '7', creationTimestamp: undefined },
    spec: { replicas: 3 }, status: { replicas: 2, selector: 'app=web' } });
  const scale = { ...toScale(d), spec: { replicas: 5 } };
  assert.deepEqual(validateScale(scale), []);
  assert.equal((applyScale(d, scale).spec as { replicas: number }).replicas, 5);
  assert.equal((d.spec as { replicas: number }).replicas, 3, 'input untouched');
  assert.deepEqual(validateScale({ ...scale, spec: { replicas: -1 } }).map((e) => `${e.field}: ${e.message}`), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
  assert.deepEqual(validateScale({ ...scale, spec: {} }).map((e) => e.message), ['Required value']);
});

test('binding: a pending pod gets its node; a bound or deleting pod is a conflict', () => {
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [] }, status: { phase: 'Pending' } };
  const binding: KubeObject = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'pi-2' } };
  const bound = bindPod(PODS, pod, binding, NOW);
  assert.equal(bound.kind, 'Pod');
  assert.equal(((bound as KubeObject).spec as { nodeName: string }).nodeName, 'pi-2');
  assert.deepEqual(((bound as KubeObject).status as { conditions: unknown[] }).conditions, [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-11-23T08:00:00Z' }]);
  const again = bindPod(PODS, bound as KubeObject, binding, NOW);
  assert.equal(again.kind, 'Status');
  assert.equal((again as { message: string }).message, 'Operation cannot be fulfilled on pods "p": pod p is already assigned to node "pi-2"');
  const deleting = bindPod(PODS, { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-11-23T07:59:00Z' } }, binding, NOW);
  assert.equal((deleting as { code: number }).code, 409);
  const noTarget = bindPod(PODS, pod, { ...binding, target: {} }, NOW);
  assert.equal((noTarget as { code: number }).code, 422);
});
