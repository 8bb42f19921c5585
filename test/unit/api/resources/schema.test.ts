import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { applyDefaults, findByKind, prepareForCreate, unknownFields, validateCreate, type KubeObject, type ResourceInfo } from '../../../../src/api/resources/index.ts';
import { CONFIGMAP, NGINX_DEPLOYMENT, PI_JOB, SERVICE } from '../../../lib/docs-manifests.ts';

const load = (text: string): { info: ResourceInfo; obj: KubeObject } => {
  const obj = parse(text) as KubeObject;
  const info = findByKind(obj.apiVersion, obj.kind);
  assert.ok(info);
  return { info, obj };
};

/** A pod using most of what a course manifest writes: probes, env sources, volumes, resources, scheduling. */
const RICH_POD = `apiVersion: v1
kind: Pod
metadata:
  name: rich
  namespace: default
  labels: { app: web }
  annotations: { note: "x" }
spec:
  nodeSelector: { kubernetes.io/arch: arm64 }
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{ key: disk, operator: In, values: [ssd] }]
  tolerations: [{ key: pi, operator: Exists, effect: NoSchedule }]
  securityContext: { runAsUser: 1000, fsGroup: 2000 }
  serviceAccountName: default
  terminationGracePeriodSeconds: 10
  initContainers:
  - name: init
    image: busybox:1.36
    command: ["sh", "-c", "echo hi"]
  containers:
  - name: web
    image: nginx:1.27
    imagePullPolicy: IfNotPresent
    args: ["-g", "daemon off;"]
    workingDir: /srv
    ports: [{ name: http, containerPort: 80, protocol: TCP }]
    env:
    - { name: MODE, value: prod }
    - name: POD_IP
      valueFrom: { fieldRef: { fieldPath: status.podIP } }
    - name: PASSWORD
      valueFrom: { secretKeyRef: { name: db, key: password, optional: true } }
    envFrom: [{ configMapRef: { name: settings }, prefix: CFG_ }]
    resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { cpu: 500m, memory: 128Mi } }
    livenessProbe: { httpGet: { path: /healthz, port: http }, initialDelaySeconds: 3, periodSeconds: 5 }
    readinessProbe: { tcpSocket: { port: 80 } }
    startupProbe: { exec: { command: [cat, /tmp/ready] }, failureThreshold: 30 }
    lifecycle: { preStop: { exec: { command: [sleep, "5"] } } }
    securityContext: { readOnlyRootFilesystem: true }
    volumeMounts:
    - { name: config, mountPath: /etc/web, readOnly: true }
    - { name: cache, mountPath: /cache }
    - { name: host, mountPath: /host/log, subPath: nginx }
  volumes:
  - name: config
    configMap: { name: settings, items: [{ key: nginx.conf, path: nginx.conf }], defaultMode: 420 }
  - { name: cache, emptyDir: { medium: Memory, sizeLimit: 64Mi } }
  - { name: host, hostPath: { path: /var/log, type: Directory } }
  - { name: creds, secret: { secretName: db } }
`;

test('schema: manifests from the docs and a rich pod declare only known fields, before and after the server adds its own', () => {
  for (const text of [NGINX_DEPLOYMENT, SERVICE, CONFIGMAP, PI_JOB, RICH_POD]) {
    const { info, obj } = load(text);
    obj.metadata.namespace = 'default';
    assert.deepEqual(unknownFields(info, obj), [], `${obj.kind} as written`);
    const stored = prepareForCreate(info, applyDefaults(info, obj), { uid: '0123456789abcdef', now: new Date('2026-11-23T08:00:00Z') });
    assert.deepEqual(unknownFields(info, stored), [], `${obj.kind} as stored`);
    assert.deepEqual(validateCreate(info, stored), [], `${obj.kind} valid`);
  }
});

test('schema: typos are reported with their full path', () => {
  const { info, obj } = load(NGINX_DEPLOYMENT);
  const spec = obj.spec as { replica?: number; template: { spec: { containers: Record<string, unknown>[] } } };
  spec.replica = 2;
  const c = spec.template.spec.containers[0];
  assert.ok(c);
  c.imagee = 'nginx';
  c.ports = [{ containerport: 80 }];
  (obj.metadata as Record<string, unknown>).label = { a: 'b' };
  obj.extra = true;
  assert.deepEqual(unknownFields(info, obj).sort(), [
    'extra', 'metadata.label', 'spec.replica', 'spec.template.spec.containers[0].imagee', 'spec.template.spec.containers[0].ports[0].containerport',
  ]);
  const svc = findByKind('v1', 'ConfigMap') as ResourceInfo;
  assert.deepEqual(unknownFields(svc, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, spec: {} }), ['spec']);
});

test('schema: fields of the wrong JSON type are reported once, with their path', async () => {
  const { typeErrors } = await import('../../../../src/api/resources/index.ts');
  const { info, obj } = load(NGINX_DEPLOYMENT);
  obj.metadata.namespace = 'default';
  obj.metadata.labels = ['app'] as unknown as Record<string, string>;
  const spec = obj.spec as Record<string, unknown>;
  spec.replicas = { n: 3 };
  (spec.template as { spec: Record<string, unknown> }).spec.containers = { name: 'nginx' };
  const want = [
    'metadata.labels: Invalid value: ["app"]: must be a map, not array',
    'spec.replicas: Invalid value: {"n":3}: must be a string, number or boolean, not object',
    'spec.template.spec.containers: Invalid value: {"name":"nginx"}: must be a list, not object',
  ];
  assert.deepEqual(typeErrors(info, obj).map((e) => `${e.field}: ${e.message}`), want);
  const all = validateCreate(info, obj).map((e) => `${e.field}: ${e.message}`);
  for (const w of want) assert.equal(all.filter((l) => l === w).length, 1, w);
  assert.equal(all.filter((l) => l.startsWith('metadata.labels:')).length, 1, 'not reported again by the label rules');
});
