import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findByKind, humanDuration, toTable, type KubeObject, type ResourceInfo } from '../../../../src/api/resources/index.ts';

const NOW = new Date('2026-11-23T08:00:00Z');
const info = (apiVersion: string, kind: string): ResourceInfo => findByKind(apiVersion, kind) as ResourceInfo;
const names = (t: { columnDefinitions: { name: string; priority: number }[] }, priority?: number): string[] =>
  t.columnDefinitions.filter((c) => priority === undefined || c.priority === priority).map((c) => c.name);

test('table: kubectl age format', () => {
  const cases: [number, string][] = [[-5000, '<invalid>'], [-500, '0s'], [0, '0s'], [45_000, '45s'], [119_000, '119s'], [200_000, '3m20s'],
    [300_000, '5m'], [45 * 60_000, '45m'], [3 * 3600_000 + 5 * 60_000, '3h5m'], [5 * 3600_000, '5h'], [20 * 3600_000, '20h'],
    [3 * 86400_000 + 4 * 3600_000, '3d4h'], [12 * 86400_000, '12d'], [800 * 86400_000, '2y70d'], [3000 * 86400_000, '8y']];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('table: pods show NAME READY STATUS RESTARTS AGE, wide adds IP NODE NOMINATED NODE READINESS GATES', () => {
  const running: KubeObject = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default', creationTimestamp: '2026-11-23T07:55:00Z' },
    spec: { nodeName: 'pi-3', containers: [{ name: 'a' }, { name: 'b' }] },
    status: { phase: 'Running', podIP: '10.42.3.7', containerStatuses: [
      { name: 'a', ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { finishedAt: '2026-11-23T07:58:00Z' } } },
      { name: 'b', ready: false, restartCount: 0, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
  };
  const pending: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', creationTimestamp: '2026-11-23T07:59:30Z' },
    spec: { containers: [{ name: 'a' }], initContainers: [{ name: 'i' }] }, status: { phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { running: {} } }] } };
  const done: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'job-x', namespace: 'default', creationTimestamp: '2026-11-23T07:00:00Z' },
    spec: { containers: [{ name: 'a' }] }, status: { phase: 'Succeeded', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } };
  const deleting: KubeObject = { ...running, metadata: { ...running.metadata, name: 'old', deletionTimestamp: '2026-11-23T07:59:59Z' } };
  const t = toTable(info('v1', 'Pod'), [running, pending, done, deleting], { now: NOW });
  assert.deepEqual(names(t, 0), ['Name', 'Ready', 'Status', 'Restarts', 'Age']);
  assert.deepEqual(names(t, 1), ['IP', 'Node', 'Nominated Node', 'Readiness Gates']);
  assert.deepEqual(t.rows.map((r) => r.cells), [
    ['web-1', '1/2', 'CrashLoopBackOff', '2 (2m ago)', '5m', '10.42.3.7', 'pi-3', '<none>', '<none>'],
    ['p', '0/1', 'Init:0/1', '0', '30s', '<none>', '<none>', '<none>', '<none>'],
    ['job-x', '0/1', 'Completed', '0', '60m', '<none>', '<none>', '<none>', '<none>'],
    ['old', '1/2', 'Terminating', '2 (2m ago)', '5m', '10.42.3.7', 'pi-3', '<none>', '<none>'],
  ]);
  assert.deepEqual(t.rows[2]?.conditions?.[0]?.type, 'Completed');
  assert.deepEqual(t.rows[0]?.object, { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: running.metadata });
  const narrow = toTable(info('v1', 'Pod'), [running], { now: NOW, wide: false, includeObject: 'None' });
  assert.equal(narrow.rows[0]?.cells.length, 5);
  assert.equal(narrow.rows[0]?.object, undefined);
  assert.equal(toTable(info('v1', 'Pod'), [running], { now: NOW, includeObject: 'Object' }).rows[0]?.object, running);
});

