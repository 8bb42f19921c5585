// DaemonSet, Job, garbage collector, namespace and Endpoints decisions from given states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../../src/client/index.ts';
import { planDaemonSet, REVISION_HASH, targetNode } from '../../../../src/control/controllers/daemonset.ts';
import { planJob } from '../../../../src/control/controllers/job.ts';
import { judgeDependent, judgeOwner } from '../../../../src/control/controllers/garbage-collector.ts';
import { finishNamespace } from '../../../../src/control/controllers/namespace.ts';
import { endpointSubsets } from '../../../../src/control/controllers/endpoints.ts';
import { templateHash } from '../../../../src/control/controllers/hash.ts';
import { pod } from '../../../lib/objects.ts';

const now = new Date('2026-12-01T12:00:00Z');
const node = (name: string, labels: Record<string, string> = {}, taints: object[] = []): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { taints } });

const dsTemplate = { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { role: 'worker' }, containers: [{ name: 'c', image: 'i' }] } };
const ds: KubeObject = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default', uid: 'ds1', generation: 1 }, spec: { template: dsTemplate } };
const hash = templateHash(dsTemplate);

test('DaemonSet: one pod per eligible node, pinned by metadata.name affinity; taints need tolerations; misplaced pods go', () => {
  const nodes = [node('a', { role: 'worker' }), node('b', { role: 'worker' }), node('c', {}), node('d', { role: 'worker' }, [{ key: 'gpu', effect: 'NoSchedule' }]), node('e', { role: 'worker' }, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }])];
  const onA = pod('agent-a', { node: 'a', labels: { [REVISION_HASH]: hash } });
  const onC = pod('agent-c', { node: 'c', labels: { [REVISION_HASH]: hash } });
  const plan = planDaemonSet(ds, nodes, [onA, onC], now);
  assert.deepEqual(plan.create.map((c) => c.nodeName), ['b', 'e'], 'the unreachable taint is tolerated by every DaemonSet pod, gpu is not');
  assert.equal(targetNode(plan.create[0]!.pod), 'b');
  assert.equal(plan.create[0]!.pod.metadata.labels?.[REVISION_HASH], hash);
  assert.deepEqual(plan.delete.map((p) => p.metadata.name), ['agent-c']);
  assert.deepEqual(plan.status, { desiredNumberScheduled: 3, currentNumberScheduled: 1, numberMisscheduled: 1, numberReady: 1, numberAvailable: 1, updatedNumberScheduled: 1, observedGeneration: 1, numberUnavailable: 2 });
});

test('DaemonSet: a new template replaces one node at a time (maxUnavailable 1)', () => {
  const nodes = [node('a', { role: 'worker' }), node('b', { role: 'worker' })];
  const old = (n: string) => pod(`agent-${n}`, { node: n, labels: { [REVISION_HASH]: 'old' } });
  const plan = planDaemonSet(ds, nodes, [old('a'), old('b')], now);
  assert.deepEqual(plan.delete.map((p) => p.metadata.name), ['agent-a']);
  assert.deepEqual(plan.create, []);
});

const job = (spec: object, status: object = {}): KubeObject => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default', uid: 'j1' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [] } }, ...spec }, status });

test('Job: runs parallelism pods up to the completions still needed', () => {
  assert.equal(planJob(job({ completions: 5, parallelism: 2 }), [], now).create, 2);
  assert.equal(planJob(job({ completions: 5, parallelism: 2 }), [pod('a', { phase: 'Succeeded' }), pod('b', { phase: 'Succeeded' }), pod('c', { phase: 'Succeeded' }), pod('d', { phase: 'Succeeded' }), pod('e')], now).create, 0);
  const p = planJob(job({ completions: 3, parallelism: 3 }), [pod('a', { phase: 'Succeeded' }), pod('b')], now);
  assert.equal(p.create, 1);
  assert.deepEqual([p.status.active, p.status.succeeded, p.status.startTime], [1, 1, '2026-12-01T12:00:00Z']);
});

