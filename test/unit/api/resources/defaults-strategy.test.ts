import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import {
  applyDefaults, defaultPullPolicy, findByKind, prepareForCreate, prepareForUpdate, validateCreate, validateUpdate, type KubeObject, type ResourceInfo,
} from '../../../../src/api/resources/index.ts';
import { CONFIGMAP, NGINX_DEPLOYMENT, PI_JOB, SERVICE } from '../../../lib/docs-manifests.ts';

const NOW = new Date('2026-11-23T07:30:00.123Z');
const UID = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

function load(text: string): { info: ResourceInfo; obj: KubeObject } {
  const obj = parse(text) as KubeObject;
  obj.metadata.namespace = 'default';
  const info = findByKind(obj.apiVersion, obj.kind);
  assert.ok(info);
  return { info, obj };
}

/** What the server does on create: defaults, system fields, then validation. */
function create(text: string): { info: ResourceInfo; stored: KubeObject } {
  const { info, obj } = load(text);
  const stored = prepareForCreate(info, applyDefaults(info, obj), { uid: UID, now: NOW });
  assert.deepEqual(validateCreate(info, stored), [], `${obj.kind} from the docs must validate clean`);
  return { info, stored };
}

test('defaults: manifests from the Kubernetes docs validate clean after defaulting', () => {
  for (const m of [NGINX_DEPLOYMENT, SERVICE, CONFIGMAP, PI_JOB]) create(m);
});

test('defaults: deployment gets Kubernetes defaults down to its containers', () => {
  const { stored } = create(NGINX_DEPLOYMENT);
  const spec = stored.spec as Record<string, unknown>;
  assert.equal(spec.replicas, 3);
  assert.deepEqual(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(spec.revisionHistoryLimit, 10);
  assert.equal(spec.progressDeadlineSeconds, 600);
  const podSpec = (spec.template as { spec: Record<string, unknown> }).spec;
  assert.equal(podSpec.restartPolicy, 'Always');
  assert.equal(podSpec.dnsPolicy, 'ClusterFirst');
  assert.equal(podSpec.terminationGracePeriodSeconds, 30);
  assert.equal(podSpec.schedulerName, 'default-scheduler');
  assert.deepEqual((podSpec.containers as unknown[])[0], {
    name: 'nginx', image: 'nginx:1.14.2', ports: [{ containerPort: 80, protocol: 'TCP' }], imagePullPolicy: 'IfNotPresent',
    terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {},
  });
  assert.deepEqual(stored.metadata, { name: 'nginx-deployment', namespace: 'default', labels: { app: 'nginx' }, uid: UID, creationTimestamp: '2026-11-23T07:30:00Z', generation: 1 });
  assert.deepEqual(stored.status, {});
});

test('defaults: service targetPort, type, session affinity; secret type; job completions and selector', () => {
  const { stored: svc } = create(SERVICE);
  const s = svc.spec as Record<string, unknown>;
  assert.equal(s.type, 'ClusterIP');
  assert.equal(s.sessionAffinity, 'None');
  assert.deepEqual(s.ports, [{ protocol: 'TCP', port: 80, targetPort: 9376 }]);
  const noTarget = applyDefaults(findByKind('v1', 'Service') as ResourceInfo, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { ports: [{ port: 8080 }] } });
  assert.deepEqual((noTarget.spec as { ports: unknown[] }).ports, [{ port: 8080, protocol: 'TCP', targetPort: 8080 }]);
  assert.equal(applyDefaults(findByKind('v1', 'Secret') as ResourceInfo, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }).type, 'Opaque');
  const { stored: job } = create(PI_JOB);
  const j = job.spec as Record<string, unknown>;
  assert.equal(j.completions, 1);
  assert.equal(j.parallelism, 1);
  assert.equal(j.backoffLimit, 4);
  assert.deepEqual(j.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } });
  const tl = (j.template as { metadata: { labels: Record<string, string> } }).metadata.labels;
  assert.equal(tl['batch.kubernetes.io/job-name'], 'pi');
  assert.equal(tl['controller-uid'], UID);
});