test('table: nodes, services, deployments, jobs, configmaps, bindings, events', () => {
  const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi-1', creationTimestamp: '2026-11-20T08:00:00Z', labels: { 'node-role.kubernetes.io/control-plane': '' } },
    spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '192.168.1.10' }],
      nodeInfo: { kubeletVersion: 'v1.32.0-bramble', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.6.31-v8+', containerRuntimeVersion: 'docker://24.0.5' } } };
  assert.deepEqual(toTable(info('v1', 'Node'), [node], { now: NOW }).rows[0]?.cells,
    ['pi-1', 'Ready,SchedulingDisabled', 'control-plane', '3d', 'v1.32.0-bramble', '192.168.1.10', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.6.31-v8+', 'docker://24.0.5']);
  const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', creationTimestamp: '2026-11-23T06:00:00Z' },
    spec: { type: 'NodePort', clusterIP: '10.96.0.12', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { tier: 'fe', app: 'web' } } };
  const svcTable = toTable(info('v1', 'Service'), [svc], { now: NOW });
  assert.deepEqual(names(svcTable), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
  assert.deepEqual(svcTable.rows[0]?.cells, ['web', 'NodePort', '10.96.0.12', '<none>', '80:30080/TCP,53/UDP', '120m', 'app=web,tier=fe']);
  const deploy: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx', creationTimestamp: '2026-11-23T07:59:00Z' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'nginx' } }, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.14.2' }] } } },
    status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } };
  const dt = toTable(info('apps/v1', 'Deployment'), [deploy], { now: NOW });
  assert.deepEqual(names(dt), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
  assert.deepEqual(dt.rows[0]?.cells, ['nginx', '2/3', 3, 2, '60s', 'nginx', 'nginx:1.14.2', 'app=nginx']);
  const job: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', creationTimestamp: '2026-11-23T07:50:00Z' },
    spec: { completions: 1, parallelism: 1, template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34.0' }] } } },
    status: { succeeded: 1, startTime: '2026-11-23T07:50:00Z', completionTime: '2026-11-23T07:50:42Z', conditions: [{ type: 'Complete', status: 'True' }] } };
  assert.deepEqual(toTable(info('batch/v1', 'Job'), [job], { now: NOW, wide: false }).rows[0]?.cells, ['pi', 'Complete', '1/1', '42s', '10m']);
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'game-demo', creationTimestamp: '2026-11-23T08:00:00Z' }, data: { a: '1', b: '2' }, binaryData: { c: 'eA==' } };
  assert.deepEqual(toTable(info('v1', 'ConfigMap'), [cm], { now: NOW }).rows[0]?.cells, ['game-demo', 3, '0s']);
  const rb: KubeObject = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'students', namespace: 'alice', creationTimestamp: '2026-11-23T08:00:00Z' },
    roleRef: { kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'ci' }] };
  assert.deepEqual(toTable(info('rbac.authorization.k8s.io/v1', 'RoleBinding'), [rb], { now: NOW }).rows[0]?.cells, ['students', 'ClusterRole/edit', '0s', 'alice', '', 'alice/ci']);
  const ev: KubeObject = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'web-1.17', namespace: 'default' }, type: 'Warning', reason: 'BackOff',
    involvedObject: { kind: 'Pod', name: 'web-1' }, message: 'Back-off restarting failed container', lastTimestamp: '2026-11-23T07:59:00Z', count: 4 };
  const et = toTable(info('v1', 'Event'), [ev], { now: NOW, wide: false });
  assert.deepEqual(names(et), ['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
  assert.deepEqual(et.rows[0]?.cells, ['60s', 'Warning', 'BackOff', 'pod/web-1', 'Back-off restarting failed container']);
  const metrics = toTable(info('metrics.k8s.io/v1beta1', 'NodeMetrics'), [{ apiVersion: 'metrics.k8s.io/v1beta1', kind: 'NodeMetrics', metadata: { name: 'pi-1', creationTimestamp: '2026-11-23T08:00:00Z' } }], { now: NOW });
  assert.deepEqual(names(metrics), ['Name', 'Created At']);
});