test('Job: Complete when completions succeed; Failed past backoffLimit or the active deadline', () => {
  const done = planJob(job({ completions: 2 }), [pod('a', { phase: 'Succeeded' }), pod('b', { phase: 'Succeeded' })], now);
  assert.deepEqual((done.status.conditions ?? []).map((c) => [c.type, c.status]), [['SuccessCriteriaMet', 'True'], ['Complete', 'True']]);
  assert.equal(done.status.completionTime, '2026-12-01T12:00:00Z');
  const failed = planJob(job({ backoffLimit: 1 }), [pod('a', { phase: 'Failed' }), pod('b', { phase: 'Failed' }), pod('c')], now);
  assert.deepEqual((failed.status.conditions ?? []).filter((c) => c.type === 'Failed').map((c) => c.reason), ['BackoffLimitExceeded']);
  assert.deepEqual(failed.delete.map((p) => p.metadata.name), ['c']);
  assert.equal(failed.create, 0);
  const late = planJob(job({ activeDeadlineSeconds: 60 }, { startTime: '2026-12-01T11:58:00Z' }), [pod('a')], now);
  assert.deepEqual((late.status.conditions ?? []).filter((c) => c.type === 'Failed').map((c) => c.reason), ['DeadlineExceeded']);
  const early = planJob(job({ activeDeadlineSeconds: 600 }, { startTime: '2026-12-01T11:58:00Z' }), [pod('a')], now);
  assert.equal(early.recheckMs, 480_000);
});

test('garbage collector: dependents of gone owners are deleted, dangling refs dropped, orphan/foreground owners handled', () => {
  const dep = (refs: string[]): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ownerReferences: refs.map((uid) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid })) } });
  assert.deepEqual(judgeDependent(dep(['a']), new Map([['a', 'gone']])), { action: 'delete', propagationPolicy: 'Background' });
  assert.deepEqual(judgeDependent(dep(['a']), new Map([['a', 'deletingForeground']])), { action: 'delete', propagationPolicy: 'Foreground' });
  assert.deepEqual(judgeDependent(dep(['a', 'b']), new Map([['a', 'gone'], ['b', 'alive']])), { action: 'dropRefs', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'b', uid: 'b' }] });
  assert.deepEqual(judgeDependent(dep(['a']), new Map([['a', 'alive']])), { action: 'keep' });
  const owner = (finalizers: string[], deleting = true): KubeObject => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', uid: 'a', finalizers, ...(deleting ? { deletionTimestamp: '2026-12-01T12:00:00Z' } : {}) } });
  assert.equal(judgeOwner(owner(['orphan']), [dep(['a'])]).action, 'orphan');
  assert.deepEqual(judgeOwner(owner(['orphan']), []), { action: 'removeFinalizer', finalizer: 'orphan' });
  assert.equal(judgeOwner(owner(['foregroundDeletion']), [dep(['a'])]).action, 'deleteDependents');
  assert.deepEqual(judgeOwner(owner(['foregroundDeletion']), []), { action: 'removeFinalizer', finalizer: 'foregroundDeletion' });
  assert.deepEqual(judgeOwner(owner([], false), [dep(['a'])]), { action: 'none' });
});

test('namespace: finalized once empty, else a status naming what remains', () => {
  const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'class', deletionTimestamp: '2026-12-01T12:00:00Z' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Terminating' } };
  assert.deepEqual(finishNamespace(ns, new Map([['pods', 0], ['configmaps', 0]]), now).finalize?.['spec'], { finalizers: [] });
  const waiting = finishNamespace(ns, new Map([['pods', 2], ['configmaps', 0]]), now);
  assert.equal(waiting.finalize, undefined);
  assert.match(String((waiting.status?.['conditions'] as { message: string }[])[0]?.message), /pods has 2 resource instances/);
});

test('Endpoints: ready pods in addresses, others in notReadyAddresses, named targetPort resolved', () => {
  const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };
  const spec = { containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: 8080 }] }] };
  const subsets = endpointSubsets(svc, [pod('a', { ip: '10.0.0.2', node: 'n1', spec }), pod('b', { ip: '10.0.0.3', ready: false, spec }), pod('c', { spec }), pod('d', { ip: '10.0.0.4', deleting: true, spec }), pod('e', { ip: '10.0.0.5' })]);
  assert.deepEqual(subsets, [{ ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], addresses: [{ ip: '10.0.0.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }], notReadyAddresses: [{ ip: '10.0.0.3', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } }] }]);
});