test('defaults: input untouched, pull policy by tag, requests from limits', () => {
  const pods = findByKind('v1', 'Pod') as ResourceInfo;
  const input: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { limits: { cpu: '500m' } } }] } };
  const before = structuredClone(input);
  const out = applyDefaults(pods, input);
  assert.deepEqual(input, before);
  const c = (out.spec as { containers: Record<string, unknown>[] }).containers[0];
  assert.equal(c?.imagePullPolicy, 'Always');
  assert.deepEqual(c?.resources, { limits: { cpu: '500m' }, requests: { cpu: '500m' } });
  assert.equal(defaultPullPolicy('nginx:latest'), 'Always');
  assert.equal(defaultPullPolicy('registry.local:5000/nginx'), 'Always');
  assert.equal(defaultPullPolicy('registry.local:5000/nginx:1.27'), 'IfNotPresent');
  assert.equal(defaultPullPolicy('nginx@sha256:abcd'), 'IfNotPresent');
});

test('strategy: pod create sets Pending and QoS; generateName uses the uid', () => {
  const pods = findByKind('v1', 'Pod') as ResourceInfo;
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-', namespace: 'default', resourceVersion: '9', uid: 'client' },
    spec: { containers: [{ name: 'c', image: 'x:1', resources: { limits: { cpu: '1', memory: '1Gi' } } }] }, status: { phase: 'Running' } };
  const stored = prepareForCreate(pods, applyDefaults(pods, pod), { uid: UID, now: NOW });
  assert.match(stored.metadata.name ?? '', /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.equal(stored.metadata.uid, UID);
  assert.equal(stored.metadata.resourceVersion, undefined);
  assert.deepEqual(stored.status, { phase: 'Pending', qosClass: 'Guaranteed' });
  assert.deepEqual(validateCreate(pods, stored), []);
});

test('strategy: update keeps status and system metadata, bumps generation on spec change only', () => {
  const { info, stored } = create(NGINX_DEPLOYMENT);
  const withStatus: KubeObject = { ...stored, metadata: { ...stored.metadata, resourceVersion: '5' }, status: { replicas: 3, observedGeneration: 1 } };
  const labelsOnly = structuredClone(withStatus);
  labelsOnly.metadata.labels = { app: 'nginx', tier: 'web' };
  labelsOnly.metadata.uid = 'forged';
  labelsOnly.status = { replicas: 99 };
  const a = prepareForUpdate(info, labelsOnly, withStatus);
  assert.equal(a.metadata.generation, 1);
  assert.equal(a.metadata.uid, UID);
  assert.deepEqual(a.status, { replicas: 3, observedGeneration: 1 });
  assert.deepEqual(a.metadata.labels, { app: 'nginx', tier: 'web' });
  const scaled = structuredClone(withStatus);
  (scaled.spec as { replicas: number }).replicas = 5;
  const b = prepareForUpdate(info, scaled, withStatus);
  assert.equal(b.metadata.generation, 2);
  assert.deepEqual(validateUpdate(info, b, withStatus), []);
  const statusWrite = structuredClone(scaled);
  statusWrite.status = { replicas: 3, readyReplicas: 3 };
  const c = prepareForUpdate(info, statusWrite, withStatus, 'status');
  assert.equal((c.spec as { replicas: number }).replicas, 3, 'a status write cannot change the spec');
  assert.deepEqual(c.status, { replicas: 3, readyReplicas: 3 });
  assert.equal(c.metadata.generation, 1);
});

test('strategy: a service replace without clusterIP keeps the allocated one', () => {
  const { info, stored } = create(SERVICE);
  (stored.spec as Record<string, unknown>).clusterIP = '10.96.0.10';
  const replace = load(SERVICE).obj;
  const updated = prepareForUpdate(info, applyDefaults(info, replace), stored);
  assert.equal((updated.spec as Record<string, unknown>).clusterIP, '10.96.0.10');
  assert.deepEqual(validateUpdate(info, updated, stored), []);
});
